"""Forms of the event pages: the event and its programme, registration, tutoring, CSV import, groups, feedback."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.conf import settings
from django.forms import inlineformset_factory
from django.utils.text import slugify

from exercises.models import Exercise, Label
from hackathon.models import (
    DEFAULT_CAPACITY,
    DEFAULT_GROUP_SIZE,
    DEFAULT_PARTICIPANTS_PER_TUTOR,
    STRUCTURES,
    Event,
    EventExercise,
    EventRole,
    Group,
    Preferences,
    Registration,
    Session,
)

MAX_CSV_BYTES = 2 * 1024 * 1024
# An id the database can hold: more digits overflow its integers, and the query fails instead of finding nothing.
ROW_ID = re.compile(r"[0-9]{1,18}")


class RowsChoiceField(forms.ModelMultipleChoiceField):
    """A choice of several rows by id that refuses an id no database integer holds before it reaches a query."""

    def clean(self, value: Any) -> Any:
        for pk in value if isinstance(value, list | tuple) else []:
            if not ROW_ID.fullmatch(str(pk)):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": str(pk)[:20]}
                )
        return super().clean(value)


class EventForm(forms.ModelForm):
    """What an organizer sets for an event; capacity and tutor ratio default by level when left empty."""

    exercises = RowsChoiceField(
        queryset=Exercise.objects.filter(published=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The use cases the event opens. A newly ticked one takes submissions over the event's dates; "
        "change its window below after saving.",
    )

    class Meta:
        model = Event
        fields = [
            "title",
            "slug",
            "description",
            "level",
            "mode",
            "venue",
            "starts_on",
            "ends_on",
            "programme_hours",
            "registration_opens_at",
            "registration_closes_at",
            "capacity",
            "participants_per_tutor",
            "group_size",
            "compute",
            "gpu_seconds_per_day",
            "gpu_budget_per",
            "needs_approval",
            "has_waiting_list",
            "requires_prerequisite",
            "published",
            "jupyterhub_url",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
            "registration_opens_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "registration_closes_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        # Django would derive "Gpu seconds per day" from the field's name.
        labels = {"gpu_seconds_per_day": "GPU-seconds per day", "gpu_budget_per": "GPU budget per"}
        help_texts = {
            "capacity": "Leave empty for the level's default: 60 base, 30 advanced.",
            "participants_per_tutor": "Leave empty for the level's default: 5 base, 1 advanced.",
            "gpu_seconds_per_day": "GPU-seconds each participant or group may use per day; leave empty for no limit.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("capacity", "participants_per_tutor", "group_size", "gpu_budget_per"):
            self.fields[name].required = False
        if self.instance.pk:
            self.fields["exercises"].initial = [ee.exercise_id for ee in self.instance.event_exercises.all()]
        else:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = "The event's address; leave empty to derive it from the title."

    # How the page lays the fields out: the fields of one row sit side by side when the screen is wide enough.
    LAYOUT = (
        ("title", "slug"),
        ("description",),
        ("level", "mode", "compute"),
        ("venue",),
        ("starts_on", "ends_on", "programme_hours"),
        ("registration_opens_at", "registration_closes_at"),
        ("capacity", "participants_per_tutor", "group_size"),
        ("needs_approval", "has_waiting_list"),
        ("requires_prerequisite", "published"),
        ("jupyterhub_url",),
    )
    RENDERED_APART = ("exercises",)

    def layout(self) -> list[list[forms.BoundField]]:
        """Rows of fields for the page: LAYOUT first, then any field it does not name, one a row (none is lost)."""
        listed = {name for row in self.LAYOUT for name in row} | set(self.RENDERED_APART)
        rest = [(name,) for name in self.fields if name not in listed]
        return [[self[name] for name in row] for row in (*self.LAYOUT, *rest)]

    def clean_slug(self) -> str:
        slug = self.cleaned_data.get("slug") or ""
        if slug or self.instance.pk:
            return slug
        base = slugify(self.data.get(self.add_prefix("title"), ""))[:70] or "event"
        slug, n = base, 1
        while Event.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        return slug

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        level = data.get("level") or Event.Level.BASE
        for name, defaults in (
            ("capacity", DEFAULT_CAPACITY),
            ("participants_per_tutor", DEFAULT_PARTICIPANTS_PER_TUTOR),
            ("group_size", DEFAULT_GROUP_SIZE),
        ):
            if not data.get(name):
                data[name] = defaults[level]
        data["gpu_budget_per"] = data.get("gpu_budget_per") or Event.GpuBudgetPer.PARTICIPANT
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The event must end on or after the day it starts.")
        opens, closes = data.get("registration_opens_at"), data.get("registration_closes_at")
        if opens and closes and closes <= opens:
            self.add_error("registration_closes_at", "Registration must close after it opens.")
        if data.get("mode") == Event.Mode.IN_PERSON and not data.get("venue"):
            self.add_error("venue", "An in-person event needs a venue.")
        return data


class SessionForm(forms.ModelForm):
    class Meta:
        model = Session
        fields = ["day", "starts_at", "ends_at", "kind", "title", "speaker"]
        widgets = {
            "day": forms.DateInput(attrs={"type": "date"}),
            "starts_at": forms.TimeInput(attrs={"type": "time"}),
            "ends_at": forms.TimeInput(attrs={"type": "time"}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        event = self.instance.event if self.instance.event_id else None
        day = data.get("day")
        if event and day and not (event.starts_on <= day <= event.ends_on):
            self.add_error("day", f"Choose a day of the event, {event.starts_on:%d %b} to {event.ends_on:%d %b %Y}.")
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "A session must end after it starts.")
        return data


ProgrammeFormSet = inlineformset_factory(Event, Session, form=SessionForm, extra=3, can_delete=True)


class ExerciseWindowForm(forms.ModelForm):
    """When one attached exercise takes submissions, and how many a day."""

    class Meta:
        model = EventExercise
        fields = ["opens_at", "closes_at", "submissions_per_day"]
        widgets = {
            "opens_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "closes_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }
        labels = {"opens_at": "Opens at", "closes_at": "Closes at", "submissions_per_day": "Submissions a day"}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "An exercise must close after it opens.")
        return data


ExerciseWindowFormSet = inlineformset_factory(Event, EventExercise, form=ExerciseWindowForm, extra=0, can_delete=False)


class RegistrationForm(forms.Form):
    """The registration questions; the use cases are ranked with one choice per rank.

    The person's names come first, filled in from their account: organizers and boards show them.
    """

    first_name = forms.CharField(max_length=150, label="First name")
    last_name = forms.CharField(max_length=150, label="Last name")
    affiliation = forms.ChoiceField(choices=STRUCTURES, label="Affiliation (INFN structure)")
    affiliation_other = forms.CharField(
        required=False, max_length=200, label="Institution, if other", help_text="Fill in when you chose Other."
    )
    career_stage = forms.ChoiceField(choices=Registration.CareerStage.choices, label="Career stage")
    ml_experience = forms.ChoiceField(choices=Registration.Experience.choices, label="Machine-learning experience")

    def __init__(self, *args: Any, event: Event, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["first_name"].initial = user.first_name
            self.fields["last_name"].initial = user.last_name
        self.use_cases = list(event.event_exercises.select_related("exercise").order_by("exercise__title"))
        choices = [("", "—")] + [(str(ee.pk), ee.exercise.title) for ee in self.use_cases]
        for rank in range(1, len(self.use_cases) + 1):
            self.fields[f"choice_{rank}"] = forms.ChoiceField(
                choices=choices, required=rank == 1, label=f"Use case, choice {rank}"
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("affiliation") == "other" and not data.get("affiliation_other", "").strip():
            self.add_error("affiliation_other", "Write the name of your institution.")
        picked = [data.get(f"choice_{rank}") for rank in range(1, len(self.use_cases) + 1)]
        picked = [p for p in picked if p]
        if len(set(picked)) != len(picked):
            raise forms.ValidationError("Choose each use case at most once in your ranking.")
        data["ranking"] = tuple(int(p) for p in picked)
        return data


class TutorProfileForm(forms.Form):
    expertise = RowsChoiceField(
        queryset=Label.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The knowledge-base labels you can teach.",
    )
    available_days = forms.MultipleChoiceField(
        choices=[], required=False, widget=forms.CheckboxSelectMultiple, label="Days you can help"
    )
    max_groups = forms.IntegerField(min_value=0, max_value=10, initial=1, label="Groups you can follow")

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        days = [event.starts_on + dt.timedelta(days=i) for i in range((event.ends_on - event.starts_on).days + 1)]
        self.fields["available_days"].choices = [(d.isoformat(), f"{d:%A %d %b}") for d in days]

    def clean_available_days(self) -> list[dt.date]:
        return [dt.date.fromisoformat(d) for d in self.cleaned_data["available_days"]]


class ImportForm(forms.Form):
    """A CSV upload; the dry run's page sends the same text back, with confirm, to apply it."""

    file = forms.FileField(
        required=False, label="Registrants CSV", help_text="Columns: name, email, affiliation (Indico export)."
    )
    text = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if not upload:
            return ""
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError("The file is larger than 2 MB; is it really the registrants' CSV?")
        raw = upload.read()
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
        raise forms.ValidationError("The file is not text; export the registrants as CSV.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["csv"] = data.get("file") or data.get("text") or ""
        if not data["csv"] and not self.errors:
            raise forms.ValidationError("Choose the CSV file to import.")
        return data


class MoveParticipantForm(forms.Form):
    registration = forms.ModelChoiceField(queryset=Registration.objects.none(), label="Participant")
    group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, label="To group")

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["registration"].queryset = event.registrations.filter(
            status=Registration.Status.CONFIRMED
        ).select_related("user")
        self.fields["registration"].label_from_instance = lambda r: r.person_name
        self.fields["group"].queryset = event.groups.select_related("event_exercise__exercise")
        self.fields["group"].empty_label = "No group"


