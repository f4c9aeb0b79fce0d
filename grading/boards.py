"""Leaderboards: each exercise's public, private and group boards, the combined event board, and the organizer's view.

Every board is computed from three queries whatever the number of submissions (options, scored submissions,
the people's names and groups), then ranked in Python; `cached_board` keeps the result for a few seconds so a
room of browsers polling the board costs one computation per interval (per site with a shared cache).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from grading.models import BoardSettings, FinalPick, Submission
from hackathon.models import Event, EventExercise, Registration

logger = logging.getLogger(__name__)


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


def board_decimals() -> int:
    return int(getattr(settings, "BOARD_DECIMALS", 4))


def board_cache_seconds() -> int:
    return settings.BOARD_CACHE_SECONDS


# In the cached boards' keys: change it with the Board or BoardRow fields, so that during a rolling upgrade the new
# code never unpickles a board the old code cached (nor the old code a new one).
BOARD_CACHE_FORMAT = 4


def _cache_key(event_exercise_id: int, audience: Audience, part: Part, ranking: Ranking) -> str:
    return f"board:v{BOARD_CACHE_FORMAT}:{event_exercise_id}:{audience}:{part}:{ranking}"


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


# --- What the board reads -----------------------------------------------------------------------------------


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


def options_of(event_exercise: EventExercise) -> BoardSettings:
    """Return the exercise's board settings, or unsaved defaults when the organizers never set any."""
    try:
        return event_exercise.board_settings
    except BoardSettings.DoesNotExist:
        return BoardSettings(event_exercise=event_exercise)


def _load_entries(event_exercise_ids: Iterable[int]) -> dict[int, list[Entry]]:
    """Read every scored graded submission of the exercises in one query, in submission order."""
    rows = (
        Submission.objects.filter(
            event_exercise_id__in=list(event_exercise_ids),
            kind=Submission.Kind.GRADED,
            status=Submission.Status.SCORED,
            score__isnull=False,
            disqualification__isnull=True,
        )
        .annotate(picked=Exists(FinalPick.objects.filter(submission_id=OuterRef("pk"))))
        .order_by("created_at", "id")
        .values_list(
            "event_exercise_id",
            "id",
            "uid",
            "participant_id",
            "score",
            "private_score",
            "created_at",
            "finished_at",
            "picked",
            "extension_id",
        )
    )
    entries: dict[int, list[Entry]] = defaultdict(list)
    for ee_id, pk, uid, participant_id, score, private, created, finished, picked, extension_id in rows:
        extended = extension_id is not None
        entries[ee_id].append(
            Entry(pk, str(uid), participant_id, score, private, created, finished or created, picked, extended)
        )
    return entries


def _load_people(event_id: int, participant_ids: Iterable[int]) -> dict[int, Person]:
    """Name each participant as the board shows them (their full name, never their email) with their group."""
    ids = set(participant_ids)
    if not ids:
        return {}
    rows = Registration.objects.filter(event_id=event_id, user_id__in=ids).values_list(
        "pk", "user_id", "user__first_name", "user__last_name", "group__number"
    )
    people = {}
    for pk, user_id, first, last, group_number in rows:
        name = f"{first} {last}".strip() or f"Participant {pk}"
        people[user_id] = Person(name, group_number)
    return people


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


# --- Selectors the pages, the CSV and the JSON endpoint read -------------------------------------------------


def exercise_board(
    event_exercise: EventExercise,
    *,
    audience: Audience,
    part: Part = Part.PUBLIC,
    ranking: Ranking = Ranking.PARTICIPANTS,
    now: dt.datetime | None = None,
) -> Board:
    """Compute one exercise's board for an audience in at most three queries."""
    now = now or timezone.now()
    options = BoardSettings.objects.filter(event_exercise_id=event_exercise.pk).first() or BoardSettings()
    options.event_exercise = event_exercise
    entries = _load_entries([event_exercise.pk]).get(event_exercise.pk, [])
    people = _load_people(event_exercise.event_id, {e.participant_id for e in entries})
    return rank_entries(
        event_exercise,
        options,
        entries,
        people,
        audience=audience,
        part=part,
        ranking=ranking,
        now=now,
        decimals=board_decimals(),
    )


