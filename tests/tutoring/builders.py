"""Builders for tutoring tests: two groups with their tutors, an organizer, a stranger, submissions as rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from grading.models import Submission
from hackathon.models import Event, EventExercise, Group, Registration
from tests.factories import make_event, make_organizer, make_participant, make_tutor, make_user, open_exercise


@dataclass
class Setting:
    """Group 1 (ada, bob; tutor tina) and group 2 (cy; tutor tom) on one open exercise; ungrouped dee."""

    event: Event
    event_exercise: EventExercise
    group: Group
    other_group: Group
    ada: Any
    bob: Any
    cy: Any
    dee: Any
    tutor: Any
    other_tutor: Any
    organizer: Any
    stranger: Any


def join(event: Event, group: Group | None, email: str) -> Any:
    user = make_participant(event, make_user(email))
    Registration.objects.filter(event=event, user=user).update(group=group)
    return user


def make_setting() -> Setting:
    event = make_event()
    event_exercise = open_exercise(event)
    group = Group.objects.create(event=event, event_exercise=event_exercise, number=1)
    other_group = Group.objects.create(event=event, event_exercise=event_exercise, number=2)
    tutor, other_tutor = (
        make_tutor(event, make_user("tina@example.org")),
        make_tutor(event, make_user("tom@example.org")),
    )
    group.tutors.add(tutor)
    other_group.tutors.add(other_tutor)
    return Setting(
        event=event,
        event_exercise=event_exercise,
        group=group,
        other_group=other_group,
        ada=join(event, group, "ada@example.org"),
        bob=join(event, group, "bob@example.org"),
        cy=join(event, other_group, "cy@example.org"),
        dee=join(event, None, "dee@example.org"),
        tutor=tutor,
        other_tutor=other_tutor,
        organizer=make_organizer(event, make_user("olga@example.org")),
        stranger=make_user("sam@example.org"),
    )


def submission(
    event_exercise: EventExercise, participant: Any, status: str = Submission.Status.SCORED, **fields: Any
) -> Submission:
    """Record a submission row directly, as grading would have left it; no notebook is run."""
    ago = fields.pop("minutes_ago", 0)
    row = Submission.objects.create(
        event_exercise=event_exercise,
        participant=participant,
        status=status,
        notebook="submissions/test.ipynb",
        queue=fields.pop("queue", "cpu"),
        **fields,
    )
    if ago:
        moment = timezone.now() - dt.timedelta(minutes=ago)
        Submission.objects.filter(pk=row.pk).update(created_at=moment)
        row.refresh_from_db()
    return row


def exception(cell: int, ename: str, evalue: str) -> dict[str, Any]:
    """The fields grading stores for a notebook that raised in a cell."""
    return {
        "reason": Submission.Reason.EXCEPTION,
        "failed_cell": cell,
        "message": f"Cell {cell} raised {ename}: {evalue}",
    }
