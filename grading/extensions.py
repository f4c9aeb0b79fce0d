"""Extensions: an organizer gives a person or a group more time on one exercise, with a reason, logged."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from grading.boards.cache import forget_cached_boards
from grading.errors import ExtensionRefused
from grading.models import AuditEntry
from hackathon import permissions
from hackathon.deadlines import in_zone, time_zone_of
from hackathon.models import Event, EventExercise, Extension, Group, Registration

# An extension is for a late train or a lost afternoon, not a second event: longer is a typing mistake.
LONGEST_EXTENSION = dt.timedelta(days=30)


def grant_extension(
    *,
    actor: AbstractBaseUser,
    event_exercise: EventExercise,
    until: dt.datetime,
    reason: str,
    participant: AbstractBaseUser | None = None,
    group: Group | None = None,
    now: dt.datetime | None = None,
) -> list[Extension]:
    """Let one participant, or each confirmed member of a group, submit to the exercise until `until`.

    One Extension per person and one audit entry on the exercise's log. Raise ExtensionRefused (nothing granted)
    unless the actor organizes the event, a reason is given, `until` is after the exercise closes and after now
    (and within LONGEST_EXTENSION of the closing), and exactly one of participant and group names confirmed people.
    """
    now = now or timezone.now()
    event = event_exercise.event
    if not permissions.can_grant_extensions(actor, event):
        raise ExtensionRefused("Only the event's organizers grant extensions.")
    reason = reason.strip()
    if not reason:
        raise ExtensionRefused("Say why the extension is granted: the reason is kept in the exercise's log.")
    if until <= event_exercise.closes_at or until <= now:
        raise ExtensionRefused(
            f"An extension ends after the exercise closes ({in_zone(event_exercise.closes_at, time_zone_of(actor))}) "
            "and in the future: choose a later time."
        )
    if until - event_exercise.closes_at > LONGEST_EXTENSION:
        raise ExtensionRefused(f"An extension lasts at most {LONGEST_EXTENSION.days} days after the exercise closes.")
    if (participant is None) == (group is None):
        raise ExtensionRefused("Choose one participant or one group to extend.")
    confirmed = Registration.objects.filter(event=event, status=Registration.Status.CONFIRMED).select_related("user")
    if group is not None:
        if group.event_id != event.pk:
            raise ExtensionRefused("Choose a group of this event.")
        people = [r.user for r in confirmed.filter(group=group)]
        if not people:
            raise ExtensionRefused(f"Group {group.number} has no member to extend.")
        whom = f"group {group.number} ({', '.join(_name(p) for p in people)})"
    else:
        people = [r.user for r in confirmed.filter(user_id=participant.pk)]  # type: ignore[union-attr]
        if not people:
            raise ExtensionRefused("Only the event's confirmed participants get extensions.")
        whom = _name(people[0])
    with transaction.atomic():
        granted = Extension.objects.bulk_create(
            Extension(
                event_exercise=event_exercise, user=person, until=until, reason=reason, group=group, granted_by=actor
            )
            for person in people
        )
        AuditEntry.objects.create(
            event_exercise=event_exercise,
            actor=actor,
            action=AuditEntry.Action.EXTEND,
            reason=f"{whom} until {timezone.localtime(until):%d %b %Y %H:%M}: {reason}"[:2000],
        )
    forget_cached_boards(event_exercise)
    return granted


def _name(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.email  # type: ignore[attr-defined]


def extensions_of(event: Event) -> QuerySet[Extension]:
    """Return the event's extensions, newest first, with their exercise and people (for its organizers)."""
    return Extension.objects.filter(event_exercise__event=event).select_related(
        "event_exercise__exercise", "user", "granted_by", "group"
    )
