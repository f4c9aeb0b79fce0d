"""What the API shows of events, registrations, exercises and submissions, and what it reads from uploads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from exercises.models import Exercise
from grading import gpu_budget, selectors, services
from grading.models import Submission
from grading.permissions import VisibleResult, sees_private_results, visible_result
from grading.pictures import STATES as PICTURE_STATES
from hackathon import permissions
from hackathon.deadlines import Deadline, deadline_for
from hackathon.models import Event, EventExercise, Registration


def _absolute(context: dict[str, Any], path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


class EventSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The event's page on the site.")
    my_roles = serializers.SerializerMethodField(help_text="The caller's roles: organizer, tutor, participant.")

    class Meta:
        model = Event
        fields = [
            "slug",
            "title",
            "description",
            "level",
            "mode",
            "venue",
            "starts_on",
            "ends_on",
            "registration_opens_at",
            "registration_closes_at",
            "compute",
            "jupyterhub_url",
            "url",
            "my_roles",
        ]

    def get_url(self, event: Event) -> str:
        return _absolute(self.context, event.get_absolute_url())

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_my_roles(self, event: Event) -> list[str]:
        return sorted(permissions.roles_in(self.context["request"].user, event))


class RegistrationSerializer(serializers.ModelSerializer):
    event = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    event_title = serializers.CharField(source="event.title", read_only=True)
    group = serializers.SerializerMethodField(help_text="The number of the participant's group, once assigned.")

    class Meta:
        model = Registration
        fields = ["event", "event_title", "status", "created_at", "offer_expires_at", "group"]

    def get_group(self, registration: Registration) -> int | None:
        return registration.group.number if registration.group_id else None


class ExerciseSerializer(serializers.ModelSerializer):
    labels = serializers.SerializerMethodField(help_text="The exercise's labels, by dimension.")
    url = serializers.SerializerMethodField(help_text="The exercise's page in the catalog.")

    class Meta:
        model = Exercise
        fields = ["slug", "title", "summary", "levels", "labels", "metric", "direction", "device", "url"]

    @extend_schema_field(serializers.DictField(child=serializers.ListField(child=serializers.CharField())))
    def get_labels(self, exercise: Exercise) -> dict[str, list[str]]:
        labels: dict[str, list[str]] = {}
        for label in exercise.labels.all():
            labels.setdefault(label.dimension, []).append(label.name)
        return labels

    def get_url(self, exercise: Exercise) -> str:
        return _absolute(self.context, reverse("exercises:exercise_detail", kwargs={"slug": exercise.slug}))


class ExerciseDetailSerializer(ExerciseSerializer):
    class Meta(ExerciseSerializer.Meta):
        fields = [
            *ExerciseSerializer.Meta.fields,
            "description",
            "secondary_metrics",
            "output_kind",
            "wall_seconds",
            "memory_mb",
        ]


class LastSubmissionSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The submission's page, with the executed notebook.")

    class Meta:
        model = Submission
        fields = ["uid", "kind", "status", "score", "created_at", "url"]

    def get_url(self, submission: Submission) -> str:
        return _absolute(self.context, submission.get_absolute_url())


class GpuBudgetSerializer(serializers.Serializer):
    limit_seconds = serializers.IntegerField()
    used_seconds = serializers.FloatField(help_text="Settled runs, and runs waiting or in progress at their limit.")
    remaining_seconds = serializers.FloatField()
    shared_with_group = serializers.BooleanField()
    renews_at = serializers.DateTimeField()


class EventExerciseSerializer(serializers.ModelSerializer):
    exercise = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    title = serializers.CharField(source="exercise.title", read_only=True)
    metric = serializers.CharField(source="exercise.metric", read_only=True)
    direction = serializers.CharField(source="exercise.direction", read_only=True)
    is_open = serializers.SerializerMethodField(
        help_text="Whether it takes submissions from the caller now (an extension of theirs counts)."
    )
    closes_for_me = serializers.SerializerMethodField(
        help_text="When submissions close for the caller: closes_at, or the end of their extension."
    )
    extended = serializers.SerializerMethodField(help_text="Whether the caller has an extension past closes_at.")
    deadline = serializers.SerializerMethodField(
        help_text="When submissions close for the caller, in words and in their time zone (Preferences), with a "
        'countdown in the last hour: "Submissions close on 30 Nov 2026 at 18:00 (Europe/Rome): 42 min left".'
    )
    time_zone = serializers.SerializerMethodField(help_text="The caller's time zone, in which `deadline` is written.")
    window = serializers.SerializerMethodField(
        help_text='Where the submission window stands: "Opens on ...", "Open until ..." or "Closed on ...".'
    )
    per_day = serializers.SerializerMethodField(help_text="Graded submissions allowed per day.")
    remaining_today = serializers.SerializerMethodField(help_text="Graded submissions the caller has left today.")
    download_url = serializers.SerializerMethodField(help_text="The released notebook and public data, as a zip.")
    best_score = serializers.SerializerMethodField(
        help_text="The caller's best public score among their scored graded submissions, or null."
    )
    last_submission = serializers.SerializerMethodField(
        help_text="The caller's latest submission (graded or check): uid, kind, status, score, created_at; or null."
    )
    jupyterhub_link = serializers.SerializerMethodField(
        help_text="Opens the exercise on the event's JupyterHub (fetched into the person's server); empty if none."
    )
    gpu_budget = serializers.SerializerMethodField(
        help_text="For a GPU exercise of an event with a daily GPU budget: the caller's (or their group's) GPU "
        "seconds today (limit, used, remaining, shared with the group, renews_at); null otherwise."
    )

    class Meta:
        model = EventExercise
        fields = [
            "exercise",
            "title",
            "metric",
            "direction",
            "opens_at",
            "closes_at",
            "is_open",
            "window",
            "closes_for_me",
            "extended",
            "deadline",
            "time_zone",
            "per_day",
            "remaining_today",
            "download_url",
            "best_score",
            "last_submission",
            "jupyterhub_link",
            "gpu_budget",
        ]

    def _deadline(self, event_exercise: EventExercise) -> Deadline:
        found: dict[int, Deadline] = self.context.setdefault("deadlines", {})
        if event_exercise.pk not in found:
            found[event_exercise.pk] = deadline_for(event_exercise, self.context["request"].user)
        return found[event_exercise.pk]

    def get_is_open(self, event_exercise: EventExercise) -> bool:
        return self._deadline(event_exercise).is_open()

    def get_closes_for_me(self, event_exercise: EventExercise) -> dt.datetime:
        return self._deadline(event_exercise).closes_at

    def get_extended(self, event_exercise: EventExercise) -> bool:
        return self._deadline(event_exercise).extended

    def get_deadline(self, event_exercise: EventExercise) -> str:
        deadline = self._deadline(event_exercise)
        countdown = deadline.countdown()
        return f"{deadline.text()}: {countdown}" if countdown else deadline.text()

    def get_time_zone(self, event_exercise: EventExercise) -> str:
        return str(self._deadline(event_exercise).zone)

    def get_window(self, event_exercise: EventExercise) -> str:
        return event_exercise.window_text()

    def get_per_day(self, event_exercise: EventExercise) -> int:
        return services.submissions_per_day(event_exercise)

    def get_remaining_today(self, event_exercise: EventExercise) -> int:
        return services.remaining_today(participant=self.context["request"].user, event_exercise=event_exercise)

    @extend_schema_field(GpuBudgetSerializer(allow_null=True))
    def get_gpu_budget(self, event_exercise: EventExercise) -> dict[str, object] | None:
        if event_exercise.exercise.queue != "gpu":
            return None
        budget = gpu_budget.gpu_budget(event=event_exercise.event, participant=self.context["request"].user)
        if budget is None:
            return None
        return {
            "limit_seconds": budget.limit_s,
            "used_seconds": round(budget.used_s, 1),
            "remaining_seconds": round(budget.remaining_s, 1),
            "shared_with_group": budget.per_group,
            "renews_at": budget.renews_at.isoformat(),
        }

    def get_download_url(self, event_exercise: EventExercise) -> str:
        path = reverse(
            "api:event_exercise_download",
            kwargs={"slug": event_exercise.event.slug, "exercise_slug": event_exercise.exercise.slug},
        )
        return _absolute(self.context, path)

    def get_best_score(self, event_exercise: EventExercise) -> float | None:
        return selectors.best_score(self.context["request"].user, event_exercise)

    @extend_schema_field(LastSubmissionSerializer(allow_null=True))
    def get_last_submission(self, event_exercise: EventExercise) -> dict[str, Any] | None:
        last = selectors.my_submissions(self.context["request"].user, event_exercise).first()
        return LastSubmissionSerializer(last, context=self.context).data if last is not None else None

    def get_jupyterhub_link(self, event_exercise: EventExercise) -> str:
        return event_exercise.jupyterhub_link()


class SubmissionSerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="event_exercise.event.slug", read_only=True)
    exercise = serializers.CharField(source="event_exercise.exercise.slug", read_only=True)
    metric = serializers.CharField(source="event_exercise.exercise.metric", read_only=True)
    participant = serializers.SerializerMethodField(help_text="Who sent it.")
    is_final = serializers.BooleanField(read_only=True, help_text="Whether the result is in (scored, failed, invalid).")
    private_score = serializers.SerializerMethodField(help_text="On the private part; only organizers see it here.")
    secondary = serializers.SerializerMethodField(
        help_text="Secondary metrics by name; those on the private part (`*_private`) only for organizers."
    )
    queue_position = serializers.SerializerMethodField(
        help_text="Place in the order the workers take submissions, fair per participant (1 = next), while waiting."
    )
    estimated_wait_seconds = serializers.SerializerMethodField(help_text="Rough wait while queued.")
    pictures = serializers.SerializerMethodField(
        help_text="The feedback pictures on the submission's page: `drawing` while they are drawn after the score "
        "is stored (poll again), then `drawn`, or `failed` when they could not be drawn; `none` when there are none."
    )
    url = serializers.SerializerMethodField(help_text="The submission's page, with the executed notebook.")

    class Meta:
        model = Submission
        fields = [
            "uid",
            "event",
            "exercise",
            "metric",
            "participant",
            "kind",
            "share_notebook",
            "status",
            "is_final",
            "reason",
            "message",
            "score",
            "private_score",
            "secondary",
            "failed_cell",
            "traceback",
            "duration_s",
            "original_name",
            "created_at",
            "started_at",
            "finished_at",
            "queue_position",
            "estimated_wait_seconds",
            "pictures",
            "url",
        ]

    def get_participant(self, submission: Submission) -> str:
        person = submission.participant
        return person.get_full_name() or person.email or person.get_username()

    def _result(self, submission: Submission) -> VisibleResult:
        # The one rule every output asks (grading.permissions.visible_result), decided once per event and request.
        known: dict[int, bool] = self.context.setdefault("shows_private_by_event", {})
        event = submission.event_exercise.event
        if event.pk not in known:
            known[event.pk] = sees_private_results(self.context["request"].user, event)
        return visible_result(submission, self.context["request"].user, shows_private=known[event.pk])

    def get_private_score(self, submission: Submission) -> float | None:
        return self._result(submission).private_score

    @extend_schema_field(serializers.DictField(child=serializers.FloatField()))
    def get_secondary(self, submission: Submission) -> dict[str, float]:
        return self._result(submission).secondary

    def get_queue_position(self, submission: Submission) -> int | None:
        return selectors.queue_position(submission)

    def get_estimated_wait_seconds(self, submission: Submission) -> float | None:
        return selectors.estimated_wait_seconds(submission)

    @extend_schema_field(serializers.ChoiceField(choices=PICTURE_STATES))
    def get_pictures(self, submission: Submission) -> str:
        return submission.pictures_state

    def get_url(self, submission: Submission) -> str:
        return _absolute(self.context, submission.get_absolute_url())


class SubmissionSummarySerializer(SubmissionSerializer):
    """A submission in a list: everything but the traceback, which only its own answer carries.

    A list never loads a run's notebook, log or traceback from the database (grading.models.RESULT_FIELDS).
    """

    class Meta(SubmissionSerializer.Meta):
        fields = [name for name in SubmissionSerializer.Meta.fields if name != "traceback"]


class SubmissionUploadSerializer(serializers.Serializer):
    """A notebook to grade: which exercise, of which event (optional when only one fits), graded or a check."""

    exercise = serializers.SlugField(max_length=64, help_text="The exercise's slug, e.g. breast-cancer.")
    event = serializers.SlugField(
        max_length=80,
        required=False,
        help_text="The event's slug; leave it out when you take part in only one event with this exercise.",
    )
    kind = serializers.ChoiceField(
        choices=Submission.Kind.choices,
        default=Submission.Kind.GRADED,
        help_text="graded: scored on the hidden set, counts toward the daily quota; check: a free run on the "
        "public sample.",
    )
    notebook = serializers.FileField(help_text="The .ipynb file.", allow_empty_file=True)
    share_notebook = serializers.BooleanField(
        default=False,
        help_text="Whether the organizers may show this notebook, with its author's name, to the event's participants "
        "after the deadline "
        "(default false: a notebook without this consent is never released).",
    )


class SharingSerializer(serializers.Serializer):
    """The author's consent to share one of their notebooks after the deadline, given or withdrawn later."""

    share_notebook = serializers.BooleanField(
        help_text="true: the organizers may show this notebook, with its author's name, to the event's participants "
        "after the deadline (they choose which to release); false: stop sharing it, which also takes back its "
        "release if it was released."
    )
