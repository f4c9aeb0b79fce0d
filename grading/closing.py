"""After an exercise's deadline: releasing the reference solution and consenting participants' notebooks, and the
debrief page's score distribution, common errors and released notebooks."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import nbformat
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from exercises.metrics import METRICS
from exercises.release import solution_notebook
from exercises.services import bundle_of
from grading.errors import ReleaseRefused, SharingRefused
from grading.models import AuditEntry, ReleasedNotebook, Submission
from grading.reports import score_bins
from grading.tutoring.selectors import person_name
from grading.tutoring.stuck import ErrorSignature, shared_errors
from hackathon.charts import Chart, bar_chart
from hackathon.models import EventExercise, Extension, Registration

TOP_SUBMISSIONS = 10
COMMON_ERRORS = 10
# An error that hit one person only is theirs, not common: its message may quote their code, and the debrief is
# read by the whole event.
COMMON_ERROR_MIN_PEOPLE = 2


def has_closed(event_exercise: EventExercise, at: dt.datetime | None = None) -> bool:
    """Whether the exercise's deadline, and every extension of it, has passed: nothing of the debrief shows before."""
    return (at or timezone.now()) >= event_exercise.last_closing()


def still_solving_elsewhere(
    user: AbstractBaseUser, event_exercise: EventExercise, at: dt.datetime | None = None
) -> EventExercise | None:
    """Return another edition of this exercise that the person still takes part in, or None.

    The reference solution and the participants' notebooks solve every edition of an exercise: a person confirmed in
    an event whose edition has not closed for them (its closing or their extension is ahead) reads none of them.
    """
    moment = at or timezone.now()
    running = Extension.objects.filter(event_exercise=OuterRef("pk"), user=user, until__gt=moment)
    taking_part = Registration.objects.filter(event=OuterRef("event"), user=user, status=Registration.Status.CONFIRMED)
    return (
        EventExercise.objects.filter(exercise_id=event_exercise.exercise_id)
        .exclude(pk=event_exercise.pk)
        .filter(Exists(taking_part))
        .filter(Q(closes_at__gt=moment) | Exists(running))
        .select_related("event")
        .order_by("closes_at")
        .first()
    )


def _refuse_before_the_deadline(event_exercise: EventExercise) -> None:
    if not has_closed(event_exercise):
        raise ReleaseRefused(
            f"{event_exercise.exercise.title} takes submissions until "
            f"{timezone.localtime(event_exercise.last_closing()):%d %b %Y at %H:%M}; release notebooks after that."
        )


def counted_submissions(event_exercise: EventExercise) -> QuerySet[Submission]:
    """Return the exercise's scored graded submissions that count: those not taken off the boards."""
    return event_exercise.submissions.filter(
        kind=Submission.Kind.GRADED, status=Submission.Status.SCORED, score__isnull=False, disqualification__isnull=True
    )


def best_submissions(event_exercise: EventExercise) -> list[Submission]:
    """Return each participant's best public-scored submission, best first (ties: the earlier one)."""
    higher = event_exercise.exercise.direction == "higher"
    best: dict[int, Submission] = {}
    rows = counted_submissions(event_exercise).select_related("participant").order_by("created_at", "id")
    for submission in rows:
        held = best.get(submission.participant_id)
        score = float(submission.score or 0.0)
        if held is None or (score > float(held.score or 0.0) if higher else score < float(held.score or 0.0)):
            best[submission.participant_id] = submission
    return sorted(best.values(), key=lambda s: (-(s.score or 0.0) if higher else (s.score or 0.0), s.created_at))


# --- Releasing ---------------------------------------------------------------------------------------------------


def release_reference(*, event_exercise: EventExercise, actor: AbstractBaseUser) -> ReleasedNotebook:
    """Release the exercise's reference solution (the bundle's source notebook, hidden tests removed).

    Raise ReleaseRefused before the deadline or when it is released already.
    """
    _refuse_before_the_deadline(event_exercise)
    notebook = solution_notebook(bundle_of(event_exercise.exercise).source_notebook)
    try:
        with transaction.atomic():
            return ReleasedNotebook.objects.create(
                event_exercise=event_exercise,
                kind=ReleasedNotebook.Kind.REFERENCE,
                title=f"Reference solution of {event_exercise.exercise.title}",
                notebook=json.loads(nbformat.writes(notebook)),
                released_by=actor,
            )
    except IntegrityError:
        raise ReleaseRefused("The reference solution is released already.") from None


_NO_CONSENT = "Its author did not agree to share this notebook (or stopped sharing it), so it cannot be released."


def release_submission(*, submission: Submission, actor: AbstractBaseUser) -> ReleasedNotebook:
    """Release a participant's notebook as they sent it; only one whose author agreed when submitting.

    Raise ReleaseRefused without the author's consent, before the deadline, or when it is released already.
    """
    event_exercise = submission.event_exercise
    if not submission.share_notebook:
        raise ReleaseRefused(_NO_CONSENT)
    _refuse_before_the_deadline(event_exercise)
    with submission.notebook.open("rb") as handle:
        notebook = nbformat.reads(handle.read().decode("utf-8"), as_version=4)
    # Outputs stay out: they were made on the participant's data, and a notebook is read for its code and prose.
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    score = "" if submission.score is None else f", public score {submission.score:.4f}"
    try:
        with transaction.atomic():
            # The author may withdraw while this runs: their row lock (set_notebook_sharing) orders the two, and
            # consent is read again under it, so a withdrawn notebook is never released.
            if not Submission.objects.select_for_update().filter(pk=submission.pk, share_notebook=True).exists():
                raise ReleaseRefused(_NO_CONSENT)
            return ReleasedNotebook.objects.create(
                event_exercise=event_exercise,
                kind=ReleasedNotebook.Kind.SUBMISSION,
                submission=submission,
                title=f"Notebook of {person_name(submission.participant)}{score}",
                notebook=json.loads(nbformat.writes(notebook)),
                released_by=actor,
            )
    except IntegrityError:
        raise ReleaseRefused("This notebook is released already.") from None


