"""The form for uploading an exercise bundle as a zip."""

from django import forms


class BundleUploadForm(forms.Form):
    bundle = forms.FileField(
        label="Exercise bundle (.zip)",
        help_text="A zip of the exercise folder: manifest.toml, data.py, source.ipynb and baseline.ipynb.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip"}),
    )
