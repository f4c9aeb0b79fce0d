"""The organizer's view beside the boards: submissions per hour, the queues' load, and why runs failed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from grading.models import Submission
from hackathon import charts
from hackathon.models import Event


@dataclass(frozen=True)
class HourCount:
    """One hour's submissions, with its bar's place in the chart (SVG units, 26 per hour, 120 high)."""

    hour: dt.datetime
    count: int
    x: float = 0.0
    y: float = 130.0
    height: float = 0.0


@dataclass(frozen=True)
class QueueLoad:
    queue: str
    queued: int
    running: int
    queued_here: int
    running_here: int


@dataclass(frozen=True)
class FailureCount:
    reason: str
    label: str
    count: int


@dataclass(frozen=True)
class Activity:
    """What the organizer's view shows beside the boards."""

    per_hour: tuple[HourCount, ...]
    busiest_hour: int
    queues: tuple[QueueLoad, ...]
    failures: tuple[FailureCount, ...]


def event_activity(event: Event, *, now: dt.datetime | None = None, hours: int = 24) -> Activity:
    """Count the last day's submissions per hour, the queues' load, and why runs failed, in three queries."""
    now = now or timezone.now()
    end = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    start = end - dt.timedelta(hours=hours)
    ours = Submission.objects.filter(event_exercise__event=event)
    counted = {
        timezone.localtime(row["hour"]).replace(minute=0, second=0, microsecond=0): row["n"]
        for row in ours.filter(created_at__gte=start)
        .annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(n=Count("id"))
    }
    counts = [(timezone.localtime(start + dt.timedelta(hours=i)), 0) for i in range(hours)]
    counts = [(hour, counted.get(hour, 0)) for hour, _ in counts]
    bars = charts.columns([n for _, n in counts], left=4, pitch=26, bottom=130, tallest=120)
    per_hour = tuple(
        HourCount(hour, n, x=bar.x, y=bar.y, height=bar.height) for (hour, n), bar in zip(counts, bars, strict=True)
    )
    here = Q(event_exercise__event=event)
    loads = (
        Submission.objects.filter(status__in=[Submission.Status.QUEUED, Submission.Status.RUNNING])
        .values("queue")
        .annotate(
            queued=Count("id", filter=Q(status=Submission.Status.QUEUED)),
            running=Count("id", filter=Q(status=Submission.Status.RUNNING)),
            queued_here=Count("id", filter=here & Q(status=Submission.Status.QUEUED)),
            running_here=Count("id", filter=here & Q(status=Submission.Status.RUNNING)),
        )
    )
    by_queue = {row["queue"]: row for row in loads}
    queues = tuple(
        QueueLoad(
            name,
            by_queue.get(name, {}).get("queued", 0),
            by_queue.get(name, {}).get("running", 0),
            by_queue.get(name, {}).get("queued_here", 0),
            by_queue.get(name, {}).get("running_here", 0),
        )
        for name in sorted({"cpu", "gpu", *by_queue})
    )
    labels = dict(Submission.Reason.choices)
    failures = tuple(
        FailureCount(row["reason"] or "", labels.get(row["reason"], "No reason recorded"), row["n"])
        for row in ours.filter(status__in=[Submission.Status.FAILED, Submission.Status.INVALID])
        .values("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")
    )
    return Activity(per_hour, max((h.count for h in per_hour), default=0), queues, failures)