def withdraw_release(*, released: ReleasedNotebook) -> None:
    """Take a released notebook back: the event's people no longer see it."""
    released.delete()


# --- The author's consent --------------------------------------------------------------------------------------


def set_notebook_sharing(*, submission: Submission, author: AbstractBaseUser, share: bool) -> bool:
    """Give (`share=True`) or withdraw the author's consent to show this notebook to the event's people.

    Consent may change at any time, before or after the deadline. Giving it makes the notebook one the organizers
    may release; nothing is released by itself (releasing stays the organizers' act, notebook by notebook, on the
    debrief). Withdrawing it also takes back the notebook's release, if any: it leaves the debrief and its address
    answers 404. Each change is written to the exercise's audit log; asking for what already holds changes nothing
    and writes nothing. Return whether anything changed.

    Raise SharingRefused when `author` is not the submission's author: consent is theirs alone to give.
    """
    if submission.participant_id != author.pk:
        raise SharingRefused("Only the author of a notebook can agree to share it or stop sharing it.")
    with transaction.atomic():
        locked = Submission.objects.select_for_update().only("pk", "share_notebook").get(pk=submission.pk)
        if locked.share_notebook == share:
            submission.share_notebook = share
            return False
        Submission.objects.filter(pk=submission.pk).update(share_notebook=share)
        withdrawn = 0 if share else ReleasedNotebook.objects.filter(submission=submission).delete()[0]
        AuditEntry.objects.create(
            event_exercise_id=submission.event_exercise_id,
            submission=submission,
            actor=author,
            action=AuditEntry.Action.SHARE if share else AuditEntry.Action.UNSHARE,
            reason="Its release was taken back." if withdrawn else "",
        )
    submission.share_notebook = share
    return True


# --- The debrief -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommonError:
    """One mistake many made, as participants may see it: no names, only how many it hit."""

    signature: ErrorSignature
    count: int
    people: int


@dataclass(frozen=True)
class TopSubmission:
    """A participant's best submission, as the organizer picks notebooks to release."""

    submission: Submission
    name: str
    consented: bool
    released: bool


@dataclass(frozen=True)
class Debrief:
    """What the event's people learn once an exercise has closed."""

    event_exercise: EventExercise
    participants_scored: int
    distribution: Chart
    median: float | None
    best: float | None
    errors: tuple[CommonError, ...]
    released: tuple[ReleasedNotebook, ...]
    reference_released: bool


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def common_errors(event_exercise: EventExercise, limit: int = COMMON_ERRORS) -> list[CommonError]:
    """Return the exercise's most common participant failures (tutoring.shared_errors), without who made them.

    Only errors that hit at least COMMON_ERROR_MIN_PEOPLE people are listed.
    """
    failed = (
        event_exercise.submissions.filter(status__in=[Submission.Status.FAILED, Submission.Status.INVALID])
        .select_related("event_exercise__exercise")
        .defer("executed_notebook", "log", "traceback")
    )
    errors = shared_errors(failed, {})
    shared = [e for e in errors if e.member_count >= COMMON_ERROR_MIN_PEOPLE]
    return [CommonError(e.signature, e.count, e.member_count) for e in shared[:limit]]


def debrief(event_exercise: EventExercise) -> Debrief:
    """Return the exercise's debrief: scores in aggregate (public part only), common errors, released notebooks."""
    exercise = event_exercise.exercise
    bests = [float(s.score or 0.0) for s in best_submissions(event_exercise)]
    metric = METRICS.get(exercise.metric)
    bins = score_bins(
        bests, lowest=metric.lowest if metric else None, highest=metric.highest if metric else None, bins=10
    )
    distribution = bar_chart(f"Best public {exercise.metric_label} per participant", bins.items())
    released = tuple(event_exercise.released_notebooks.select_related("submission").order_by("kind", "released_at"))
    return Debrief(
        event_exercise=event_exercise,
        participants_scored=len(bests),
        distribution=distribution,
        median=_median(bests),
        best=bests[0] if bests else None,
        errors=tuple(common_errors(event_exercise)),
        released=released,
        reference_released=any(r.kind == ReleasedNotebook.Kind.REFERENCE for r in released),
    )


def top_submissions(event_exercise: EventExercise, limit: int = TOP_SUBMISSIONS) -> list[TopSubmission]:
    """Return the best submission of each of the top participants, with whether its author agreed to share it."""
    released = set(
        event_exercise.released_notebooks.filter(submission__isnull=False).values_list("submission_id", flat=True)
    )
    return [
        TopSubmission(s, person_name(s.participant), s.share_notebook, s.pk in released)
        for s in best_submissions(event_exercise)[:limit]
    ]


def notebook_file(released: ReleasedNotebook) -> tuple[str, bytes]:
    """Return a released notebook as a file: (file name, .ipynb bytes)."""
    exercise = released.event_exercise.exercise.slug
    suffix = "solution" if released.kind == ReleasedNotebook.Kind.REFERENCE else f"notebook-{released.pk}"
    document: Any = nbformat.from_dict(released.notebook)
    return f"{exercise}-{suffix}.ipynb", nbformat.writes(document).encode("utf-8")
