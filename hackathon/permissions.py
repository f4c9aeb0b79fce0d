"""Who may do what in an event: the one place views, API and templates ask."""

from __future__ import annotations

import enum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from hackathon.models import Event, EventRole, Group, Registration

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


def can_create_event(user: AnyUser) -> bool:
    """Create new events: site staff, who then hand the event to its organizers."""
    return is_site_staff(user)


def can_register(user: AnyUser, event: Event) -> bool:
    """Open the registration form: any signed-in person who may see the event and is not on its staff."""
    if not user.is_authenticated or not can_view_event(user, event):
        return False
    return not (roles_in(user, event) & {Role.ORGANIZER, Role.TUTOR})


def is_tutor_of_group(user: AnyUser, group: Group) -> bool:
    """Whether the person tutors this very group (not merely some group of the event)."""
    return bool(user.is_authenticated and group.tutors.filter(pk=user.pk).exists())


def is_member_of_group(user: AnyUser, group: Group) -> bool:
    return bool(
        user.is_authenticated and group.members.filter(user_id=user.pk, status=Registration.Status.CONFIRMED).exists()
    )


def can_see_group(user: AnyUser, group: Group) -> bool:
    """See a group's members and tutors: its tutors, its members, and the event's organizers."""
    return is_tutor_of_group(user, group) or is_member_of_group(user, group) or can_manage_event(user, group.event)


def can_give_feedback(user: AnyUser, event: Event) -> bool:
    """Answer the end-of-event feedback form: confirmed participants, once the event has begun."""
    return can_take_part(user, event) and timezone.localdate() >= event.starts_on


def can_compare_editions(user: AnyUser) -> bool:
    """See the cross-edition report: site staff and anyone organizing some event."""
    if is_site_staff(user):
        return True
    return bool(
        user.is_authenticated and EventRole.objects.filter(user_id=user.pk, role=EventRole.Role.ORGANIZER).exists()
    )


def can_announce(user: AnyUser, event: Event) -> bool:
    """Write announcements: organizers to anyone in the event, tutors to the groups they tutor (see announce_reach)."""
    return can_manage_event(user, event) or (
        can_tutor_event(user, event) and Group.objects.filter(event=event, tutors=user).exists()
    )


def announce_reach(user: AnyUser, event: Event) -> frozenset[int] | None:
    """Return whom the person may write to: None for anyone (organizers), else the ids of their groups' members."""
    if can_manage_event(user, event):
        return None
    if not user.is_authenticated:
        return frozenset()
    return frozenset(
        Registration.objects.filter(event=event, status=Registration.Status.CONFIRMED, group__tutors=user).values_list(
            "user_id", flat=True
        )
    )


def can_grant_extensions(user: AnyUser, event: Event) -> bool:
    """Grant a person or a group more time on an exercise: the event's organizers."""
    return can_manage_event(user, event)
