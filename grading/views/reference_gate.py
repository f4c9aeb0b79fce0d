"""The organizer's actions on an exercise's reference gate: check it again, or open it although it missed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from grading import reference_gate
from grading.errors import GateRefused
from grading.views.boards import _organizer_exercise as _managed_exercise  # the boards' organizer-only rule


@login_required
@require_POST
def ask_reference_check(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    event, event_exercise = _managed_exercise(request, slug, exercise_slug)
    reference_gate.ask_for_check(actor=request.user, event_exercise=event_exercise)
    messages.success(request, "The reference and baseline notebooks are queued on the workers; this page shows them.")
    return redirect("grading:event_exercise", slug=event.slug, exercise_slug=exercise_slug)


@login_required
@require_POST
def open_despite_gate(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    event, event_exercise = _managed_exercise(request, slug, exercise_slug)
    try:
        reference_gate.open_despite_gate(
            actor=request.user, event_exercise=event_exercise, reason=request.POST.get("reason", "")
        )
    except GateRefused as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The exercise opens over its window; your reason is in the board's audit log.")
    return redirect("grading:event_exercise", slug=event.slug, exercise_slug=exercise_slug)
