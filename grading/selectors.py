"""Queries about submissions that pages read."""

from __future__ import annotations

import datetime as dt
import functools
import statistics
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Max, Min, Model, QuerySet
from django.http import Http404
from django.utils import timezone

from exercises.models import Exercise
from grading import dispatch
from grading.boards import Audience
from grading.models import Submission
from grading.permissions import audience_of, visible_submissions
from hackathon.models import Event, EventExercise, EventRole, Registration
from hackathon.permissions import AnyUser, Role


def get_visible_submission(user: AnyUser, uid: str, *, with_results: bool = False) -> Submission:
    """Return the submission if the person may open it; 404 otherwise, so others' submissions stay unseen.

    `with_results` loads the run's notebook, log and traceback too, for the one page that shows them.
    """
    submissions = Submission.objects.with_results() if with_results else Submission.objects.all()
    submission = (
        submissions.select_related("event_exercise__event", "event_exercise__exercise", "participant")
        .filter(uid=uid)
        .first()
    )
    if (
        submission is None
        or not visible_submissions(user, submission.event_exercise.event).filter(pk=submission.pk).exists()
    ):
        raise Http404("No such submission.")
    return submission


def get_open_event_exercise(event: Event, exercise_slug: str) -> EventExercise:
    """Return the event's exercise by slug, scoped through the event."""
    event_exercise = event.event_exercises.select_related("exercise").filter(exercise__slug=exercise_slug).first()
    if event_exercise is None:
        raise Http404("This event has no such exercise.")
    return event_exercise


def get_board_access(user: AnyUser, slug: str, exercise_slug: str) -> tuple[EventExercise, Audience]:
    """Return the event's exercise and how the person reads its boards, in one query; 404 for anyone outside.

    The rule is get_visible_event() then board_audience(): boards are for the event's participants, tutors and
    organizers (and site staff), and an unpublished event's only for its organizers (tests/boards/
    test_board_access.py holds the two to the same answers). Every browser in the room polls the boards, so the
    event, the exercise and the person's roles come from one hand-written query: the same through the ORM cost
    3 ms of CPU to build, most of a cached board's price. The event and the exercise carry the columns the board
    pages show and a board's computation reads; any other field loads on first use (a query each).
    """
    user_id = user.pk if user.is_authenticated else None
    params = [
        *(user_id, EventRole.Role.ORGANIZER, user_id, EventRole.Role.TUTOR),
        *(user_id, Registration.Status.CONFIRMED, slug, exercise_slug),
    ]
    row = next(iter(EventExercise.objects.raw(_board_access_sql(), params)), None)
    if row is None:
        raise Http404("Only the event's participants, tutors and organizers see its boards.")
    roles = {
        Role.ORGANIZER: bool(row.holds_organizer),
        Role.TUTOR: bool(row.holds_tutor),
        Role.PARTICIPANT: bool(row.holds_participant),
    }
    audience = audience_of(user, frozenset(role for role, held in roles.items() if held))
    published = bool(row.event_published)  # SQLite answers 0 or 1
    if audience is None or not (published or audience is Audience.ORGANIZER):
        raise Http404("Only the event's participants, tutors and organizers see its boards.")
    row.event = _partial(Event, id=row.event_id, slug=row.event_slug, title=row.event_title, published=published)
    row.exercise = _partial(
        Exercise,
        id=row.exercise_id,
        slug=row.exercise_slug,
        title=row.exercise_title,
        metric=row.exercise_metric,
        metric_display_name=row.exercise_metric_display_name,
        direction=row.exercise_direction,
        target_baseline=row.exercise_target_baseline,
        target_reference=row.exercise_target_reference,
    )
    return row, audience


@functools.cache
def _board_access_sql() -> str:
    """Return get_board_access's query: the table names come from this project's models, every value is a parameter."""
    tables = {
        "ee": EventExercise._meta.db_table,
        "e": Event._meta.db_table,
        "x": Exercise._meta.db_table,
        "r": EventRole._meta.db_table,
        "g": Registration._meta.db_table,
    }
    holds_role = "SELECT 1 FROM {r} r WHERE r.event_id = e.id AND r.user_id = %s AND r.role = %s"
    # Only our models' table names are formatted in (S608 below): every value goes as a parameter.
    return (
        "SELECT ee.*, e.slug AS event_slug, e.title AS event_title, e.published AS event_published, "  # noqa: S608
        "x.slug AS exercise_slug, x.title AS exercise_title, x.metric AS exercise_metric, "
        "x.metric_display_name AS exercise_metric_display_name, "
        "x.direction AS exercise_direction, x.target_baseline AS exercise_target_baseline, "
        "x.target_reference AS exercise_target_reference, "
        f"EXISTS ({holds_role}) AS holds_organizer, EXISTS ({holds_role}) AS holds_tutor, "
        "EXISTS (SELECT 1 FROM {g} g WHERE g.event_id = e.id AND g.user_id = %s AND g.status = %s) "
        "AS holds_participant "
        "FROM {ee} ee JOIN {e} e ON e.id = ee.event_id JOIN {x} x ON x.id = ee.exercise_id "
        "WHERE e.slug = %s AND x.slug = %s"
    ).format(**tables)


