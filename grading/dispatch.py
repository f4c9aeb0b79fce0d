"""Which queued submission a worker takes next: the fairest, not simply the oldest message.

Each grading message is a token for its queue. A worker holding one takes the oldest queued submission of the
participant with the fewest runs in flight or just finished (then of the group with the fewest, then the oldest
overall), so one participant with ten submissions queued does not hold up everyone behind them. Free check
runs get at most CHECK_SHARE of the recent runs of a queue while graded runs wait, so they cannot starve them.
This module is the pure rule; `grading.services.claim_next` feeds it rows and claims its choice atomically.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

CHECK = "check"
CHECK_SHARE = 0.5  # while graded runs wait, check runs take at most this part of a queue's recent runs


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


def fairest(queued: Sequence[Queued], recent: Sequence[Recent]) -> Queued | None:
    """Return the submission to run next, or None when nothing waits."""
    if not queued:
        return None
    in_queue = Counter(run.kind == CHECK for run in recent if run.same_queue)
    checks, total = in_queue[True], in_queue[True] + in_queue[False]
    graded_waiting = any(item.kind != CHECK for item in queued)
    if graded_waiting and any(item.kind == CHECK for item in queued) and checks >= CHECK_SHARE * total:
        queued = [item for item in queued if item.kind != CHECK]
    by_participant = Counter(run.participant_id for run in recent)
    by_group = Counter(run.group_id for run in recent if run.group_id is not None)

    def load(item: Queued) -> tuple[int, int, int]:
        group = by_group[item.group_id] if item.group_id is not None else by_participant[item.participant_id]
        return (by_participant[item.participant_id], group, item.id)

    return min(queued, key=load)
