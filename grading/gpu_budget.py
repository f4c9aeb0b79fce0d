"""Per-event GPU budgets: GPU-seconds per participant (or per group) per day, charged by the runs that hold a GPU.

A GPU run is charged its exercise's time limit when it starts and settled to the time it used when it ends;
a run the platform failed (infrastructure) is charged nothing. A submission of a GPU exercise waiting in the
queue holds its time limit too, so ten queued runs cannot overdraw the day. The day is the site's local day
(TIME_ZONE) of the run's start; the budget renews at local midnight.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, Sum
from django.utils import timezone

from grading.errors import GpuBudgetSpent
from grading.models import Submission
from hackathon.models import Event, EventExercise, Registration


@dataclass(frozen=True)
class GpuBudget:
    """One participant's or group's GPU time today."""

    limit_s: int
    used_s: float  # settled runs, runs in progress at their time limit, and queued runs at theirs
    per_group: bool  # shared with the group
    renews_at: dt.datetime

    @property
    def remaining_s(self) -> float:
        return max(0.0, self.limit_s - self.used_s)

    def covers(self, seconds: float) -> bool:
        return self.used_s + seconds <= self.limit_s

    def renewal(self, now: dt.datetime | None = None) -> str:
        """Say when the budget renews, e.g. "at 00:00 on 1 Dec (in 5 h 20 min)"."""
        left = max(0, int((self.renews_at - (now or timezone.now())).total_seconds()) // 60)
        local = timezone.localtime(self.renews_at)
        return f"at {local:%H:%M} on {local:%-d %b} (in {left // 60} h {left % 60} min)"


def day_start(now: dt.datetime) -> dt.datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def budget_holders(event: Event, participant_id: int) -> list[int]:
    """Return the ids of the people whose GPU runs share this participant's budget (their group, or them alone)."""
    if event.gpu_budget_per != Event.GpuBudgetPer.GROUP:
        return [participant_id]
    group = Registration.objects.filter(event=event, user_id=participant_id).values_list("group_id", flat=True).first()
    if group is None:
        return [participant_id]
    return list(Registration.objects.filter(event=event, group_id=group).values_list("user_id", flat=True))


def gpu_budget(*, event: Event, participant: AbstractBaseUser, now: dt.datetime | None = None) -> GpuBudget | None:
    """Return the participant's (or their group's) GPU budget today, or None when the event sets no limit."""
    if event.gpu_seconds_per_day is None:
        return None
    now = now or timezone.now()
    start = day_start(now)
    holders = budget_holders(event, participant.pk)
    runs = Submission.objects.filter(event_exercise__event=event, participant_id__in=holders)
    charged = runs.filter(started_at__gte=start, gpu_seconds__isnull=False).aggregate(s=Sum("gpu_seconds"))["s"]
    waiting = runs.filter(Q(status=Submission.Status.QUEUED) & Q(queue="gpu")).aggregate(
        s=Sum("event_exercise__exercise__wall_seconds")
    )["s"]
    return GpuBudget(
        limit_s=event.gpu_seconds_per_day,
        used_s=float(charged or 0) + float(waiting or 0),
        per_group=len(holders) > 1 or event.gpu_budget_per == Event.GpuBudgetPer.GROUP,
        renews_at=start + dt.timedelta(days=1),
    )


def check_gpu_budget(*, event_exercise: EventExercise, participant: AbstractBaseUser) -> None:
    """Refuse a run of a GPU exercise that today's GPU budget cannot cover, saying when it renews."""
    exercise = event_exercise.exercise
    if exercise.queue != "gpu":
        return
    now = timezone.now()
    budget = gpu_budget(event=event_exercise.event, participant=participant, now=now)
    if budget is None or budget.covers(exercise.wall_seconds):
        return
    whose = "Your group's" if budget.per_group else "Your"
    raise GpuBudgetSpent(
        f"{whose} GPU time for today cannot cover another run: {budget.used_s:.0f} of {budget.limit_s} GPU-seconds "
        f"are used or held by runs waiting or in progress, and a run of {exercise.title} may take "
        f"{exercise.wall_seconds} s. It renews {budget.renewal(now)}; submit again then."
    )


def charge_at_start(submission: Submission, attempt: int, gpu: bool) -> None:
    """Charge a GPU run its exercise's time limit as it starts (settled by `settled_seconds` when it ends)."""
    if not gpu:
        return
    seconds = float(submission.event_exercise.exercise.wall_seconds)
    Submission.objects.filter(pk=submission.pk, attempts=attempt).update(gpu_seconds=seconds)
    submission.gpu_seconds = seconds


def settled_seconds(submission: Submission, *, infrastructure: bool, duration_s: float | None) -> float | None:
    """Return what a GPU run finally costs: the time it used up to its limit, nothing if the platform failed."""
    if submission.gpu_seconds is None:
        return None
    if infrastructure or duration_s is None:
        return 0.0
    return min(float(duration_s), float(submission.event_exercise.exercise.wall_seconds))