def _partial(model: type[Model], **values: Any) -> Any:
    """Return a model instance loaded with these fields only; the others load from the database when read."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(DEFAULT_DB_ALIAS, names, [values[name] for name in names])


def my_submissions(user: AnyUser, event_exercise: EventExercise) -> QuerySet[Submission]:
    return event_exercise.submissions.filter(participant_id=user.pk).order_by("-created_at")


def best_score(user: AnyUser, event_exercise: EventExercise) -> float | None:
    """Return the person's best public score among their scored graded submissions, by the exercise's direction."""
    scores = my_submissions(user, event_exercise).filter(
        kind=Submission.Kind.GRADED, status=Submission.Status.SCORED, score__isnull=False
    )
    lowest_wins = event_exercise.exercise.direction == Exercise.Direction.LOWER
    found = scores.aggregate(best=Min("score") if lowest_wins else Max("score"))["best"]
    return float(found) if found is not None else None


def queue_position(submission: Submission) -> int | None:
    """Return this submission's place in the order the workers will take it (1 = next), or None if not waiting.

    The place follows the fair dispatch (`grading.dispatch`), as if nothing finished or arrived meanwhile: a
    participant's fourth submission waits behind others' first ones queued after it. Submissions of the queue
    whose exercises have another wall clock run on their own messages; those queued earlier count as ahead.
    """
    if submission.status != Submission.Status.QUEUED or submission.queued_at is None:
        return None
    wall_seconds = submission.event_exercise.exercise.wall_seconds
    earlier = Submission.objects.filter(
        queue=submission.queue, status=Submission.Status.QUEUED, queued_at__lt=submission.queued_at
    )
    queued, recent = dispatch.candidates(submission.queue, wall_seconds)
    if not any(item.id == submission.pk for item in queued):
        return earlier.count() + 1  # beyond the candidates the rule weighs: first come, first served from there
    ahead_elsewhere = earlier.exclude(event_exercise__exercise__wall_seconds=wall_seconds).count()
    return len(dispatch.fair_order(queued, recent, until=submission.pk)) + ahead_elsewhere


def estimated_wait_seconds(submission: Submission, *, sample: int = 20, position: int | None = None) -> float | None:
    """Estimate the wait from the median of recent run times in the queue and the place in it.

    `position` is the submission's `queue_position` when the caller has it already (it costs a few queries).
    """
    position = position if position is not None else queue_position(submission)
    if position is None:
        return None
    recent = list(
        Submission.objects.filter(queue=submission.queue, duration_s__isnull=False)
        .order_by("-finished_at")
        .values_list("duration_s", flat=True)[:sample]
    )
    if not recent:
        return None
    running = Submission.objects.filter(queue=submission.queue, status=Submission.Status.RUNNING).count()
    workers = max(1, running)
    return statistics.median(recent) * position / workers


# --- A participant's live submissions (issue 8) --------------------------------------------------------------


@dataclass(frozen=True)
class LiveSubmission:
    """A submission with what its owner wants to know while it is not done: place, expected start, time used."""

    submission: Submission
    position: int | None
    wait_s: float | None
    expected_start: dt.datetime | None
    elapsed_s: float | None
    limit_s: int

    @property
    def elapsed_share(self) -> float | None:
        if self.elapsed_s is None or not self.limit_s:
            return None
        return min(1.0, self.elapsed_s / self.limit_s)


def live_submissions(
    user: AnyUser, event: Event, *, limit: int = 20, now: dt.datetime | None = None
) -> list[LiveSubmission]:
    """Return the person's latest submissions in the event with their place in the queue or their running time."""
    now = now or timezone.now()
    submissions = (
        Submission.objects.filter(event_exercise__event=event, participant_id=user.pk)
        .select_related("event_exercise__exercise")
        .defer("executed_notebook", "log", "traceback")
        .order_by("-created_at", "-id")[:limit]
    )
    live = []
    for submission in submissions:
        position = queue_position(submission)
        wait = estimated_wait_seconds(submission, position=position)
        running = submission.status == Submission.Status.RUNNING and submission.started_at is not None
        live.append(
            LiveSubmission(
                submission=submission,
                position=position,
                wait_s=wait,
                expected_start=now + dt.timedelta(seconds=wait) if wait is not None else None,
                elapsed_s=max(0.0, (now - submission.started_at).total_seconds()) if running else None,
                limit_s=submission.event_exercise.exercise.wall_seconds,
            )
        )
    return live
