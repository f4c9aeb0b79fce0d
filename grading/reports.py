"""The grading part of an event's report: attendance, submissions over time, score distributions."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from exercises.metrics import METRICS
from grading.gpu_budget import day_start
from grading.models import Submission
from hackathon.charts import Chart, bar_chart
from hackathon.models import Event, Registration


@dataclass(frozen=True)
class ExerciseReport:
    title: str
    per_day: Chart
    scores: Chart


@dataclass(frozen=True)
class GpuUse:
    """One participant's or group's GPU time today, against the event's daily budget."""

    who: str
    used_s: float
    limit_s: int


@dataclass(frozen=True)
class GradingReport:
    confirmed: int
    attended: int
    absent_emails: list[str]
    exercises: list[ExerciseReport]
    gpu_today: list[GpuUse] = field(default_factory=list)


def gpu_use_today(event: Event) -> list[GpuUse]:
    """Return, for an event with a daily GPU budget, each participant's or group's GPU time today, most first."""
    if event.gpu_seconds_per_day is None:
        return []
    start = day_start(timezone.now())
    charged = (
        Submission.objects.filter(event_exercise__event=event, started_at__gte=start, gpu_seconds__isnull=False)
        .values("participant_id")
        .annotate(s=Sum("gpu_seconds"))
    )
    registrations = {r.user_id: r for r in Registration.objects.filter(event=event).select_related("user", "group")}
    per_group = event.gpu_budget_per == Event.GpuBudgetPer.GROUP
    totals: Counter[str] = Counter()
    for row in charged:
        registration = registrations.get(row["participant_id"])
        if registration is None:
            continue
        group = registration.group if per_group else None
        totals[f"Group {group.number}" if group else registration.user.email] += row["s"] or 0.0
    return [GpuUse(who, used, event.gpu_seconds_per_day) for who, used in totals.most_common()]


def _chart(title: str, counts: dict[str, int]) -> Chart:
    return bar_chart(title, counts.items())


def score_bins(values: list[float], *, lowest: float | None, highest: float | None, bins: int = 10) -> dict[str, int]:
    """Count scores in equal buckets over the metric's range (0 to 1 for an AUC), never over the scores' own spread.

    A metric without an upper bound (a loss) runs up to the largest score, rounded up to a round number; one
    without a lower bound starts at the smallest score.
    """
    if not values:
        return {}
    low = lowest if lowest is not None else min(values)
    high = highest if highest is not None else _round_up(max(values))
    if high <= low:
        high = low + 1.0
    width = (high - low) / bins
    counts = Counter(max(0, min(bins - 1, int((v - low) / width))) for v in values)
    return {f"{low + i * width:.3g} – {low + (i + 1) * width:.3g}": counts.get(i, 0) for i in range(bins)}


def _round_up(value: float) -> float:
    """Round a positive number up to 1, 2 or 5 times a power of ten, for a readable axis."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def event_grading_report(event: Event) -> GradingReport:
    """Return who took part (submitted at least once) and, per exercise, submissions per day and best scores."""
    confirmed = Registration.objects.filter(event=event, status=Registration.Status.CONFIRMED)
    graded = Submission.objects.filter(event_exercise__event=event, kind=Submission.Kind.GRADED)
    submitters = set(graded.values_list("participant_id", flat=True))
    absent = [r.user.email for r in confirmed.select_related("user") if r.user_id not in submitters]
    exercises = []
    for event_exercise in event.event_exercises.select_related("exercise"):
        mine = graded.filter(event_exercise=event_exercise)
        days = mine.annotate(day=TruncDate("created_at")).values("day").annotate(n=Count("id")).order_by("day")
        best = Max("score") if event_exercise.exercise.direction == "higher" else Min("score")
        bests = mine.filter(status=Submission.Status.SCORED).values("participant_id").annotate(best=best)
        exercises.append(
            ExerciseReport(
                title=event_exercise.exercise.title,
                per_day=_chart("Submissions per day", {f"{d['day']:%d %b}": d["n"] for d in days}),
                scores=_chart(
                    f"Best public {event_exercise.exercise.metric_label} per participant",
                    score_bins(
                        [b["best"] for b in bests],
                        lowest=METRICS[event_exercise.exercise.metric].lowest,
                        highest=METRICS[event_exercise.exercise.metric].highest,
                    ),
                ),
            )
        )
    return GradingReport(
        confirmed=confirmed.count(),
        attended=len(submitters & set(confirmed.values_list("user_id", flat=True))),
        absent_emails=absent,
        exercises=exercises,
        gpu_today=gpu_use_today(event),
    )
