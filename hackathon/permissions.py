"""Who may do what in an event: the one place views, API and templates ask."""

from __future__ import annotations

import enum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from hackathon.models import Event, EventRole, Registration

AnyUser = AbstractBaseUser | AnonymousUser


class Role(enum.StrEnum):
    ORGANIZER = "organizer"
    TUTOR = "tutor"
    PARTICIPANT = "participant"


def roles_in(user: AnyUser, event: Event) -> frozenset[Role]:
    """Return the roles a person holds in the event (site staff hold none by default, but may do everything)."""
    if not user.is_authenticated:
        return frozenset()
    roles = {Role(r) for r in EventRole.objects.filter(event=event, user=user).values_list("role", flat=True)}
    if Registration.objects.filter(event=event, user=user, status=Registration.Status.CONFIRMED).exists():
        roles.add(Role.PARTICIPANT)
    return frozenset(roles)


def is_site_staff(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def can_view_event(user: AnyUser, event: Event) -> bool:
    """Published events are public; unpublished ones only to their organizers and staff."""
    return event.published or can_manage_event(user, event)


def can_manage_event(user: AnyUser, event: Event) -> bool:
    """Organize: edit the event, its registrations, groups, exercises and boards."""
    return is_site_staff(user) or Role.ORGANIZER in roles_in(user, event)


def can_tutor_event(user: AnyUser, event: Event) -> bool:
    """Tutor: see the groups one tutors and answer their help requests."""
    return is_site_staff(user) or Role.TUTOR in roles_in(user, event)


def can_take_part(user: AnyUser, event: Event) -> bool:
    """Take part: download exercises and submit notebooks (a confirmed registration)."""
    return Role.PARTICIPANT in roles_in(user, event)
