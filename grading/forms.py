"""The forms of grading's pages: a notebook's upload, an announcement, an extension, the wording of certificates."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from grading.certificates import PLACEHOLDERS, unknown_placeholders
from grading.models import CertificateWording, Submission
from hackathon.forms import RowsChoiceField
from hackathon.models import Announcement, Event, EventExercise, Group, Registration


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
        help_texts = {
            "attended": "",
            "reference": "The certificate writes the exercise's title after each of these four phrases: "
            "“reached the baseline score of Jet b-tagging at CMS …”.",
        }
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}

    # The exercise phrases are printed as they are, the exercise's title after them: a placeholder there (an
    # organizer tried "{exercise}") would reach every certificate as literal braces.
    PHRASES = ("attended", "submitted", "baseline", "reference")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in self.PHRASES:
            if "{" in cleaned.get(name, "") or "}" in cleaned.get(name, ""):
                self.add_error(
                    name,
                    "This phrase takes no placeholder: the certificate writes the exercise's title after it. "
                    "Remove the braces.",
                )
        return cleaned

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


class AnnouncementForm(forms.Form):
    """An announcement and its audience; tutors see only the audiences they may reach (their groups, an error)."""

    title = forms.CharField(max_length=Announcement.TITLE_MAX_CHARS)
    body = forms.CharField(
        label="Message",
        max_length=Announcement.BODY_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Markdown: **bold**, *italics*, `code`, [links](https://…), lists. HTML scripts are removed.",
    )
    audience = forms.ChoiceField(choices=Announcement.Audience.choices, widget=forms.RadioSelect)
    status = forms.ChoiceField(
        label="Registrants with the status",
        choices=[("", "—"), *Registration.Status.choices],
        required=False,
        help_text="For the audience “Registrants with a status”.",
    )
    groups = RowsChoiceField(
        queryset=Group.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For the audience “Some groups”.",
    )
    exercise = forms.ModelChoiceField(
        label="Participants of the exercise",
        queryset=EventExercise.objects.none(),
        required=False,
        help_text="For the audience “The participants of one exercise”: its groups and whoever submitted to it.",
    )
    error = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, event: Event, organizer: bool, viewer: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups = event.groups.select_related("event_exercise__exercise").order_by("number")
        self.fields["groups"].queryset = groups if organizer else groups.filter(tutors=viewer)
        self.fields["groups"].label_from_instance = lambda g: f"Group {g.number} — {g.event_exercise.exercise.title}"
        self.fields["exercise"].queryset = event.event_exercises.select_related("exercise")
        self.fields["exercise"].label_from_instance = lambda ee: ee.exercise.title
        if not organizer:
            reachable = (Announcement.Audience.GROUPS, Announcement.Audience.ERROR)
            self.fields["audience"].choices = [c for c in Announcement.Audience.choices if c[0] in reachable]
            del self.fields["status"], self.fields["exercise"]
        if self.initial.get("error") and not self.is_bound:
            # Opened from an error of the dashboard: its audience is the point, the other choices only distract.
            for name in ("status", "groups", "exercise"):
                self.fields.pop(name, None)
        if not (self.data.get("error") or self.initial.get("error")):
            self.fields["audience"].choices = [
                c for c in self.fields["audience"].choices if c[0] != Announcement.Audience.ERROR
            ]
        if len(self.fields["audience"].choices) == 1:  # a tutor's own groups: nothing to choose
            self.fields["audience"].initial = self.fields["audience"].choices[0][0]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        audience = data.get("audience")
        if audience == Announcement.Audience.STATUS and not data.get("status"):
            self.add_error("status", "Choose the registrants' status.")
        if audience == Announcement.Audience.GROUPS and not data.get("groups"):
            self.add_error("groups", "Choose at least one group.")
        if audience == Announcement.Audience.EXERCISE and not data.get("exercise"):
            self.add_error("exercise", "Choose the exercise.")
        if audience == Announcement.Audience.ERROR and not data.get("error"):
            self.add_error("audience", "Open this form from an error of the tutor dashboard to write to its audience.")
        return data


class ExtensionForm(forms.Form):
    """More time for one participant or one group on one exercise, with the reason kept in the log."""

    exercise = forms.ModelChoiceField(queryset=EventExercise.objects.none())
    participant = forms.ModelChoiceField(queryset=Registration.objects.none(), required=False, help_text="One person…")
    group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, help_text="…or a whole group.")
    until = forms.DateTimeField(
        label="Submissions close for them at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exercise"].queryset = event.event_exercises.select_related("exercise")
        self.fields["exercise"].label_from_instance = lambda ee: (
            f"{ee.exercise.title} (closes {timezone.localtime(ee.closes_at):%d %b %Y %H:%M})"
        )
        self.fields["participant"].queryset = (
            event.registrations.filter(status=Registration.Status.CONFIRMED)
            .select_related("user")
            .order_by("user__last_name", "user__first_name", "user__email")
        )
        self.fields["participant"].label_from_instance = lambda r: f"{r.person_name} <{r.user.email}>"
        self.fields["group"].queryset = event.groups.select_related("event_exercise__exercise").order_by("number")
        self.fields["group"].label_from_instance = lambda g: f"Group {g.number} — {g.event_exercise.exercise.title}"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get("participant")) == bool(data.get("group")):
            raise forms.ValidationError("Choose one participant or one group, not both.")
        return data
