"""The group optimizer: participants to use-case groups by preference, tutors to groups by ratio and expertise.

Plain Python and SciPy, no Django: services.py feeds it values and stores what it returns.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

# Each step down a person's ranking costs one. A tutor missing from the ratio costs as much as moving three
# people one step down their rankings: preferences give way a little so that groups keep their tutors.
MISSING_TUTOR_PENALTY = 3.0
TIE_BREAK = 0.001
# In the tutor program: giving a group its first tutor outweighs everything; then each further tutor a group
# needs outweighs any expertise mismatch (at most 1 per pairing).
FIRST_TUTOR_REWARD = 1000.0
FURTHER_TUTOR_REWARD = 2.0


@dataclass(frozen=True)
class UseCase:
    id: int
    title: str
    labels: frozenset[str]


@dataclass(frozen=True)
class Participant:
    id: int
    ranking: tuple[int, ...]  # use-case ids, favourite first


@dataclass(frozen=True)
class Tutor:
    id: int
    expertise: frozenset[str]
    max_groups: int = 1


@dataclass(frozen=True)
class PlannedGroup:
    number: int
    use_case: int
    members: tuple[int, ...]
    tutors: tuple[int, ...]


@dataclass(frozen=True)
class GroupReport:
    number: int
    use_case: int
    size: int
    tutors: int
    tutors_needed: int
    unmatched_labels: frozenset[str]  # the use case's labels that none of the group's tutors knows

    @property
    def meets_ratio(self) -> bool:
        return self.tutors >= self.tutors_needed


@dataclass(frozen=True)
class AssignmentReport:
    participants: int
    first_choice: int
    by_choice: tuple[tuple[int, int], ...]  # (rank, how many got it); rank 0 means "not ranked"
    groups: tuple[GroupReport, ...]
    idle_tutors: tuple[int, ...]

    @property
    def groups_below_ratio(self) -> tuple[GroupReport, ...]:
        return tuple(g for g in self.groups if not g.meets_ratio)

    @property
    def groups_with_unmatched_expertise(self) -> tuple[GroupReport, ...]:
        return tuple(g for g in self.groups if g.unmatched_labels)


def tutors_needed(size: int, participants_per_tutor: int) -> int:
    """Return how many tutors a group of this size needs to meet the event's ratio."""
    return math.ceil(size / participants_per_tutor) if size else 0


def mismatch(use_case: UseCase, expertise: frozenset[str]) -> float:
    """Return the share of the use case's labels the tutor does not know (0 = knows them all)."""
    if not use_case.labels:
        return 0.0
    return len(use_case.labels - expertise) / len(use_case.labels)


def choose_use_cases(
    participants: list[Participant],
    use_cases: list[UseCase],
    *,
    group_size: int,
    participants_per_tutor: int = 1,
    tutor_places: int | None = None,
    min_group_size: int = 2,
) -> dict[int, int]:
    """Map each participant to a use case with one small integer program.

    Minimize how far down their ranking people are placed, plus a penalty for each tutor the resulting groups
    would lack (`tutor_places` is how many group places the tutors offer; None when tutors are not known).
    A use case is either closed or holds at least `min_group_size` people, so no one ends up alone.
    """
    if not participants or not use_cases:
        return {}
    p_count, u_count = len(participants), len(use_cases)
    x_count = p_count * u_count
    # Layout of the variables: x[p, u] (placed), then open[u], tutors[u], groups[u], and the tutor shortfall.
    open_at, tutors_at, groups_at, short_at = x_count, x_count + u_count, x_count + 2 * u_count, x_count + 3 * u_count
    size = short_at + 1
    cost = np.zeros(size)
    for p, person in enumerate(participants):
        ranks = {u: r for r, u in enumerate(person.ranking)}
        for u, use_case in enumerate(use_cases):
            cost[p * u_count + u] = ranks.get(use_case.id, len(person.ranking) + 1)
    cost[groups_at:short_at] = TIE_BREAK  # no more groups or tutors than the sizes call for
    cost[tutors_at:groups_at] = TIE_BREAK
    cost[short_at] = MISSING_TUTOR_PENALTY if tutor_places is not None else 0
    rows: list[np.ndarray] = []
    lower: list[float] = []
    upper: list[float] = []

    def constrain(coefficients: dict[int, float], low: float, high: float) -> None:
        row = np.zeros(size)
        for index, value in coefficients.items():
            row[index] += value
        rows.append(row)
        lower.append(low)
        upper.append(high)

    for p in range(p_count):
        constrain({p * u_count + u: 1 for u in range(u_count)}, 1, 1)
    smallest = min(min_group_size, p_count)
    for u in range(u_count):
        members = {p * u_count + u: 1.0 for p in range(p_count)}
        constrain({**members, open_at + u: -p_count}, -np.inf, 0)
        constrain({**members, open_at + u: -smallest}, 0, np.inf)
        constrain({**{k: -v for k, v in members.items()}, tutors_at + u: participants_per_tutor}, 0, np.inf)
        constrain({**{k: -v for k, v in members.items()}, groups_at + u: group_size}, 0, np.inf)
        constrain({tutors_at + u: 1, groups_at + u: -1}, 0, np.inf)  # every group needs at least one tutor
    if tutor_places is not None:
        constrain({**{tutors_at + u: 1 for u in range(u_count)}, short_at: -1}, -np.inf, tutor_places)
    upper_bounds = np.full(size, float(p_count))
    upper_bounds[:tutors_at] = 1
    upper_bounds[short_at] = np.inf
    result = milp(
        cost,
        constraints=LinearConstraint(np.array(rows), lower, upper),
        integrality=np.ones(size),
        bounds=Bounds(0, upper_bounds),
    )
    if result.x is None:
        raise RuntimeError(f"The group assignment found no solution: {result.message}")
    placed = np.round(result.x[:x_count]).reshape(p_count, u_count)
    return {participants[p].id: use_cases[int(np.argmax(placed[p]))].id for p in range(p_count)}


