"""Audiences of announcements that read submissions: an exercise's participants, and those hit by one error."""

from __future__ import annotations

import uuid

from django.db.models import Q
from django.http import Http404

from grading.models import Submission
from grading.permissions import visible_submissions
from grading.tutoring.stuck import error_signature
from hackathon.announcements import Audience
from hackathon.models import Announcement, Event, EventExercise, Registration
from hackathon.permissions import AnyUser


def exercise_participants(event_exercise: EventExercise) -> Audience:
    """The confirmed participants whose group works on the exercise, and those who submitted to it."""
    submitted = Submission.objects.filter(event_exercise=event_exercise).values("participant_id")
    ids = frozenset(
        Registration.objects.filter(event_id=event_exercise.event_id, status=Registration.Status.CONFIRMED)
        .filter(Q(group__event_exercise=event_exercise) | Q(user_id__in=submitted))
        .values_list("user_id", flat=True)
    )
    return Audience(Announcement.Audience.EXERCISE, f"The participants of {event_exercise.exercise.title}", ids)


def failed_with(viewer: AnyUser, event: Event, submission_uid: str) -> Audience:
    """Everyone the viewer follows whose latest run of that exercise failed with the error of this submission.

    The submission is one the tutor dashboard lists for a shared error (SharedError.latest_uid); it is looked up
    among the submissions the viewer may see (404 otherwise), and so are the people of the audience: a tutor
    reaches the members of their own groups only. A platform failure is nobody's latest run.
    """
    try:
        uid = uuid.UUID(submission_uid)
    except ValueError:  # a hand-edited ?error= is no submission's id: not found, like any other
        raise Http404("No failed run of this event that you follow has that id.") from None
    visible = visible_submissions(viewer, event)
    example = visible.filter(uid=uid).select_related("event_exercise__exercise").first()
    signature = error_signature(example) if example is not None else None
    if example is None or signature is None:
        raise Http404("No failed run of this event that you follow has that id.")
    confirmed = Registration.objects.filter(event=event, status=Registration.Status.CONFIRMED).values("user_id")
    runs = (
        visible.filter(event_exercise_id=example.event_exercise_id, status__in=Submission.FINAL)
        .filter(participant_id__in=confirmed)
        .exclude(reason=Submission.Reason.INFRASTRUCTURE)
        .defer("executed_notebook", "log", "traceback")
        .order_by("participant_id", "-created_at", "-id")
    )
    latest: dict[int, Submission] = {}
    for run in runs:
        latest.setdefault(run.participant_id, run)
    ids = frozenset(pid for pid, run in latest.items() if error_signature(run) == signature)
    where = f" in cell {signature.cell + 1}" if signature.cell is not None else ""
    title = example.event_exercise.exercise.title
    text = f"Latest run of {title} failed with {signature.ename}{where}: {signature.message}"
    return Audience(Announcement.Audience.ERROR, text[:300], ids)
