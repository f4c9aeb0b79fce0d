"""Queries about events that pages read."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from hackathon.models import Event, EventRole, Registration
from hackathon.permissions import AnyUser, is_site_staff


def visible_events(user: AnyUser) -> QuerySet[Event]:
    """Return the events a person may see: published ones, plus those they organize."""
    events = Event.objects.all()
    if not is_site_staff(user):
        own = Q(roles__user_id=user.pk, roles__role=EventRole.Role.ORGANIZER) if user.is_authenticated else Q()
        events = events.filter(Q(published=True) | own) if own else events.filter(published=True)
    return events.annotate(
        confirmed_count=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.CONFIRMED), distinct=True
        )
    ).distinct()


def my_event_roles(user: AnyUser) -> dict[int, list[str]]:
    """Map event id to the roles the person holds there, for the home page's badges."""
    if not user.is_authenticated:
        return {}
    roles: dict[int, list[str]] = {}
    for event_id, role in EventRole.objects.filter(user=user).values_list("event_id", "role"):
        roles.setdefault(event_id, []).append(role)
    confirmed = Registration.objects.filter(user=user, status=Registration.Status.CONFIRMED)
    for event_id in confirmed.values_list("event_id", flat=True):
        roles.setdefault(event_id, []).append("participant")
    return roles


def get_visible_event(user: AnyUser, slug: str) -> Event:
    """Return the event by slug if the person may see it, else raise 404."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(visible_events(user), slug=slug)
