"""Pages of writing to the room: an event's announcements (history and a new one) and its extensions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from exercises.notebook_html import markdown_html
from grading import extensions
from grading.forms import AnnouncementForm, ExtensionForm
from grading.tutoring import audiences
from hackathon import announcements, permissions
from hackathon.announcements import Audience
from hackathon.deadlines import time_zone_of
from hackathon.models import Announcement, Event
from hackathon.selectors import get_visible_event
from sandbox.errors import UserFacingError


def _announcing_event(request: HttpRequest, slug: str) -> Event:
    event = get_visible_event(request.user, slug)
    if not permissions.can_announce(request.user, event):
        raise PermissionDenied("Only the event's organizers, and tutors for their groups, write announcements.")
    return event


def _audience(request: HttpRequest, event: Event, data: dict[str, Any]) -> Audience:
    kind = data["audience"]
    if kind == Announcement.Audience.STATUS:
        return announcements.with_status(event, data["status"])
    if kind == Announcement.Audience.GROUPS:
        return announcements.in_groups(event, data["groups"])
    if kind == Announcement.Audience.EXERCISE:
        return audiences.exercise_participants(data["exercise"])
    if kind == Announcement.Audience.ERROR:
        return audiences.failed_with(request.user, event, data["error"])
    return announcements.everyone(event)


@login_required
def event_announcements(request: HttpRequest, slug: str) -> HttpResponse:
    """The event's announcements with whom each reached and how many read it (a tutor: their own)."""
    event = _announcing_event(request, slug)
    history = [
        (announcement, markdown_html(announcement.body))
        for announcement in announcements.event_history(event, request.user).prefetch_related("receipts__user")
    ]
    context = {"event": event, "history": history, "can_manage": permissions.can_manage_event(request.user, event)}
    return render(request, "grading/announcements/history.html", context)


@login_required
def announcement_new(request: HttpRequest, slug: str) -> HttpResponse:
    """Write an announcement; `?error=<submission uid>` (from the tutor dashboard) aims it at that error's people."""
    event = _announcing_event(request, slug)
    organizer = permissions.can_manage_event(request.user, event)
    error = request.GET.get("error", "")
    initial = {"audience": Announcement.Audience.ERROR, "error": error} if error else {}
    form = AnnouncementForm(
        request.POST or None, initial=initial, event=event, organizer=organizer, viewer=request.user
    )
    preview = None
    if error and request.method == "GET":
        preview = audiences.failed_with(request.user, event, error)
    if request.method == "POST" and form.is_valid():
        try:
            audience = _audience(request, event, form.cleaned_data)
            announcement = announcements.send_announcement(
                author=request.user,
                event=event,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                audience=audience,
            )
        except UserFacingError as error_:
            form.add_error(None, error_.message)
        else:
            count = len(audience.user_ids)
            messages.success(
                request, f"“{announcement.title}” is sent to {count} {'person' if count == 1 else 'people'}."
            )
            return redirect("grading:event_announcements", slug=event.slug)
    context = {"event": event, "form": form, "preview": preview, "can_manage": organizer}
    return render(request, "grading/announcements/new.html", context, status=400 if form.errors else 200)


@login_required
def event_extensions(request: HttpRequest, slug: str) -> HttpResponse:
    """The event's extensions, and the form that grants one to a participant or a group (organizers)."""
    event = get_visible_event(request.user, slug)
    if not permissions.can_grant_extensions(request.user, event):
        raise PermissionDenied("Only the event's organizers grant extensions.")
    zone = time_zone_of(request.user)
    # The form's date and time are read, and shown, in the organizer's own time zone.
    with timezone.override(zone):
        form = ExtensionForm(request.POST or None, event=event)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            registration = data.get("participant")
            try:
                granted = extensions.grant_extension(
                    actor=request.user,
                    event_exercise=data["exercise"],
                    until=data["until"],
                    reason=data["reason"],
                    participant=registration.user if registration else None,
                    group=data.get("group"),
                )
            except UserFacingError as error:
                form.add_error(None, error.message)
            else:
                count = len(granted)
                messages.success(
                    request,
                    f"{count} {'person' if count == 1 else 'people'} may submit to {data['exercise'].exercise.title} "
                    f"until {timezone.localtime(data['until']):%d %b %Y at %H:%M} ({zone}).",
                )
                return redirect("grading:event_extensions", slug=event.slug)
        context = {"event": event, "form": form, "extensions": extensions.extensions_of(event), "zone": zone}
        return render(request, "grading/extensions.html", context, status=400 if form.errors else 200)
