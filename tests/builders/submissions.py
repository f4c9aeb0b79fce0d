"""Builders of submissions as rows, as grading would have left them: no notebook is run.

`record_submission` is the one builder; the others are its presets for what a kind of test needs: `submission` a
row in any status (tutoring), `scored` a score at a moment of a board's history (boards), `scored_submission` a
finished run with its feedback (API, security).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from grading.models import Submission
from hackathon.models import EventExercise

_minutes = itertools.count(1)
START = timezone.now() - dt.timedelta(days=2)


def record_submission(
    event_exercise: EventExercise, participant: Any, *, created_at: dt.datetime | None = None, **fields: Any
) -> Submission:
    """Create a submission row with the given fields; `created_at` backdates it (the field is set on insert)."""
    row = Submission.objects.create(event_exercise=event_exercise, participant=participant, **fields)
    if created_at is not None:
        Submission.objects.filter(pk=row.pk).update(created_at=created_at)
        row.refresh_from_db()
    return row


def submission(
    event_exercise: EventExercise, participant: Any, status: str = Submission.Status.SCORED, **fields: Any
) -> Submission:
    """Record a submission in `status`, made `minutes_ago` minutes ago (now by default), on the CPU queue."""
    ago = fields.pop("minutes_ago", 0)
    return record_submission(
        event_exercise,
        participant,
        status=status,
        notebook="submissions/test.ipynb",
        queue=fields.pop("queue", "cpu"),
        created_at=timezone.now() - dt.timedelta(minutes=ago) if ago else None,
        **fields,
    )


def scored(
    event_exercise: EventExercise,
    participant: Any,
    score: float | None,
    private: float | None = None,
    *,
    at: dt.datetime | None = None,
    status: str = Submission.Status.SCORED,
    kind: str = Submission.Kind.GRADED,
    reason: str = "",
) -> Submission:
    """Record a finished submission with public and private scores; each new one is a minute later than the last."""
    at = at or START + dt.timedelta(minutes=next(_minutes))
    return record_submission(
        event_exercise,
        participant,
        kind=kind,
        status=status,
        reason=reason,
        score=score,
        private_score=private if private is not None else score,
        notebook=f"submissions/{event_exercise.event_id}/test.ipynb",
        queued_at=at,
        finished_at=at + dt.timedelta(seconds=30),
        created_at=at,
    )


def scored_submission(event_exercise: EventExercise, participant: Any, **fields: Any) -> Submission:
    """Record a scored run two minutes after it was queued, with its message; `fields` override any value."""
    now = timezone.now()
    values: dict[str, Any] = {
        "status": Submission.Status.SCORED,
        "score": 0.8125,
        "private_score": 0.7,
        "message": "Scored.",
        "queued_at": now - dt.timedelta(minutes=2),
        "finished_at": now,
        "duration_s": 12.0,
    }
    values.update(fields)
    return record_submission(event_exercise, participant, **values)


def exception(cell: int, ename: str, evalue: str) -> dict[str, Any]:
    """Return the fields grading stores for a notebook that raised in a cell."""
    return {
        "reason": Submission.Reason.EXCEPTION,
        "failed_cell": cell,
        "message": f"Cell {cell} raised {ename}: {evalue}",
    }
