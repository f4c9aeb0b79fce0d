"""The grading section of an event's report page, loaded into the organizer's report by htmx."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from grading.reports import event_grading_report
from hackathon import permissions
from hackathon.selectors import get_visible_event


@login_required
def event_report_section(request: HttpRequest, slug: str) -> HttpResponse:
    event = get_visible_event(request.user, slug)
    if not permissions.can_manage_event(request.user, event):
        raise PermissionDenied("Only the event's organizers see its report.")
    return render(request, "grading/_event_report.html", {"event": event, "report": event_grading_report(event)})
