"""Queries about submissions that pages read."""

from __future__ import annotations

import statistics

from django.db.models import QuerySet
from django.http import Http404

from grading.models import Submission
from grading.permissions import visible_submissions
from hackathon.models import Event, EventExercise
from hackathon.permissions import AnyUser


def get_visible_submission(user: AnyUser, uid: str) -> Submission:
    """Return the submission if the person may open it; 404 otherwise, so others' submissions stay unseen."""
    submission = (
        Submission.objects.select_related("event_exercise__event", "event_exercise__exercise", "participant")
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


def queue_position(submission: Submission) -> int | None:
    """Return how many submissions wait before this one in its queue (1 = next), or None if it is not waiting."""
    if submission.status != Submission.Status.QUEUED or submission.queued_at is None:
        return None
    ahead = Submission.objects.filter(
        queue=submission.queue, status=Submission.Status.QUEUED, queued_at__lt=submission.queued_at
    ).count()
    return ahead + 1


def estimated_wait_seconds(submission: Submission, *, sample: int = 20) -> float | None:
    """Estimate the wait from the median of recent run times in the queue and the place in it."""
    position = queue_position(submission)
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
