"""The boards' pure domain core: what a board is, and the rules that rank scored submissions into one.

No queries here: selectors feed `rank_entries` the entries, the people and the options, so every rule (best
score, ladder, freeze, reveal, final picks, groups, targets) is tested without a database.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from django.utils import timezone

if TYPE_CHECKING:
    from grading.models import BoardSettings
    from hackathon.models import Event, EventExercise


class Audience(enum.StrEnum):
    """Who reads a board: organizers see it live and always see the private part; everybody else does not."""

    ORGANIZER = "organizer"
    PARTICIPANT = "participant"


class Part(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class Ranking(enum.StrEnum):
    PARTICIPANTS = "participants"
    GROUPS = "groups"


class RowKind(enum.StrEnum):
    PARTICIPANT = "participant"
    GROUP = "group"
    BASELINE = "baseline"
    REFERENCE = "reference"


# --- Values crossing into pages, CSV and JSON ---------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    """One line of a board: a participant's or group's counted submission, or an orientation row (rank None)."""

    rank: int | None
    kind: RowKind
    name: str
    score: float
    submitted_at: dt.datetime | None = None
    submissions: int = 0
    participant_id: int | None = None
    group_number: int | None = None
    # Only organizers' boards carry the counted submission, so they can open or disqualify it.
    submission_uid: str | None = None
    # Formatted once when the board is computed, so a cached board renders without per-row filters.
    shown_score: str = ""
    shown_time: str = ""
    # The counted submission came in after the exercise closed, under the person's extension.
    extended: bool = False


@dataclass(frozen=True)
class Board:
    """One exercise's board as one audience may see it at one moment."""

    event_exercise_id: int
    exercise_title: str
    metric: str
    direction: str
    part: Part
    ranking: Ranking
    audience: Audience
    decimals: int
    generated_at: dt.datetime
    rows: tuple[BoardRow, ...] = ()
    hidden: bool = False
    reveal_at: dt.datetime | None = None
    frozen: bool = False
    freezes_at: dt.datetime | None = None
    ladder: bool = False
    ladder_step: float | None = None
    final_picks: int = 0
    revealed: bool = False

    @property
    def ranked(self) -> tuple[BoardRow, ...]:
        return tuple(row for row in self.rows if row.rank is not None)


@dataclass(frozen=True)
class CombinedRow:
    rank: int
    name: str
    participant_id: int
    mean_normalized_rank: float
    ranks: tuple[int | None, ...]


@dataclass(frozen=True)
class CombinedBoard:
    """The event's overall ranking: the mean of each participant's normalized ranks over the exercises."""

    event_id: int
    part: Part
    exercises: tuple[str, ...]
    rows: tuple[CombinedRow, ...]
    hidden_exercises: tuple[str, ...]
    generated_at: dt.datetime


@dataclass(frozen=True)
class Entry:
    """A scored graded submission as the boards read it."""

    submission_id: int
    uid: str
    participant_id: int
    score: float
    private_score: float | None
    created_at: dt.datetime
    scored_at: dt.datetime
    picked: bool
    extended: bool = False


@dataclass(frozen=True)
class Person:
    name: str
    group_number: int | None


# --- Ranking rules ------------------------------------------------------------------------------------------


def _sort_key(score: float, when: dt.datetime, tiebreak: int, *, higher: bool, decimals: int) -> tuple[Any, ...]:
    """Compare scores as shown (rounded), then the earlier submission first."""
    shown = round(score, decimals)
    return (-shown if higher else shown, when, tiebreak)


def _best(entries: Sequence[Entry], value: str, *, higher: bool, decimals: int) -> Entry | None:
    candidates = [e for e in entries if getattr(e, value) is not None]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda e: _sort_key(getattr(e, value), e.created_at, e.submission_id, higher=higher, decimals=decimals),
    )


def ladder_score(scores: Sequence[float], *, step: float, higher: bool) -> tuple[float, int] | None:
    """Return the Ladder's shown score and the index of the submission that set it (Blum and Hardt, 2015).

    A submission replaces the shown score only when it beats it by more than `step`; the shown score is then
    that submission's score rounded to a multiple of `step`. Small lucky gains on the public part therefore
    never show, which keeps the public board from being climbed by probing it.
    """
    shown: float | None = None
    index = -1
    for i, score in enumerate(scores):
        if shown is None or (score - shown if higher else shown - score) > step:
            shown = round(round(score / step) * step, 10)
            index = i
    return None if shown is None else (shown, index)


def is_frozen(options: BoardSettings, now: dt.datetime) -> bool:
    freezes_at = freeze_time(options)
    return freezes_at is not None and now >= freezes_at


def freeze_time(options: BoardSettings) -> dt.datetime | None:
    if options.freeze_minutes is None:
        return None
    return options.event_exercise.closes_at - dt.timedelta(minutes=options.freeze_minutes)


