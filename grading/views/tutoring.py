"""Pages of tutoring: the tutor's group dashboard, help requests and their threads, the organizers' overview."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from grading.errors import HelpRequestRefused
from grading.models import HelpMessage, HelpRequest
from grading.permissions import can_handle_help_request, handleable_help_requests, visible_help_requests
from grading.tutoring import selectors as tutoring
from grading.tutoring import services as help_requests
from hackathon import permissions
from hackathon.models import Event
from hackathon.selectors import get_visible_event


def _tutor_event(request: HttpRequest, slug: str) -> Event:
    """Return the event if the person tutors or organizes it; 404 otherwise."""
    event = get_visible_event(request.user, slug)
    if not (permissions.can_tutor_event(request.user, event) or permissions.can_manage_event(request.user, event)):
        raise Http404("Only the event's tutors and organizers have a dashboard.")
    return event


def _queue_context(request: HttpRequest, event: Event) -> dict:
    queue = list(tutoring.help_queue(request.user, event))
    return {
        "event": event,
        "queue": [(r, tutoring.waiting_seconds(r), tutoring.place_in_queue(r)) for r in queue],
        "waiting_count": sum(r.status == HelpRequest.Status.OPEN for r in queue),
    }


@login_required
def tutor_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    event = _tutor_event(request, slug)
    context = {
        **_queue_context(request, event),
        "dashboards": tutoring.tutor_dashboards(request.user, event),
        "stuck_minutes": tutoring.stuck_minutes(),
        "is_organizer": permissions.can_manage_event(request.user, event),
    }
    return render(request, "grading/tutoring/dashboard.html", context)


@login_required
def tutor_dashboard_groups(request: HttpRequest, slug: str) -> HttpResponse:
    """The groups' panels alone (polled by htmx)."""
    event = _tutor_event(request, slug)
    context = {
        "event": event,
        "dashboards": tutoring.tutor_dashboards(request.user, event),
        "stuck_minutes": tutoring.stuck_minutes(),
        "is_organizer": permissions.can_manage_event(request.user, event),
    }
    return render(request, "grading/tutoring/_groups.html", context)


@login_required
def tutor_help_queue(request: HttpRequest, slug: str) -> HttpResponse:
    """The tutor's help queue alone (polled by htmx), the longest-waiting first."""
    event = _tutor_event(request, slug)
    return render(request, "grading/tutoring/_help_queue.html", _queue_context(request, event))


@login_required
def event_help_requests(request: HttpRequest, slug: str) -> HttpResponse:
    """The organizers' view of every unresolved request in the event and how long people wait."""
    event = get_visible_event(request.user, slug)
    if not permissions.can_manage_event(request.user, event):
        raise Http404("Only the event's organizers see all help requests.")
    context = {"event": event, "overview": tutoring.event_help_overview(event)}
    if request.headers.get("HX-Request"):
        return render(request, "grading/tutoring/_help_overview.html", context)
    return render(request, "grading/tutoring/help_overview.html", context)


def _help_context(request: HttpRequest, event: Event, pk: int) -> dict:
    # Scoped through what the person may read: anyone else's request is a 404, not a 403 that confirms it exists.
    help_request = get_object_or_404(
        visible_help_requests(request.user, event).select_related(
            "participant", "group", "claimed_by", "submission__event_exercise__exercise"
        ),
        pk=pk,
    )
    return {
        "event": event,
        "help_request": help_request,
        "thread": list(tutoring.thread_of(help_request)),
        "can_handle": can_handle_help_request(request.user, help_request),
        "is_own": help_request.participant_id == request.user.pk,
        "place": tutoring.place_in_queue(help_request),
        "waited_s": tutoring.waiting_seconds(help_request),
        "reply_max": HelpMessage.MAX_CHARS,
    }


@login_required
def help_request(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    event = get_visible_event(request.user, slug)
    return render(request, "grading/tutoring/help_request.html", _help_context(request, event, pk))


@login_required
def help_request_thread(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The request's status and thread alone (polled by htmx)."""
    event = get_visible_event(request.user, slug)
    return render(request, "grading/tutoring/_help_thread.html", _help_context(request, event, pk))


@login_required
@require_POST
def claim_help_request(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    event = get_visible_event(request.user, slug)
    found = get_object_or_404(handleable_help_requests(request.user, event), pk=pk)
    try:
        help_requests.claim_help_request(help_request=found, tutor=request.user)
    except HelpRequestRefused as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The request is yours: answer it below, then mark it resolved.")
    return redirect("grading:help_request", slug=event.slug, pk=found.pk)


@login_required
@require_POST
def answer_help_request(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Add a message to the thread: the participant, or one of the people who may handle the request."""
    event = get_visible_event(request.user, slug)
    found = get_object_or_404(visible_help_requests(request.user, event), pk=pk)
    try:
        help_requests.answer_help_request(help_request=found, author=request.user, text=request.POST.get("text", ""))
    except HelpRequestRefused as error:
        messages.error(request, error.message)
    if request.POST.get("back") == "my_event" and found.participant_id == request.user.pk:
        return redirect("grading:my_event", slug=event.slug)
    return redirect("grading:help_request", slug=event.slug, pk=found.pk)


@login_required
@require_POST
def resolve_help_request(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    event = get_visible_event(request.user, slug)
    found = get_object_or_404(visible_help_requests(request.user, event), pk=pk)
    try:
        help_requests.resolve_help_request(help_request=found, by=request.user)
    except HelpRequestRefused as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The request is resolved.")
    if found.participant_id == request.user.pk:
        return redirect("grading:my_event", slug=event.slug)
    return redirect("grading:tutor_dashboard", slug=event.slug)
