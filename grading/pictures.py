"""Feedback pictures of a scored submission: drawn after its score is stored, and where their drawing stands.

A scored row's `figures` is {"data": what the pictures are drawn from, "images": [{"file", "title"}]}, plus
"drawing": true between the write of the score and the write of the pictures, or "failed": true when some could
not be drawn. A row left "drawing" longer than GRADING_PICTURES_SECONDS after it was scored had its worker die
while drawing: it is shown as failed, so no page waits for it for ever.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone

NONE = "none"  # nothing to show: not scored, or an output kind that draws nothing
DRAWING = "drawing"  # scored; its pictures are being drawn
DRAWN = "drawn"
FAILED = "failed"  # some or all could not be drawn; those drawn are still listed
STATES = (NONE, DRAWING, DRAWN, FAILED)


def being_drawn(data: dict[str, Any]) -> dict[str, Any]:
    """Return the `figures` of a row whose score is stored and whose pictures are still to be drawn."""
    return {"data": data, "images": [], "drawing": True}


def drawn(data: dict[str, Any], images: list[dict[str, str]], *, complete: bool) -> dict[str, Any]:
    """Return the `figures` of a row once drawing ended: `complete` False when a picture could not be drawn."""
    figures: dict[str, Any] = {"data": data, "images": list(images)}
    if not complete:
        figures["failed"] = True
    return figures


def pictures_state(
    figures: dict[str, Any] | None, finished_at: dt.datetime | None, now: dt.datetime | None = None
) -> str:
    """Return one of STATES for a row's `figures` and the time its result was stored (None: not yet)."""
    if not isinstance(figures, dict):  # not one a worker wrote (a row edited by hand): no pictures, no 500
        return NONE
    if figures.get("drawing"):
        waited = ((now or timezone.now()) - finished_at).total_seconds() if finished_at else 0.0
        return FAILED if waited > settings.GRADING_PICTURES_SECONDS else DRAWING
    if figures.get("failed"):
        return FAILED
    return DRAWN if figures.get("images") else NONE