def split_into_groups(chosen: dict[int, int], participants: list[Participant], *, group_size: int) -> list[list]:
    """Split each use case's people into the fewest groups of at most `group_size`, sizes differing by one."""
    order = {p.id: i for i, p in enumerate(participants)}
    planned: list[list] = []  # [use_case, members]
    for use_case in sorted(set(chosen.values())):
        members = sorted((p for p, u in chosen.items() if u == use_case), key=order.__getitem__)
        count = math.ceil(len(members) / group_size)
        for i in range(count):
            planned.append([use_case, tuple(members[i::count])])
    return planned


def assign_tutors(
    groups: list[tuple[int, int]], tutors: list[Tutor], use_cases: dict[int, UseCase], *, participants_per_tutor: int
) -> list[tuple[int, ...]]:
    """Give each group (use case, size) its tutors with a small integer program.

    Maximize first the groups that have a tutor at all, then the tutors each group needs by the ratio, then
    the tutors' knowledge of the group's use case. Returns the tutor ids of each group, in order.
    """
    if not groups or not tutors:
        return [() for _ in groups]
    t_count, g_count = len(tutors), len(groups)
    x_count = t_count * g_count  # x[t, g] = 1 when tutor t helps group g; then z[g] = 1 when g has any tutor
    cost = np.zeros(x_count + g_count)
    for t, tutor in enumerate(tutors):
        for g, (use_case, _size) in enumerate(groups):
            cost[t * g_count + g] = mismatch(use_cases[use_case], tutor.expertise) - FURTHER_TUTOR_REWARD
    cost[x_count:] = -FIRST_TUTOR_REWARD
    rows, lower, upper = [], [], []
    for t, tutor in enumerate(tutors):
        row = np.zeros(x_count + g_count)
        row[t * g_count : (t + 1) * g_count] = 1
        rows.append(row), lower.append(0), upper.append(tutor.max_groups)
    for g, (_use_case, size) in enumerate(groups):
        row = np.zeros(x_count + g_count)
        row[g:x_count:g_count] = 1
        rows.append(row), lower.append(0), upper.append(tutors_needed(size, participants_per_tutor))
        has_tutor = row.copy() * -1
        has_tutor[x_count + g] = 1
        rows.append(has_tutor), lower.append(-np.inf), upper.append(0)
    result = milp(
        cost,
        constraints=LinearConstraint(np.array(rows), lower, upper),
        integrality=np.ones(x_count + g_count),
        bounds=Bounds(0, 1),
    )
    if result.x is None:  # cannot happen with these bounds (all zeros is feasible); fail loudly if it does
        raise RuntimeError(f"The tutor assignment found no solution: {result.message}")
    chosen = np.round(result.x[:x_count]).reshape(t_count, g_count)
    return [tuple(tutors[t].id for t in range(t_count) if chosen[t, g]) for g in range(g_count)]


def plan_groups(
    participants: list[Participant],
    use_cases: list[UseCase],
    tutors: list[Tutor],
    *,
    group_size: int,
    participants_per_tutor: int,
) -> list[PlannedGroup]:
    """Form groups per use case from the rankings and give them tutors; numbers start at 1."""
    places = sum(t.max_groups for t in tutors) if tutors else None
    chosen = choose_use_cases(
        participants,
        use_cases,
        group_size=group_size,
        participants_per_tutor=participants_per_tutor,
        tutor_places=places,
    )
    planned = split_into_groups(chosen, participants, group_size=group_size)
    by_id = {u.id: u for u in use_cases}
    tutor_sets = assign_tutors(
        [(u, len(members)) for u, members in planned], tutors, by_id, participants_per_tutor=participants_per_tutor
    )
    return [
        PlannedGroup(number=i, use_case=u, members=members, tutors=group_tutors)
        for i, ((u, members), group_tutors) in enumerate(zip(planned, tutor_sets, strict=True), start=1)
    ]


def summarize(
    groups: list[PlannedGroup],
    participants: list[Participant],
    use_cases: list[UseCase],
    tutors: list[Tutor],
    *,
    participants_per_tutor: int,
) -> AssignmentReport:
    """Report on groups as they stand (planned or moved by hand): choices met, ratio and expertise per group."""
    rankings = {p.id: p.ranking for p in participants}
    by_use_case = {u.id: u for u in use_cases}
    expertise = {t.id: t.expertise for t in tutors}
    choices: Counter[int] = Counter()
    reports = []
    for group in groups:
        for member in group.members:
            ranking = rankings.get(member, ())
            choices[ranking.index(group.use_case) + 1 if group.use_case in ranking else 0] += 1
        known = frozenset().union(*(expertise.get(t, frozenset()) for t in group.tutors))
        reports.append(
            GroupReport(
                number=group.number,
                use_case=group.use_case,
                size=len(group.members),
                tutors=len(group.tutors),
                tutors_needed=tutors_needed(len(group.members), participants_per_tutor),
                unmatched_labels=by_use_case[group.use_case].labels - known
                if group.use_case in by_use_case
                else frozenset(),
            )
        )
    busy = {t for g in groups for t in g.tutors}
    return AssignmentReport(
        participants=sum(choices.values()),
        first_choice=choices[1],
        by_choice=tuple(sorted(choices.items())),
        groups=tuple(reports),
        idle_tutors=tuple(t.id for t in tutors if t.id not in busy),
    )
