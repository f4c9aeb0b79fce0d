"""A participant's "My event" page: group and tutors, open exercises, live submissions and help requests."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from grading import certificates, selectors, services
from grading.errors import HelpRequestRefused
from grading.models import HelpMessage, HelpRequest, Submission
from grading.tutoring import selectors as tutoring
from grading.tutoring import services as help_requests
from grading.tutoring.charts import score_chart
from hackathon import permissions
from hackathon.deadlines import extended_until
from hackathon.models import Event
from hackathon.selectors import get_visible_event, group_of


def _participant_event(request: HttpRequest, slug: str) -> Event:
    """Return the event if the person takes part in it; 404 otherwise, as for any page that is not theirs."""
    event = get_visible_event(request.user, slug)
    if not permissions.can_take_part(request.user, event):
        raise Http404("Only the event's participants have a page here.")
    return event


def _help_context(request: HttpRequest, event: Event) -> dict:
    help_request = tutoring.open_help_request_of(request.user, event)
    return {
        "event": event,
        "help_request": help_request,
        "place": tutoring.place_in_queue(help_request) if help_request else None,
        "thread": list(tutoring.thread_of(help_request)) if help_request else [],
        "message_max": HelpRequest.MESSAGE_MAX_CHARS,
        "reply_max": HelpMessage.MAX_CHARS,
    }


def _open_exercises(request: HttpRequest, event: Event) -> list[dict]:
    now = timezone.now()
    rows = []
    # An exercise closed for everyone stays listed for a person whose extension still runs, with their deadline.
    extended = {pk: until for pk, until in extended_until(event, request.user.pk).items() if until > now}
    exercises = event.event_exercises.select_related("exercise").filter(Q(closes_at__gt=now) | Q(pk__in=extended))
    for event_exercise in exercises:
        closes_at = max(event_exercise.closes_at, extended.get(event_exercise.pk, event_exercise.closes_at))
        rows.append(
            {
                "event_exercise": event_exercise,
                "exercise": event_exercise.exercise,
                "closes_at": closes_at,
                "extended": closes_at > event_exercise.closes_at,
                "is_open": event_exercise.opens_at <= now < closes_at,
                "remaining": services.remaining_today(participant=request.user, event_exercise=event_exercise),
                "per_day": services.submissions_per_day(event_exercise),
                "chart": score_chart(
                    event_exercise.submissions.filter(participant_id=request.user.pk, kind=Submission.Kind.GRADED)
                    .only("status", "score", "created_at")
                    .order_by("created_at")[:200]
                ),
            }
        )
    return rows


@login_required
def my_event(request: HttpRequest, slug: str) -> HttpResponse:
    event = _participant_event(request, slug)
    own = Submission.objects.filter(event_exercise__event=event, participant_id=request.user.pk)
    chosen = request.GET.get("submission", "")
    context = {
        **_help_context(request, event),
        "group": group_of(request.user, event),
        "exercises": _open_exercises(request, event),
        "live": selectors.live_submissions(request.user, event),
        "my_submissions": own.select_related("event_exercise__exercise").only(
            "uid", "created_at", "status", "event_exercise__exercise__title"
        )[:20],
        "chosen_submission": chosen,
        "closed_exercises": event.event_exercises.closed_for_everyone().select_related("exercise"),
        "certificate": certificates.certificate_of(event, request.user),
    }
    return render(request, "grading/participant/my_event.html", context)


@login_required
def my_event_submissions(request: HttpRequest, slug: str) -> HttpResponse:
    """The live list of one's submissions in the event (polled by htmx)."""
    event = _participant_event(request, slug)
    context = {"event": event, "live": selectors.live_submissions(request.user, event)}
    return render(request, "grading/participant/_live_submissions.html", context)


@login_required
def my_help(request: HttpRequest, slug: str) -> HttpResponse:
    """The participant's help request: place in the queue and thread (polled by htmx)."""
    event = _participant_event(request, slug)
    context = _help_context(request, event)
    response = render(request, "grading/participant/_help_panel.html", context)
    if context["help_request"] is None:
        response.status_code = 286  # htmx stops polling on 286: a resolved request has nothing more to follow
    return response


@login_required
@require_POST
def raise_help_request(request: HttpRequest, slug: str) -> HttpResponse:
    event = _participant_event(request, slug)
    submission = None
    uid = request.POST.get("submission", "").strip()
    if uid:
        # Scoped to the person's own submissions in this event: another's uid is simply not found.
        submission = Submission.objects.filter(
            event_exercise__event=event, participant_id=request.user.pk, uid__in=_valid_uuids([uid])
        ).first()
        if submission is None:
            messages.error(request, "That submission is not one of yours in this event. Choose one from the list.")
            return redirect("grading:my_event", slug=event.slug)
    try:
        raised = help_requests.raise_help_request(
            participant=request.user, event=event, message=request.POST.get("message", ""), submission=submission
        )
    except HelpRequestRefused as error:
        messages.error(request, error.message)
    else:
        if raised.group_id:
            messages.success(
                request, "Your request is with your group's tutors. This page shows your place in the queue."
            )
        else:
            messages.success(
                request,
                "You have no group yet, so your request is with the organizers; once you are in a group, your "
                "group's tutors see it too. This page shows your place in the queue.",
            )
    return redirect("grading:my_event", slug=event.slug)


def _valid_uuids(values: list[str]) -> list[str]:
    """Keep the values that are uuids: a mangled form field then finds nothing instead of raising."""
    valid = []
    for value in values:
        try:
            valid.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return valid
