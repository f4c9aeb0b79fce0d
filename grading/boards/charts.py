"""The organizer's progression chart: the best public score of a board's top entries over time."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils import timezone

from grading.boards.ranking import Board, Entry, RowKind
from hackathon.models import EventExercise

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
    plot: tuple[float, float, float, float] = field(default=(48.0, 12.0, 620.0, 200.0))  # left, top, right, bottom


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
    left, top_px, right, bottom = 48.0, 12.0, 620.0, 200.0
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

    def x(t: dt.datetime) -> float:
        return round(left + (right - left) * (t - t0).total_seconds() / (t1 - t0).total_seconds(), 1)

    def y(s: float) -> float:
        return round(bottom - (bottom - top_px) * (s - low) / (high - low), 1)

    series = []
    for i, row in enumerate(leaders):
        path = steps.get(row.participant_id or -1, [])
        if not path:
            continue
        coords: list[str] = []
        for j, (t, s) in enumerate(path):
            if j:
                coords.append(f"{x(t)},{y(path[j - 1][1])}")  # a step: the best holds until beaten
            coords.append(f"{x(t)},{y(s)}")
        coords.append(f"{x(t1)},{y(path[-1][1])}")
        series.append(Series(f"{row.rank}. {row.name}", PALETTE[i % len(PALETTE)], " ".join(coords), row.score))
    y_ticks = tuple((y(low + (high - low) * k / 4), round(low + (high - low) * k / 4, 4)) for k in range(5))
    x_ticks = tuple(
        (x(t0 + (t1 - t0) * k / 4), f"{timezone.localtime(t0 + (t1 - t0) * k / 4):%d %b %H:%M}") for k in range(5)
    )
    return ProgressionChart(**chart, width=640, height=240, series=tuple(series), y_ticks=y_ticks, x_ticks=x_ticks)
