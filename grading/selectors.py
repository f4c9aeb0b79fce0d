"""Queries about submissions that pages read."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db.models import Max, Min, QuerySet
from django.http import Http404
from django.utils import timezone

from exercises.models import Exercise
from grading import dispatch
from grading.models import Submission
from grading.permissions import visible_submissions
from hackathon.models import Event, EventExercise
from hackathon.permissions import AnyUser


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