def cached_board(
    event_exercise: EventExercise,
    *,
    audience: Audience,
    part: Part = Part.PUBLIC,
    ranking: Ranking = Ranking.PARTICIPANTS,
) -> Board:
    """Return the board computed at most BOARD_CACHE_SECONDS ago (0 turns the cache off)."""
    seconds = board_cache_seconds()
    if seconds <= 0:
        return exercise_board(event_exercise, audience=audience, part=part, ranking=ranking)
    key = _cache_key(event_exercise.pk, audience, part, ranking)
    try:
        board = cache.get(key)
    except Exception:  # a cache that is down slows the boards, it does not break them
        logger.warning("The cache could not be read; computing the board of exercise %s.", event_exercise.pk)
        return exercise_board(event_exercise, audience=audience, part=part, ranking=ranking)
    if board is None:
        board = exercise_board(event_exercise, audience=audience, part=part, ranking=ranking)
        try:
            cache.set(key, board, seconds)
        except Exception:
            logger.warning("The cache could not keep the board of exercise %s.", event_exercise.pk)
    return board


def forget_cached_boards(event_exercise: EventExercise) -> None:
    """Drop the exercise's cached boards, so a reveal, a freeze or a disqualification shows at once."""
    keys = [
        _cache_key(event_exercise.pk, audience, part, ranking)
        for audience in Audience
        for part in Part
        for ranking in Ranking
    ]
    try:
        cache.delete_many(keys)
    except Exception:  # the change is saved; the boards catch up within BOARD_CACHE_SECONDS
        logger.warning("The cache could not forget the boards of exercise %s.", event_exercise.pk)


def event_boards(
    event: Event,
    *,
    audience: Audience,
    part: Part = Part.PUBLIC,
    ranking: Ranking = Ranking.PARTICIPANTS,
    now: dt.datetime | None = None,
) -> list[Board]:
    """Compute the board of every exercise of the event in three queries."""
    now = now or timezone.now()
    event_exercises = list(event.event_exercises.select_related("exercise", "board_settings").order_by("pk"))
    entries = _load_entries(e.pk for e in event_exercises)
    people = _load_people(event.pk, {e.participant_id for found in entries.values() for e in found})
    return [
        rank_entries(
            ee,
            options_of(ee),
            entries.get(ee.pk, []),
            people,
            audience=audience,
            part=part,
            ranking=ranking,
            now=now,
            decimals=board_decimals(),
        )
        for ee in event_exercises
    ]


@dataclass(frozen=True)
class ExerciseOverview:
    """One exercise in the organizer's view: its options, live public and private boards, and progression."""

    event_exercise: EventExercise
    options: BoardSettings
    revealed: bool
    public: Board
    private: Board
    chart: ProgressionChart


def organizer_overview(event: Event, *, now: dt.datetime | None = None, top: int = 5) -> list[ExerciseOverview]:
    """Compute every exercise's live boards and chart for the organizers in three queries, whatever their number."""
    now = now or timezone.now()
    event_exercises = list(event.event_exercises.select_related("exercise", "board_settings").order_by("pk"))
    entries = _load_entries(e.pk for e in event_exercises)
    people = _load_people(event.pk, {e.participant_id for found in entries.values() for e in found})
    overview = []
    for ee in event_exercises:
        options = options_of(ee)
        theirs = entries.get(ee.pk, [])
        public, private = (
            rank_entries(
                ee,
                options,
                theirs,
                people,
                audience=Audience.ORGANIZER,
                part=part,
                ranking=Ranking.PARTICIPANTS,
                now=now,
                decimals=board_decimals(),
            )
            for part in (Part.PUBLIC, Part.PRIVATE)
        )
        chart = progression_chart(ee, public, theirs, top=top)
        overview.append(ExerciseOverview(ee, options, is_revealed(options, now), public, private, chart))
    return overview


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


# --- The organizer's view: activity, queues, failures, progression -----------------------------------------


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
    busiest = max((n for _, n in counts), default=0) or 1
    per_hour = tuple(
        HourCount(hour, n, x=4 + 26 * i, y=round(130 - 120 * n / busiest, 1), height=round(120 * n / busiest, 1))
        for i, (hour, n) in enumerate(counts)
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


def score_progression(
    event_exercise: EventExercise, *, top: int = 5, now: dt.datetime | None = None
) -> ProgressionChart:
    """Chart how the live public bests of the current top entries grew, in three queries."""
    now = now or timezone.now()
    board = exercise_board(event_exercise, audience=Audience.ORGANIZER, now=now)
    entries = _load_entries([event_exercise.pk]).get(event_exercise.pk, [])
    return progression_chart(event_exercise, board, entries, top=top)


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
