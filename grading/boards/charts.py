"""The organizer's progression chart: the best public score of a board's top entries over time."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from grading.boards.ranking import Board, Entry, RowKind
from hackathon import charts
from hackathon.models import EventExercise

PLOT = (48.0, 12.0, 620.0, 200.0)  # the plotting area in the 640 x 240 chart: left, top, right, bottom
PALETTE = ("#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a")


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    points: str  # SVG polyline points
    last_score: float


@dataclass(frozen=True)
class ProgressionChart:
    """The best public score of the top entries over time, drawn as inline SVG on the server."""

    title: str
    width: int
    height: int
    series: tuple[Series, ...]
    y_ticks: tuple[tuple[float, float], ...]  # (y position, score)
    x_ticks: tuple[tuple[float, str], ...]  # (x position, label)
    plot: tuple[float, float, float, float] = PLOT  # left, top, right, bottom


def progression_chart(
    event_exercise: EventExercise, board: Board, entries: Sequence[Entry], *, top: int
) -> ProgressionChart:
    """Draw the step lines of the board's top entries from their scored submissions."""
    leaders = [row for row in board.ranked if row.kind is RowKind.PARTICIPANT][:top]
    higher = event_exercise.exercise.direction == "higher"
    steps: dict[int, list[tuple[dt.datetime, float]]] = defaultdict(list)
    wanted = {row.participant_id for row in leaders}
    for entry in sorted(entries, key=lambda e: e.scored_at):
        if entry.participant_id not in wanted:
            continue
        path = steps[entry.participant_id]
        if not path or (entry.score > path[-1][1] if higher else entry.score < path[-1][1]):
            path.append((entry.scored_at, entry.score))
    left, top_px, right, bottom = PLOT
    chart = {"title": f"Best public score of the top {len(leaders)}, {event_exercise.exercise.title}"}
    all_points = [p for path in steps.values() for p in path]
    if not all_points:
        return ProgressionChart(**chart, width=640, height=240, series=(), y_ticks=(), x_ticks=())
    t0 = min(t for t, _ in all_points)
    # Span the scores themselves, not up to now: a chart read days after the event keeps its shape.
    last = max(t for t, _ in all_points)
    t1 = max(last + (last - t0) * 0.05, t0 + dt.timedelta(minutes=1))
    low = min(s for _, s in all_points)
    high = max(s for _, s in all_points)
    if high - low < 1e-9:
        low, high = low - 0.05, high + 0.05
    x_scale = charts.Scale(0.0, (t1 - t0).total_seconds(), left, right)
    y = charts.Scale(low, high, bottom, top_px)

    def x(t: dt.datetime) -> float:
        return x_scale((t - t0).total_seconds())

    series = []
    for i, row in enumerate(leaders):
        path = steps.get(row.participant_id or -1, [])
        if not path:
            continue
        line = charts.steps([(x(t), y(s)) for t, s in path], until=x(t1))
        series.append(Series(f"{row.rank}. {row.name}", PALETTE[i % len(PALETTE)], charts.polyline(line), row.score))
    x_ticks = tuple(
        (x(t0 + (t1 - t0) * k / 4), f"{timezone.localtime(t0 + (t1 - t0) * k / 4):%d %b %H:%M}") for k in range(5)
    )
    return ProgressionChart(**chart, width=640, height=240, series=tuple(series), y_ticks=y.ticks(5), x_ticks=x_ticks)
