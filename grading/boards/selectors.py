"""Queries the board pages, the CSV and the JSON endpoint read: every board in three queries, then ranked."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Exists, F, Model, OuterRef
from django.http import Http404
from django.utils import timezone

from exercises.models import Exercise
from grading.boards.charts import ProgressionChart, progression_chart
from grading.boards.ranking import Audience, Board, Entry, Part, Person, Ranking, is_revealed, rank_entries
from grading.models import BoardSettings, FinalPick, Submission
from grading.permissions import board_audience_of, roles_from, roles_held_in
from hackathon.models import Event, EventExercise, Registration
from hackathon.permissions import AnyUser

# The event's and the exercise's columns the board pages show and a board's computation reads (all the event
# exercise's come too); any other field loads on first use, a query each.
BOARD_PAGE_COLUMNS = (
    *("event__slug", "event__title", "event__published"),
    *("exercise__slug", "exercise__title", "exercise__metric", "exercise__metric_display_name"),
    *("exercise__direction", "exercise__target_baseline", "exercise__target_reference"),
)

# Stand-ins for the values of get_board_access's query, swapped for the real ones in its compiled parameters.
_USER, _EVENT, _EXERCISE = -1, "\x00event", "\x00exercise"


@functools.cache
def _board_access_query() -> tuple[str, tuple[Any, ...], tuple[tuple[int, Any], ...]]:
    """Compile get_board_access's query from its ORM definition once per process, with stand-ins for the values.

    Return the SQL, its parameters, and where each stand-in sits among them. Every browser in the room polls the
    boards: building the same query through the ORM on each request cost 1.5 ms of CPU (measured on SQLite), a
    third of a cached board's price; running the compiled one costs 0.1 ms.
    """
    query = EventExercise.objects.filter(event__slug=_EVENT, exercise__slug=_EXERCISE).values(
        *(field.attname for field in EventExercise._meta.concrete_fields),
        **{path.replace("__", "_"): F(path) for path in BOARD_PAGE_COLUMNS},
        **roles_held_in(_USER, "event_id"),
    )
    sql, params = query.query.sql_with_params()
    stand_ins = (_USER, _EVENT, _EXERCISE)
    slots = tuple((i, p) for i, p in enumerate(params) if isinstance(p, int | str) and p in stand_ins)
    return sql, tuple(params), slots


def get_board_access(user: AnyUser, slug: str, exercise_slug: str) -> tuple[EventExercise, Audience]:
    """Return the event's exercise and how the person reads its boards, in one query; 404 for anyone outside.

    The exercise, its event and the person's roles there (grading.permissions.roles_held_in) come from one query,
    and board_audience_of decides, as it does for every board page. The event and the exercise carry the columns
    of BOARD_PAGE_COLUMNS; any other field loads on first use.
    """
    refused = Http404("Only the event's participants, tutors and organizers see its boards.")
    if not user.is_authenticated:
        raise refused
    sql, compiled, slots = _board_access_query()
    values = {_USER: user.pk, _EVENT: slug, _EXERCISE: exercise_slug}
    params = list(compiled)
    for i, stand_in in slots:
        params[i] = values[stand_in]
    row = next(iter(EventExercise.objects.raw(sql, params)), None)
    if row is None:
        raise refused
    published = bool(row.event_published)  # SQLite answers 0 or 1
    audience = board_audience_of(user, roles_from(row), published=published)
    if audience is None:
        raise refused
    loaded: dict[str, dict[str, Any]] = {"event": {"id": row.event_id}, "exercise": {"id": row.exercise_id}}
    for path in BOARD_PAGE_COLUMNS:
        relation, name = path.split("__")
        loaded[relation][name] = getattr(row, f"{relation}_{name}")
    loaded["event"]["published"] = published
    row.event = _partial(Event, **loaded["event"])
    row.exercise = _partial(Exercise, **loaded["exercise"])
    return row, audience


def _partial(model: type[Model], **values: Any) -> Any:
    """Return a model instance loaded with these fields only; the others load from the database when read."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(DEFAULT_DB_ALIAS, names, [values[name] for name in names])


def board_decimals() -> int:
    return int(getattr(settings, "BOARD_DECIMALS", 4))


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


def score_progression(
    event_exercise: EventExercise, *, top: int = 5, now: dt.datetime | None = None
) -> ProgressionChart:
    """Chart how the live public bests of the current top entries grew, in three queries."""
    now = now or timezone.now()
    board = exercise_board(event_exercise, audience=Audience.ORGANIZER, now=now)
    entries = _load_entries([event_exercise.pk]).get(event_exercise.pk, [])
    return progression_chart(event_exercise, board, entries, top=top)
