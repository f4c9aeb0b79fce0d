"""Pages of the event domain: the home page and an event's page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hackathon import permissions, selectors


def home(request: HttpRequest) -> HttpResponse:
    events = selectors.visible_events(request.user)
    roles = selectors.my_event_roles(request.user)
    rows = [(event, roles.get(event.id, [])) for event in events]
    return render(request, "hackathon/home.html", {"rows": rows})


def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = selectors.get_visible_event(request.user, slug)
    context = {
        "event": event,
        "roles": sorted(permissions.roles_in(request.user, event)),
        "can_manage": permissions.can_manage_event(request.user, event),
    }
    return render(request, "hackathon/event_detail.html", context)
