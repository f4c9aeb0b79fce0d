"""The upload form of a notebook submission."""

from django import forms

from grading.models import Submission


class SubmissionForm(forms.Form):
    notebook = forms.FileField(label="Notebook (.ipynb)", widget=forms.ClearableFileInput(attrs={"accept": ".ipynb"}))
    kind = forms.ChoiceField(choices=Submission.Kind.choices, initial=Submission.Kind.GRADED, widget=forms.HiddenInput)
