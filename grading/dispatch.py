"""Which queued submission a worker takes next: the fairest, not simply the oldest message.

Each grading message is a token for its queue. A worker holding one takes the oldest queued submission of the
participant with the fewest runs in flight or just finished (then of the group with the fewest, then the oldest
overall), so one participant with ten submissions queued does not hold up everyone behind them. Free check
runs get at most CHECK_SHARE of the recent runs of a queue while graded runs wait, so they cannot starve them.
`fairest` and `fair_order` are the pure rule; `candidates` reads its rows from the database, for
`grading.services.claim_next` (which claims the choice atomically) and for the queue position people are shown.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from grading.models import Submission
from hackathon.models import Registration

CHECK = "check"
CHECK_SHARE = 0.5  # while graded runs wait, check runs take at most this part of a queue's recent runs
FAIR_WINDOW = dt.timedelta(minutes=10)  # a run finished this recently still counts as its participant's share
FAIR_CANDIDATES = 2000  # the oldest queued submissions weighed against each other for the next run


@dataclass(frozen=True)
class Queued:
    """A submission waiting in the queue."""

    id: int
    participant_id: int
    group_id: int | None  # the participant's group in the event, None when they have none
    kind: str


@dataclass(frozen=True)
class Recent:
    """A run in flight or just finished: what a participant and their group have had lately."""

    participant_id: int
    group_id: int | None
    kind: str
    same_queue: bool = True


@dataclass
class Shares:
    """What participants, groups and check runs have had lately: the counts the rule weighs."""

    by_participant: Counter[int] = field(default_factory=Counter)
    by_group: Counter[int] = field(default_factory=Counter)
    checks: int = 0  # recent runs of this queue that were check runs
    total: int = 0  # recent runs of this queue

    @classmethod
    def of(cls, recent: Iterable[Recent]) -> Shares:
        shares = cls()
        for run in recent:
            shares.count(run)
        return shares

    def count(self, run: Recent) -> None:
        """Count one more run in flight or just finished."""
        self.by_participant[run.participant_id] += 1
        if run.group_id is not None:
            self.by_group[run.group_id] += 1
        if run.same_queue:
            self.total += 1
            self.checks += run.kind == CHECK

    def pick(self, queued: Sequence[Queued]) -> Queued | None:
        """Return the submission to run next among `queued`, or None when nothing waits."""
        if not queued:
            return None
        graded_waiting = any(item.kind != CHECK for item in queued)
        if graded_waiting and any(item.kind == CHECK for item in queued) and self.checks >= CHECK_SHARE * self.total:
            queued = [item for item in queued if item.kind != CHECK]

        def load(item: Queued) -> tuple[int, int, int]:
            mine = self.by_participant[item.participant_id]
            group = self.by_group[item.group_id] if item.group_id is not None else mine
            return (mine, group, item.id)

        return min(queued, key=load)


def fairest(queued: Sequence[Queued], recent: Sequence[Recent]) -> Queued | None:
    """Return the submission to run next, or None when nothing waits."""
    return Shares.of(recent).pick(queued)


def fair_order(queued: Sequence[Queued], recent: Sequence[Recent], *, until: int | None = None) -> list[Queued]:
    """Return the queued submissions in the order the rule runs them, if none finished and none arrived meanwhile.

    Stop after the submission whose id is `until`, when given. Each step weighs only the oldest submission of each
    lane (participant, group, kind: the rule never prefers a younger one of the same lane), so a queue of n from p
    participants costs about n * 2p comparisons, not n squared.
    """
    heads: dict[tuple[int, int | None, bool], list[Queued]] = {}
    for item in sorted(queued, key=lambda item: item.id, reverse=True):
        heads.setdefault(lane(item), []).append(item)  # oldest last
    shares = Shares.of(recent)
    order: list[Queued] = []
    while heads:
        chosen = shares.pick([line[-1] for line in heads.values()])
        assert chosen is not None
        order.append(chosen)
        shares.count(Recent(chosen.participant_id, chosen.group_id, chosen.kind))  # now in flight
        heads[lane(chosen)].pop()
        if not heads[lane(chosen)]:
            del heads[lane(chosen)]
        if chosen.id == until:
            break
    return order


def lane(item: Queued) -> tuple[int, int | None, bool]:
    """Return what the rule weighs of a submission besides its age: among one lane the oldest always goes first."""
    return (item.participant_id, item.group_id, item.kind == CHECK)


def candidates(queue: str, wall_seconds: int) -> tuple[list[Queued], list[Recent]]:
    """Return the queued submissions a message of this queue may run, and the recent runs of their events.

    A message runs only submissions whose exercise has its wall clock (the task's time limit was set from it).
    At most FAIR_CANDIDATES queued submissions, the oldest. Three queries.
    """
    rows = list(
        Submission.objects.filter(
            status=Submission.Status.QUEUED, queue=queue, event_exercise__exercise__wall_seconds=wall_seconds
        )
        .order_by("id")
        .values_list("id", "participant_id", "kind", "event_exercise__event_id")[:FAIR_CANDIDATES]
    )
    events = {event for *_, event in rows}
    groups = dict(
        ((user, event), group)
        for user, event, group in Registration.objects.filter(event_id__in=events).values_list(
            "user_id", "event_id", "group_id"
        )
    )
    since = timezone.now() - FAIR_WINDOW
    recent = (
        Submission.objects.filter(event_exercise__event_id__in=events)
        .filter(Q(status=Submission.Status.RUNNING) | Q(finished_at__gte=since))
        .values_list("participant_id", "kind", "event_exercise__event_id", "queue")
    )
    return (
        [Queued(pk, user, groups.get((user, event)), kind) for pk, user, kind, event in rows],
        [
            Recent(user, groups.get((user, event)), kind, same_queue=run_queue == queue)
            for user, kind, event, run_queue in recent
        ],
    )
