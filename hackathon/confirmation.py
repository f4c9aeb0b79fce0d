"""The confirmation page that every action which cannot be undone goes through: a GET that says, a POST that does."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hackathon.models import Event


def confirm_page(
    request: HttpRequest, *, event: Event | None, heading: str, consequences: list[str], button: str, back: str
) -> HttpResponse:
    """Render the page that says what an irreversible action will do, with the form that does it (POST here)."""
    context = {
        "event": event,
        "heading": heading,
        "consequences": consequences,
        "button": button,
        "back": back,
        "action": request.path,
    }
    return render(request, "hackathon/confirm.html", context)
