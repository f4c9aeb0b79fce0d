"""Geometry of the inline SVG charts every page draws (bars, columns, lines): pure numbers, so templates stay thin."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Horizontal bar charts (reports, editions): a row of BAR_PITCH units per bar, the largest BAR_LENGTH long.
BAR_PITCH = 24
BAR_LENGTH = 360


@dataclass(frozen=True)
class Scale:
    """Map values in [low, high] linearly onto SVG positions in [start, end], rounded to a tenth of a unit.

    `end` below `start` flips the axis, as a y axis needs (SVG's y grows downwards). When low equals high every
    value lands in the middle.
    """

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        if self.high == self.low:
            return round((self.start + self.end) / 2, 1)
        return round(self.start + (self.end - self.start) * (value - self.low) / (self.high - self.low), 1)

    def ticks(self, count: int) -> tuple[tuple[float, float], ...]:
        """Return `count` evenly spaced (position, value) pairs from low to high (count >= 2), values to 4 decimals."""
        values = [self.low + (self.high - self.low) * k / (count - 1) for k in range(count)]
        return tuple((self(value), round(value, 4)) for value in values)


def polyline(points: Iterable[tuple[float, float]]) -> str:
    """Return the points as an SVG polyline's `points` attribute: "x,y x,y ..."."""
    return " ".join(f"{x},{y}" for x, y in points)


def steps(points: Sequence[tuple[float, float]], *, until: float) -> list[tuple[float, float]]:
    """Return the corners of a step line through the points: each value holds until the next, the last until `until`.

    `points` are (x, y) positions in x order; an empty sequence gives no corners.
    """
    corners: list[tuple[float, float]] = []
    for i, (x, y) in enumerate(points):
        if i:
            corners.append((x, points[i - 1][1]))  # the previous value holds until this one
        corners.append((x, y))
    if points:
        corners.append((until, points[-1][1]))
    return corners


@dataclass(frozen=True)
class Column:
    """One vertical bar: its left edge, top and height in SVG units."""

    x: float
    y: float
    height: float


def columns(
    values: Sequence[float], *, left: float = 4.0, pitch: float = 26.0, bottom: float = 130.0, tallest: float = 120.0
) -> tuple[Column, ...]:
    """Return a column per value, `pitch` apart from `left`, standing on `bottom`; the largest value is `tallest` high.

    All values zero (or none) draw no height.
    """
    largest = max(values, default=0) or 1
    found = []
    for i, value in enumerate(values):
        height = tallest * value / largest
        found.append(Column(x=left + pitch * i, y=round(bottom - height, 1), height=round(height, 1)))
    return tuple(found)


@dataclass(frozen=True)
class Bar:
    """One bar of a horizontal bar chart: its label and count, and where it is drawn (SVG units)."""

    label: str
    value: int
    y: int = 0  # the top of its row
    length: int = 0  # the bar's length; the largest value's is BAR_LENGTH


@dataclass(frozen=True)
class Chart:
    """Counts drawn as a horizontal bar chart, a row of BAR_PITCH units per bar (hackathon/_bar_chart.html)."""

    title: str
    bars: tuple[Bar, ...]

    @property
    def height(self) -> int:
        return BAR_PITCH * len(self.bars) + 8


def bar_chart(title: str, counts: Iterable[tuple[str, int]]) -> Chart:
    """Return the chart of the (label, count) pairs in their order, each bar placed and sized."""
    pairs = list(counts)
    largest = max((value for _, value in pairs), default=0) or 1
    bars = tuple(
        Bar(label, value, y=BAR_PITCH * i, length=round(value / largest * BAR_LENGTH))
        for i, (label, value) in enumerate(pairs)
    )
    return Chart(title=title, bars=bars)