def is_revealed(options: BoardSettings, now: dt.datetime) -> bool:
    """The private board is open to participants once revealed by an organizer or its scheduled time has come."""
    return options.revealed_at is not None or (options.reveal_at is not None and now >= options.reveal_at)


def final_selection(entries: Sequence[Entry], *, picks_allowed: int, higher: bool, decimals: int) -> list[Entry]:
    """Return the submissions that count for the final ranking: the picks if any, else the best public one."""
    if picks_allowed:
        picked = [e for e in entries if e.picked]
        if picked:
            return picked
    best = _best(entries, "score", higher=higher, decimals=decimals)
    return [best] if best else []


def rank_entries(
    event_exercise: EventExercise,
    options: BoardSettings,
    entries: Sequence[Entry],
    people: dict[int, Person],
    *,
    audience: Audience,
    part: Part,
    ranking: Ranking,
    now: dt.datetime,
    decimals: int,
) -> Board:
    """Rank the entries into the board the audience may see now; pure, so every rule is tested without a database."""
    exercise = event_exercise.exercise
    higher = exercise.direction == "higher"
    freezes_at = freeze_time(options)
    revealed = is_revealed(options, now)
    # Once the private board is out there is nothing left to hide: the public board is never frozen after a reveal.
    frozen = audience is Audience.PARTICIPANT and is_frozen(options, now) and not revealed
    ladder = audience is Audience.PARTICIPANT and options.ladder and part is Part.PUBLIC
    header = {
        "event_exercise_id": event_exercise.pk,
        "exercise_title": exercise.title,
        "metric": exercise.metric,
        "direction": exercise.direction,
        "part": part,
        "ranking": ranking,
        "audience": audience,
        "decimals": decimals,
        "generated_at": now,
        "reveal_at": options.reveal_at,
        "freezes_at": freezes_at,
        "frozen": frozen and part is Part.PUBLIC,
        "ladder": options.ladder,
        "ladder_step": options.ladder_step if options.ladder else None,
        "final_picks": options.final_picks,
        "revealed": revealed,
    }
    if part is Part.PRIVATE and audience is Audience.PARTICIPANT and not revealed:
        return Board(**header, hidden=True)

    by_participant: dict[int, list[Entry]] = defaultdict(list)
    for entry in entries:
        if frozen and part is Part.PUBLIC and freezes_at is not None and entry.scored_at >= freezes_at:
            continue  # the frozen board shows only what was scored before the freeze
        by_participant[entry.participant_id].append(entry)

    keyed: list[tuple[tuple[Any, ...], BoardRow]] = []
    for participant_id, theirs in by_participant.items():
        person = people.get(participant_id, Person(f"Participant #{participant_id}", None))
        if part is Part.PUBLIC and ladder:
            found = ladder_score([e.score for e in theirs], step=options.ladder_step, higher=higher)
            if found is None:
                continue
            score, index = found
            counted = theirs[index]
        elif part is Part.PUBLIC:
            best = _best(theirs, "score", higher=higher, decimals=decimals)
            if best is None:
                continue
            score, counted = best.score, best
        else:
            selected = final_selection(theirs, picks_allowed=options.final_picks, higher=higher, decimals=decimals)
            best = _best(selected, "private_score", higher=higher, decimals=decimals)
            if best is None or best.private_score is None:
                continue
            score, counted = best.private_score, best
        row = BoardRow(
            rank=None,
            kind=RowKind.PARTICIPANT,
            name=person.name,
            score=round(score, decimals),
            submitted_at=counted.created_at,
            submissions=len(theirs),
            participant_id=participant_id,
            group_number=person.group_number,
            submission_uid=counted.uid if audience is Audience.ORGANIZER else None,
            extended=counted.extended,
        )
        keyed.append(
            (_sort_key(score, counted.created_at, counted.submission_id, higher=higher, decimals=decimals), row)
        )

    if ranking is Ranking.GROUPS:
        keyed = _group_rows(keyed)

    keyed.sort(key=lambda pair: pair[0])
    rows = [_with_rank(row, i) for i, (_, row) in enumerate(keyed, start=1)]
    if options.show_targets:
        rows = _with_targets(rows, exercise, higher=higher, decimals=decimals)
    return Board(**header, rows=tuple(_formatted(row, decimals) for row in rows))


def _formatted(row: BoardRow, decimals: int) -> BoardRow:
    when = f"{timezone.localtime(row.submitted_at):%d %b %H:%M}" if row.submitted_at else ""
    return replace(row, shown_score=f"{row.score:.{decimals}f}", shown_time=when)


def _with_rank(row: BoardRow, rank: int) -> BoardRow:
    return replace(row, rank=rank)


