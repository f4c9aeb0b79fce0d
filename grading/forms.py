"""The upload form of a notebook submission, and the wording of an event's certificates."""

from django import forms

from grading.certificates import PLACEHOLDERS, unknown_placeholders
from grading.models import CertificateWording, Submission


class SubmissionForm(forms.Form):
    notebook = forms.FileField(label="Notebook (.ipynb)", widget=forms.ClearableFileInput(attrs={"accept": ".ipynb"}))
    kind = forms.ChoiceField(choices=Submission.Kind.choices, initial=Submission.Kind.GRADED, widget=forms.HiddenInput)
    share_notebook = forms.BooleanField(
        required=False,
        label="After the deadline, the organizers may show this notebook, with my name, to the event's participants",
    )


class CertificateWordingForm(forms.ModelForm):
    """The words of an event's certificates; the main text may use only the placeholders certificates fill."""

    class Meta:
        model = CertificateWording
        fields = ["text", "attended", "submitted", "baseline", "reference", "signed_by"]
        labels = {
            "text": "Main text",
            "attended": "An exercise of the person's group without a submission",
            "submitted": "An exercise with a submission",
            "baseline": "An exercise whose baseline the person reached",
            "reference": "An exercise whose reference score the person reached",
            "signed_by": "Signed by",
        }
        help_texts = {"attended": ""}
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        try:
            unknown = unknown_placeholders(text)
        except ValueError:
            raise forms.ValidationError(
                "A brace is not closed: write placeholders as {name}, and a literal brace as {{ or }}."
            ) from None
        if unknown:
            allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
            raise forms.ValidationError(f"Certificates cannot fill {', '.join(unknown)}; use only {allowed}.")
        return text
