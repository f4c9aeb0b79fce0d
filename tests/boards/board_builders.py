"""Builders for board tests: named participants and submissions with given scores and times, no real runs."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from grading.models import Submission
from hackathon.models import Event, EventExercise, Group, Registration
from tests.factories import make_participant, make_user

_minutes = itertools.count(1)
START = timezone.now() - dt.timedelta(days=2)


def person(event: Event, name: str, *, group: Group | None = None):  # type: ignore[no-untyped-def]
    """Register a confirmed participant the boards show by name."""
    first, _, last = name.partition(" ")
    user = make_user()
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    make_participant(event, user)
    if group is not None:
        Registration.objects.filter(event=event, user=user).update(group=group)
    return user


def scored(
    event_exercise: EventExercise,
    participant,  # type: ignore[no-untyped-def]
    score: float | None,
    private: float | None = None,
    *,
    at: dt.datetime | None = None,
    status: str = Submission.Status.SCORED,
    kind: str = Submission.Kind.GRADED,
    reason: str = "",
) -> Submission:
    """Record a finished submission as grading would leave it; each new one is a minute later than the last."""
    at = at or START + dt.timedelta(minutes=next(_minutes))
    submission = Submission.objects.create(
        event_exercise=event_exercise,
        participant=participant,
        kind=kind,
        status=status,
        reason=reason,
        score=score,
        private_score=private if private is not None else score,
        notebook=f"submissions/{event_exercise.event_id}/test.ipynb",
        queued_at=at,
    )
    Submission.objects.filter(pk=submission.pk).update(created_at=at, finished_at=at + dt.timedelta(seconds=30))
    submission.refresh_from_db()
    return submission