def _group_rows(keyed: list[tuple[tuple[Any, ...], BoardRow]]) -> list[tuple[tuple[Any, ...], BoardRow]]:
    """Rank each group by its best member's entry; participants without a group are left off this board."""
    best: dict[int, tuple[tuple[Any, ...], BoardRow]] = {}
    members: dict[int, int] = defaultdict(int)
    submissions: dict[int, int] = defaultdict(int)
    for key, row in keyed:
        if row.group_number is None:
            continue
        members[row.group_number] += 1
        submissions[row.group_number] += row.submissions
        if row.group_number not in best or key < best[row.group_number][0]:
            best[row.group_number] = (key, row)
    grouped = []
    for number, (key, row) in best.items():
        grouped.append(
            (
                key,
                BoardRow(
                    rank=None,
                    kind=RowKind.GROUP,
                    name=f"Group {number} ({members[number]} on the board, best: {row.name})",
                    score=row.score,
                    submitted_at=row.submitted_at,
                    submissions=submissions[number],
                    group_number=number,
                    submission_uid=row.submission_uid,
                    extended=row.extended,
                ),
            )
        )
    return grouped


def _with_targets(rows: list[BoardRow], exercise: Any, *, higher: bool, decimals: int) -> list[BoardRow]:
    """Place the manifest's baseline and reference rows where their scores fall, after equal participants."""
    targets = [
        # The reference is what to aim for; the baseline (a trivial model) only the score to beat.
        BoardRow(None, RowKind.BASELINE, "Baseline (the score to beat)", round(exercise.target_baseline, decimals)),
        BoardRow(
            None,
            RowKind.REFERENCE,
            "Reference solution (the exercise's target)",
            round(exercise.target_reference, decimals),
        ),
    ]
    merged = list(rows)
    for target in targets:
        position = len(merged)
        for i, row in enumerate(merged):
            if (target.score > row.score) if higher else (target.score < row.score):
                position = i
                break
        merged.insert(position, target)
    return merged


def combined_board(event: Event, boards: Sequence[Board]) -> CombinedBoard:
    """Rank participants by the mean of their normalized ranks (0 first, 1 last); a missing exercise counts as last.

    Ties go to the participant whose counted submissions were all in earlier.
    """
    shown = [b for b in boards if not b.hidden]
    participants: dict[int, str] = {}
    latest: dict[int, dt.datetime] = {}
    for board in shown:
        for row in board.ranked:
            if row.participant_id is None:
                continue
            participants[row.participant_id] = row.name
            if row.submitted_at is not None:
                latest[row.participant_id] = max(latest.get(row.participant_id, row.submitted_at), row.submitted_at)
    results = []
    for participant_id, name in participants.items():
        normalized = []
        ranks: list[int | None] = []
        for board in shown:
            ranked = board.ranked
            rank = next((r.rank for r in ranked if r.participant_id == participant_id), None)
            ranks.append(rank)
            if rank is None:
                normalized.append(1.0)
            else:
                normalized.append((rank - 1) / (len(ranked) - 1) if len(ranked) > 1 else 0.0)
        mean = sum(normalized) / len(normalized)
        results.append(
            (mean, latest.get(participant_id, dt.datetime.max.replace(tzinfo=dt.UTC)), name, participant_id, ranks)
        )
    results.sort(key=lambda item: (round(item[0], 9), item[1], item[3]))
    rows = tuple(
        CombinedRow(rank=i, name=name, participant_id=pid, mean_normalized_rank=round(mean, 4), ranks=tuple(ranks))
        for i, (mean, _, name, pid, ranks) in enumerate(results, start=1)
    )
    return CombinedBoard(
        event_id=event.pk,
        part=shown[0].part if shown else Part.PUBLIC,
        exercises=tuple(b.exercise_title for b in shown),
        rows=rows,
        hidden_exercises=tuple(b.exercise_title for b in boards if b.hidden),
        generated_at=timezone.now(),
    )


def board_json(board: Board, *, viewer_id: int | None = None) -> dict[str, Any]:
    """Return the board as the JSON endpoint sends it; participants' ids and submissions stay out of it."""
    organizer = board.audience is Audience.ORGANIZER
    return {
        "exercise": board.exercise_title,
        "metric": board.metric,
        "direction": board.direction,
        "part": str(board.part),
        "ranking": str(board.ranking),
        "decimals": board.decimals,
        "hidden": board.hidden,
        "frozen": board.frozen,
        "freezes_at": board.freezes_at.isoformat() if board.freezes_at else None,
        "ladder": board.ladder,
        "ladder_step": board.ladder_step,
        "generated_at": board.generated_at.isoformat(),
        "rows": [
            {
                "rank": row.rank,
                "kind": str(row.kind),
                "name": row.name,
                "score": row.score,
                "submitted_at": row.submitted_at.isoformat() if row.submitted_at else None,
                "submissions": row.submissions,
                "group": row.group_number,
                "you": viewer_id is not None and row.participant_id == viewer_id,
                "extended": row.extended,
                **({"submission": row.submission_uid} if organizer else {}),
            }
            for row in board.rows
        ],
    }