class MoveTutorForm(forms.Form):
    tutor = forms.ChoiceField(label="Tutor")
    from_group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, label="From group")
    to_group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, label="To group")

    def __init__(self, *args: Any, event: Event, tutors: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tutors = {str(t.pk): t for t in tutors}
        self.fields["tutor"].choices = [(str(t.pk), t.get_full_name() or t.email) for t in tutors]
        groups = event.groups.select_related("event_exercise__exercise")
        for name in ("from_group", "to_group"):
            self.fields[name].queryset = groups
            self.fields[name].empty_label = "None"

    def clean_tutor(self) -> Any:
        return self.tutors[self.cleaned_data["tutor"]]


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)], coerce=int, widget=forms.RadioSelect, label="Overall rating"
    )
    went_well = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="What went well")
    suggestions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Suggestions for the next edition"
    )


class StaffInviteForm(forms.Form):
    email = forms.EmailField(label="Email address", help_text="An existing account gets the role at once.")
    role = forms.ChoiceField(choices=EventRole.Role.choices, initial=EventRole.Role.TUTOR, label="Role")


class SignupNamesForm(forms.Form):
    """The names allauth's sign-up asks for besides email and password: organizers and boards show them."""

    first_name = forms.CharField(max_length=150, label="First name")
    last_name = forms.CharField(max_length=150, label="Last name")

    field_order = ["first_name", "last_name"]

    def signup(self, request: Any, user: Any) -> None:
        user.first_name = self.cleaned_data["first_name"].strip()
        user.last_name = self.cleaned_data["last_name"].strip()
        user.save(update_fields=["first_name", "last_name"])


def _time_zone_choices() -> list[tuple[str, str]]:
    from zoneinfo import available_timezones

    site = ("", f"The site's own time zone ({settings.TIME_ZONE})")
    return [site] + [(name, name) for name in sorted(available_timezones())]


class PreferencesForm(forms.ModelForm):
    """A person's time zone and whether announcements come by email."""

    time_zone = forms.ChoiceField(
        choices=_time_zone_choices,
        required=False,
        help_text="Deadlines and countdowns on exercise pages, the API and hackathon-submit use this time zone.",
    )

    class Meta:
        model = Preferences
        fields = ["time_zone", "announcements_by_email"]
        labels = {"announcements_by_email": "Send me the announcements of my events by email too"}
        help_texts = {"announcements_by_email": "They show on your pages and in JupyterLab either way."}
