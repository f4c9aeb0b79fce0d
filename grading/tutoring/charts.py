"""A participant's public scores over time, drawn as a small inline SVG line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from grading.models import Submission
from hackathon import charts


@dataclass(frozen=True)
class ScoreChart:
    """Public scores over time as an inline SVG line: a trend reads faster drawn than listed."""

    points: str
    dots: tuple[tuple[float, float, str], ...]
    width: int
    height: int
    low: float
    high: float
    last: float = 0.0

    @property
    def is_a_line(self) -> bool:
        """Whether there is a trend to draw: a single score reads better as the number it is."""
        return len(self.dots) > 1


def score_chart(submissions: Iterable[Submission], *, width: int = 160, height: int = 40) -> ScoreChart | None:
    """Return the chart of the scored submissions in time order, or None when there is no score to draw."""
    scored = sorted(
        (s for s in submissions if s.status == Submission.Status.SCORED and s.score is not None),
        key=lambda s: (s.created_at, s.pk),
    )
    if not scored:
        return None
    scores = [float(s.score or 0.0) for s in scored]
    low, high = min(scores), max(scores)
    pad = 4
    # One score, or all equal, draws a flat line in the middle.
    x = charts.Scale(0, len(scored) - 1, pad, width - pad)
    y = charts.Scale(low, high, height - pad, pad)
    dots = tuple(
        (x(i), y(score), f"{score:.4f} at {timezone.localtime(submission.created_at):%d %b %H:%M}")
        for i, (submission, score) in enumerate(zip(scored, scores, strict=True))
    )
    points = charts.polyline((px, py) for px, py, _ in dots)
    return ScoreChart(points=points, dots=dots, width=width, height=height, low=low, high=high, last=scores[-1])
