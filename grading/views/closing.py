"""Pages after an exercise's deadline: its debrief, releasing notebooks, and reading the released ones."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from exercises.notebook_html import notebook_html
from grading import closing, selectors
from grading.errors import ReleaseRefused
from grading.models import ReleasedNotebook
from grading.permissions import can_read_debrief
from hackathon import permissions
from hackathon.models import Event, EventExercise
from hackathon.selectors import get_visible_event


def _debrief_exercise(request: HttpRequest, slug: str, exercise_slug: str) -> tuple[Event, EventExercise]:
    """Return the event and its exercise for the event's people; 404 for everyone else, as for its other pages."""
    event = get_visible_event(request.user, slug)
    if not can_read_debrief(request.user, event):
        raise Http404("Only the event's people read its debriefs.")
    return event, selectors.get_open_event_exercise(event, exercise_slug)


def _organized_exercise(request: HttpRequest, slug: str, exercise_slug: str) -> tuple[Event, EventExercise]:
    event, event_exercise = _debrief_exercise(request, slug, exercise_slug)
    if not permissions.can_manage_event(request.user, event):
        raise PermissionDenied("Only the event's organizers release notebooks.")
    return event, event_exercise


def _released(request: HttpRequest, slug: str, exercise_slug: str, pk: int) -> ReleasedNotebook:
    _, event_exercise = _debrief_exercise(request, slug, exercise_slug)
    released = event_exercise.released_notebooks.filter(pk=pk).first()
    if released is None or not closing.has_closed(event_exercise):
        raise Http404(
            "This notebook is not released: the organizers have withdrawn it, or its author stopped sharing it. "
            "The debrief lists the notebooks you can read."
        )
    if request.user.is_authenticated and (other := closing.still_solving_elsewhere(request.user, event_exercise)):
        raise PermissionDenied(
            f"You still take part in this exercise in {other.event.title}: its released notebooks open to you once "
            "you have finished there."
        )
    return released


@login_required
def debrief(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    """The exercise's debrief once it closed: scores in aggregate, common errors, released notebooks."""
    event, event_exercise = _debrief_exercise(request, slug, exercise_slug)
    is_organizer = permissions.can_manage_event(request.user, event)
    closed = closing.has_closed(event_exercise)
    context = {
        "event": event,
        "event_exercise": event_exercise,
        "exercise": event_exercise.exercise,
        "closed": closed,
        "closes_at": timezone.localtime(event_exercise.closes_at),
        "is_organizer": is_organizer,
        "decimals": settings.BOARD_DECIMALS,
    }
    if closed:
        context["debrief"] = closing.debrief(event_exercise)
        if is_organizer:
            context["top"] = closing.top_submissions(event_exercise)
    return render(request, "grading/closing/debrief.html", context)


@login_required
@require_POST
def release_notebook(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    """Release the reference solution (`what=reference`) or a consenting participant's notebook (`submission=uid`)."""
    event, event_exercise = _organized_exercise(request, slug, exercise_slug)
    back = redirect("grading:debrief", slug=event.slug, exercise_slug=exercise_slug)
    try:
        if request.POST.get("what") == "reference":
            released = closing.release_reference(event_exercise=event_exercise, actor=request.user)
        else:
            uid = request.POST.get("submission", "")
            submission = event_exercise.submissions.filter(uid=uid).first() if _is_uuid(uid) else None
            if submission is None:
                raise Http404("This exercise has no such submission.")
            released = closing.release_submission(submission=submission, actor=request.user)
    except ReleaseRefused as error:
        messages.error(request, error.message)
        return back
    messages.success(request, f"Released: {released.title}. The event's people can read it on this page.")
    return back


@login_required
@require_POST
def withdraw_notebook(request: HttpRequest, slug: str, exercise_slug: str, pk: int) -> HttpResponse:
    event, event_exercise = _organized_exercise(request, slug, exercise_slug)
    released = event_exercise.released_notebooks.filter(pk=pk).first()
    if released is None:
        raise Http404("No such released notebook.")
    closing.withdraw_release(released=released)
    messages.success(request, f"Withdrawn: {released.title}. The event's people no longer see it.")
    return redirect("grading:debrief", slug=event.slug, exercise_slug=exercise_slug)


@login_required
def released_notebook(request: HttpRequest, slug: str, exercise_slug: str, pk: int) -> HttpResponse:
    released = _released(request, slug, exercise_slug, pk)
    context = {
        "event": released.event_exercise.event,
        "exercise": released.event_exercise.exercise,
        "released": released,
        "notebook_html": notebook_html(released.notebook),
    }
    return render(request, "grading/closing/released_notebook.html", context)


@login_required
def released_notebook_download(request: HttpRequest, slug: str, exercise_slug: str, pk: int) -> HttpResponse:
    name, payload = closing.notebook_file(_released(request, slug, exercise_slug, pk))
    response = HttpResponse(payload, content_type="application/x-ipynb+json")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
