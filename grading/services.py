"""Grading actions: take a submission, run it in the sandbox, score it, recover what was lost."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import nbformat
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

import sandbox
from exercises.errors import InvalidBundle, InvalidPredictions, ScoringFailed
from exercises.evaluation import Scores, draw_figures, evaluate
from exercises.models import Exercise
from exercises.services import Dataset, bundle_of, default_secret_seed, ensure_dataset
from grading import dispatch, fingerprints, gpu_budget, pictures
from grading.boards.services import note_rescore_runtime
from grading.errors import ExerciseNotOpen, QuotaExceeded, StorageFull, SubmissionRefused
from grading.models import Submission
from grading.notebooks import parse_uploaded_notebook
from grading.sandboxing import job_limits, needs_gpu, run_in_sandbox, runtime_of, sandbox_backend, sandbox_config
from hackathon import permissions
from hackathon.deadlines import deadline_for
from hackathon.models import EventExercise, Registration
from sandbox.trees import remove_tree

logger = logging.getLogger(__name__)

REASON_OF_OUTCOME = {
    sandbox.Outcome.ERROR: Submission.Reason.EXCEPTION,
    sandbox.Outcome.TIMEOUT: Submission.Reason.TIMEOUT,
    sandbox.Outcome.MEMORY: Submission.Reason.MEMORY,
    sandbox.Outcome.PROCESSES: Submission.Reason.PROCESSES,
    sandbox.Outcome.OUTPUT: Submission.Reason.OUTPUT,
    sandbox.Outcome.DISK: Submission.Reason.DISK,
    sandbox.Outcome.INFRASTRUCTURE: Submission.Reason.INFRASTRUCTURE,
}
INFRASTRUCTURE_MESSAGE = (
    "The platform could not run your notebook. This is not your fault and does not count toward your "
    "quota; it will be run again shortly."
)
FINAL_INFRASTRUCTURE_MESSAGE = (
    "The platform failed to run your notebook {runs}; it will not be run again. This is not your fault and "
    "does not count toward your quota: submit it again later, and tell a tutor if it keeps happening."
)
NUL_STAND_IN = "\u2400"  # SYMBOL FOR NULL: PostgreSQL text and jsonb cannot hold NUL, and a person can see it


# --- Submitting ---------------------------------------------------------------------------------------------


def submissions_per_day(event_exercise: EventExercise) -> int:
    return event_exercise.submissions_per_day or settings.SUBMISSIONS_PER_DAY


def used_today(*, participant: AbstractBaseUser, event_exercise: EventExercise, now: dt.datetime | None = None) -> int:
    """Count today's graded submissions that use quota: failed and invalid ones too, platform failures not."""
    day_start = timezone.localtime(now or timezone.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    submissions = Submission.objects.filter(event_exercise=event_exercise, participant=participant)
    return submissions.counting_toward_quota().filter(created_at__gte=day_start).count()


def remaining_today(*, participant: AbstractBaseUser, event_exercise: EventExercise) -> int:
    """Return how many graded submissions the participant has left today for this exercise."""
    used = used_today(participant=participant, event_exercise=event_exercise)
    return max(0, submissions_per_day(event_exercise) - used)


def submit_notebook(
    *,
    participant: AbstractBaseUser,
    event_exercise: EventExercise,
    raw: bytes,
    filename: str = "notebook.ipynb",
    kind: str = Submission.Kind.GRADED,
    share_notebook: bool = False,
) -> Submission:
    """Record a notebook for grading and queue it once the record is committed; raise SubmissionRefused if not.

    `share_notebook` records the author's consent that organizers may release the notebook after the deadline.
    """
    if not permissions.can_take_part(participant, event_exercise.event):
        raise SubmissionRefused("Only confirmed participants of this event can submit. Register for the event first.")
    deadline = deadline_for(event_exercise, participant)
    if event_exercise.held_by_gate:
        raise ExerciseNotOpen(event_exercise.window_refusal())
    if not deadline.is_open():
        raise ExerciseNotOpen(
            f"{event_exercise.exercise.title} takes submissions from "
            f"{timezone.localtime(event_exercise.opens_at):%d %b %H:%M} to "
            f"{timezone.localtime(deadline.closes_at):%d %b %H:%M}."
        )
    notebook = parse_uploaded_notebook(raw, max_bytes=settings.SUBMISSION_MAX_BYTES)
    with transaction.atomic():
        # Lock the participant's registration: concurrent submits of one person are counted one at a time.
        Registration.objects.select_for_update().get(event=event_exercise.event, user=participant)
        gpu_budget.check_gpu_budget(event_exercise=event_exercise, participant=participant)
        if kind == Submission.Kind.GRADED:
            limit = submissions_per_day(event_exercise)
            if used_today(participant=participant, event_exercise=event_exercise) >= limit:
                raise QuotaExceeded(
                    f"You have used all {limit} submissions for today on this exercise. "
                    "Use a free check run to test your notebook, or submit again tomorrow."
                )
        elif event_exercise.submissions.filter(
            participant=participant,
            kind=Submission.Kind.CHECK,
            status__in=[Submission.Status.QUEUED, Submission.Status.RUNNING],
        ).exists():
            raise SubmissionRefused("A check run of yours is already waiting or running. Wait for its result first.")
        submission = Submission(
            event_exercise=event_exercise,
            participant=participant,
            kind=kind,
            share_notebook=share_notebook,
            original_name=storable(Path(filename).name[:255]),
            queue=event_exercise.exercise.queue,
            queued_at=timezone.now(),
            # After the exercise closed only an extension lets it in; the boards mark it so.
            extension=deadline.extension if deadline.is_extension_time() else None,
        )
        try:
            submission.notebook.save(
                f"{submission.uid}.ipynb", ContentFile(nbformat.writes(notebook).encode()), save=False
            )
        except OSError as error:  # a full or failing media volume: refuse cleanly rather than answer 500
            logger.error("Cannot store the notebook of %s: %s", participant, error)
            raise StorageFull(
                "The platform could not store your notebook just now; nothing was recorded and no submission was "
                "used. Try again in a few minutes, and tell a tutor if it happens again."
            ) from error
        submission.save()
        transaction.on_commit(lambda: enqueue(submission))
    return submission


def enqueue(submission: Submission, *, countdown: float = 0) -> None:
    """Send the submission's grading task to its exercise's queue, with a hard limit above the sandbox's."""
    from grading.tasks import grade_submission_task

    wall = submission.event_exercise.exercise.wall_seconds
    grade_submission_task.apply_async(
        args=[submission.pk],
        queue=submission.queue,
        countdown=countdown,
        soft_time_limit=wall * 2 + 120,
        time_limit=wall * 2 + 180,
    )


# --- Running and scoring ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grading:
    """What one run of a notebook against a data set came to."""

    status: str
    reason: str = ""
    message: str = ""
    scores: Scores | None = None
    result: sandbox.Result | None = None
    images: list[dict[str, str]] = field(default_factory=list)
    pictures_complete: bool = True  # False when a picture could not be drawn (those drawn are in `images`)
    fingerprint: dict[str, Any] = field(default_factory=dict)  # the runtime it ran on (sandbox.fingerprints)


def run_and_score(
    exercise: Exercise,
    notebook_path: Path,
    *,
    data_dir: Path,
    answers_path: Path,
    backend: sandbox.Backend | None = None,
    figures_dir: Path | None = None,
    labels_known: bool = False,
    on_scored: Callable[[Grading], bool] | None = None,
) -> Grading:
    """Run the notebook with `data_dir` as its data/, then score its output/ in this trusted process.

    `labels_known`: the answers are ones the participant has (a check run's public sample), so the figures
    may show single cases; see exercises.evaluation.evaluate. With `figures_dir`, the pictures are drawn there
    (while the run's output/ still exists) and listed in the result's `images`. `on_scored`, when given, is
    called with the scored result (no `images` yet) before any picture is drawn, so that the score can be
    stored first; the pictures are drawn only if it returns True.
    """
    backend = backend or sandbox_backend()
    config = sandbox_config()
    work_root = Path(settings.GRADING_WORK_DIR)
    work_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="job-", dir=work_root))
    try:
        notebook = work / "notebook.ipynb"
        shutil.copyfile(notebook_path, notebook)
        output = work / "output"
        output.mkdir()
        gpu = needs_gpu(exercise)
        job = sandbox.Job(
            output_dir=output,
            mounts=(sandbox.Mount(source=Path(data_dir), name="data"),),
            notebook=notebook,
            limits=job_limits(exercise),
            gpu=gpu,
            runtime=runtime_of(exercise, gpu=gpu),
        )
        result = sandbox.run_job(job, config, backend)
        runtime = fingerprints.runtime_fingerprint(backend, job, result, config)
        if result.outcome is not sandbox.Outcome.OK:
            reason = REASON_OF_OUTCOME[result.outcome]
            status = Submission.Status.FAILED
            message = result.message
            if reason == Submission.Reason.INFRASTRUCTURE:
                # The participant reads that it is not their fault; the operators need the sandbox's own words.
                logger.warning("The sandbox could not run a notebook of %s: %s", exercise.slug, result.message)
                message = INFRASTRUCTURE_MESSAGE
            return Grading(status=status, reason=reason, message=message, result=result, fingerprint=runtime)
        bundle = bundle_of(exercise)
        try:
            scores = evaluate(
                bundle,
                output,
                answers_path,
                run_job=lambda extra: sandbox.run_job(extra, config, backend),
                work_dir=work / "evaluation",
                labels_known=labels_known,
            )
        except InvalidPredictions as error:
            return Grading(
                status=Submission.Status.INVALID,
                reason=Submission.Reason.PREDICTIONS,
                message=error.message,
                result=result,
                fingerprint=runtime,
            )
        except (InvalidBundle, ScoringFailed):
            raise  # the platform's own data or sandbox: retried as an infrastructure failure
        except Exception as error:
            # Whatever else reading or scoring the participant's files raises comes from those files: the
            # sandboxed run itself succeeded. It is the participant's to fix, never a platform failure.
            logger.exception("Scoring the output of a notebook of %s failed", exercise.slug)
            return Grading(
                status=Submission.Status.INVALID,
                reason=Submission.Reason.PREDICTIONS,
                message=f"Your output files could not be scored ({type(error).__name__}); check that they are "
                "written as the exercise's notebook asks (names, shapes, one value per test case).",
                result=result,
                fingerprint=runtime,
            )
        scored = Grading(
            status=Submission.Status.SCORED,
            message=scored_message(exercise, scores),
            scores=scores,
            result=result,
            fingerprint=runtime,
        )
        if on_scored is not None and not on_scored(scored):
            return scored  # not to be drawn: the score was not stored (another worker took the run over)
        if figures_dir is None:
            return scored
        drawing = draw_figures(
            bundle, scores, figures_dir=figures_dir, output_dir=output, data_dir=data_dir, answers_path=answers_path
        )
        return replace(scored, images=drawing.pictures, pictures_complete=drawing.complete)
    finally:
        remove_tree(work)  # a notebook may nest folders in its output thousands deep


def scored_message(exercise: Exercise, scores: Scores) -> str:
    shown = round(scores.public, settings.BOARD_DECIMALS)
    direction = exercise.get_direction_display().lower()
    return f"Scored: {exercise.metric_label} {shown} on the public part of the test set ({direction})."


def _heartbeat(submission_id: int, attempt: int, stop: threading.Event) -> None:
    """Mark the running submission alive until stopped, so a dead worker's runs can be told apart."""
    try:
        while not stop.wait(settings.GRADING_HEARTBEAT_SECONDS):
            Submission.objects.filter(pk=submission_id, status=Submission.Status.RUNNING, attempts=attempt).update(
                heartbeat_at=timezone.now()
            )
    finally:
        connection.close()


def claim(submission_id: int) -> Submission | None:
    """Take the submission for this worker if it is queued, or running under a worker that stopped beating."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.GRADING_STALE_SECONDS)
    claimed = (
        Submission.objects.filter(pk=submission_id)
        .filter(Q(status=Submission.Status.QUEUED) | Q(status=Submission.Status.RUNNING, heartbeat_at__lt=stale))
        .update(
            status=Submission.Status.RUNNING,
            attempts=F("attempts") + 1,
            started_at=now,
            heartbeat_at=now,
            worker=f"{socket.gethostname()}"[:200],
        )
    )
    if claimed != 1:
        return None
    return Submission.objects.select_related("event_exercise__exercise", "event_exercise__event").get(pk=submission_id)


CLAIM_TRIES = 10  # another worker may take the chosen submission first: choose again, this many times


def claim_next(token_id: int) -> Submission | None:
    """Take, for this worker, the fairest queued submission that the message for `token_id` may run.

    Each message is a token for its queue: it runs one queued submission of that queue whose exercise has the
    same wall clock (the task's time limit was set from it), chosen by `grading.dispatch.fairest`. A run of
    `token_id` whose worker stopped beating is taken over first. Every submission sends one message, so every
    queued one is run; a message delivered twice takes at most one more, whose own message then finds nothing
    or another. The claim of the chosen one is the atomic `claim`: two workers never run one submission.
    """
    token = (
        Submission.objects.filter(pk=token_id)
        .values_list("queue", "status", "event_exercise__exercise__wall_seconds")
        .first()
    )
    if token is None:
        return None
    queue, status, wall_seconds = token
    if status == Submission.Status.RUNNING and (taken := claim(token_id)) is not None:
        return taken
    for _ in range(CLAIM_TRIES):
        chosen = dispatch.fairest(*dispatch.candidates(queue, wall_seconds))
        if chosen is None:
            return None
        if (taken := claim(chosen.id)) is not None:
            return taken
    logger.warning("Could not claim a queued submission of queue %s in %d tries; the reaper will", queue, CLAIM_TRIES)
    return None


def dataset_for(submission: Submission) -> tuple[Path, Path]:
    """Return (data folder, answers) the run uses: the hidden set, or the public sample for a check run."""
    event_exercise = submission.event_exercise
    dataset = ensure_dataset(event_exercise.exercise, event_exercise.secret_seed, run_job=run_in_sandbox)
    if submission.kind == Submission.Kind.CHECK:
        return dataset.public_data, dataset.public_answers
    return dataset.hidden_data, dataset.hidden_answers


def results_dir(submission: Submission) -> Path:
    return Path(settings.MEDIA_ROOT) / "results" / str(submission.uid)


def grade_submission(submission_id: int) -> None:
    """Run and score the fairest queued submission this message may run (see `claim_next`), once.

    A message delivered twice runs no submission twice; a lost run is taken over.
    """
    submission = claim_next(submission_id)
    if submission is None:
        logger.info("Nothing is waiting to be graded for the message of submission %s.", submission_id)
        return
    attempt = submission.attempts
    if attempt > settings.GRADING_MAX_ATTEMPTS:
        _finish(submission, attempt, _platform_failure(runs=attempt - 1))
        return
    gpu_budget.charge_at_start(submission, attempt, needs_gpu(submission.event_exercise.exercise))
    score_first = _ScoreFirst(submission, attempt)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(submission.pk, attempt, stop), daemon=True)
    beat.start()
    retry = True
    try:
        data_dir, answers = dataset_for(submission)
        grading = run_and_score(
            submission.event_exercise.exercise,
            Path(submission.notebook.path),
            data_dir=data_dir,
            answers_path=answers,
            figures_dir=results_dir(submission),
            labels_known=submission.kind == Submission.Kind.CHECK,
            on_scored=score_first,
        )
    except InvalidBundle as error:
        logger.error("Hidden set of %s unusable: %s", submission.event_exercise, error)
        grading = Grading(
            status=Submission.Status.FAILED,
            reason=Submission.Reason.INFRASTRUCTURE,
            message="The exercise's test data is broken; the organizers have been told. "
            "This does not count toward your quota.",
        )
        retry = False  # no retry can mend the data
    except Exception:
        logger.exception("Grading submission %s failed", submission.pk)
        grading = Grading(
            status=Submission.Status.FAILED, reason=Submission.Reason.INFRASTRUCTURE, message=INFRASTRUCTURE_MESSAGE
        )
    finally:
        stop.set()
        beat.join(timeout=5)
    if score_first.scored is not None:
        # The score is stored, or was dropped because the run was taken over; only the pictures remain.
        if score_first.scored_at is not None:
            # A crash after the score was stored leaves the pictures undrawn, never the score unstored.
            drawn = grading if grading.scores is not None else replace(score_first.scored, pictures_complete=False)
            _store_pictures(submission.pk, attempt, score_first.scored_at, drawn)
        return
    if grading.reason == Submission.Reason.INFRASTRUCTURE and retry:
        if attempt < settings.GRADING_MAX_ATTEMPTS:
            _retry(submission, attempt)
            return
        grading = _platform_failure(runs=attempt, result=grading.result)
    _finish(submission, attempt, grading)


@dataclass
class _ScoreFirst:
    """`run_and_score`'s `on_scored` for one attempt: store the score as the final result before any drawing."""

    submission: Submission
    attempt: int
    scored: Grading | None = None  # the result it was asked to store, once the write ended without error
    scored_at: dt.datetime | None = None  # its `finished_at` once stored; None when the run was taken over

    def __call__(self, grading: Grading) -> bool:
        # A write that raises leaves `scored` None: the run then counts as a platform failure, retried.
        self.scored_at = _finish(self.submission, self.attempt, grading, pictures_pending=True)
        self.scored = grading
        return self.scored_at is not None


def _platform_failure(*, runs: int, result: sandbox.Result | None = None) -> Grading:
    """Return the final word on a submission the platform could not run: no further run is promised."""
    return Grading(
        status=Submission.Status.FAILED,
        reason=Submission.Reason.INFRASTRUCTURE,
        message=FINAL_INFRASTRUCTURE_MESSAGE.format(runs="once" if runs == 1 else f"{runs} times"),
        result=result,
    )


def _retry(submission: Submission, attempt: int) -> None:
    requeued = Submission.objects.filter(pk=submission.pk, status=Submission.Status.RUNNING, attempts=attempt).update(
        status=Submission.Status.QUEUED,
        queued_at=timezone.now(),
        reason=Submission.Reason.INFRASTRUCTURE,
        message=INFRASTRUCTURE_MESSAGE,
        gpu_seconds=None,  # the platform failed: the run costs the participant no GPU time
    )
    if requeued:
        logger.warning("Submission %s hit an infrastructure failure; retry %s queued", submission.pk, attempt + 1)
        enqueue(submission, countdown=min(300, 10 * attempt))


def storable(value: Any) -> Any:
    """Return `value` with every NUL character in its text replaced by a visible stand-in (␀).

    Text printed by a notebook may hold NUL, which PostgreSQL's text and jsonb cannot store (SQLite can):
    without this the final write of a result fails on PostgreSQL only. Walks dicts and lists (JSON).
    """
    if isinstance(value, str):
        return value.replace("\x00", NUL_STAND_IN)
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    return value


def _finish(
    submission: Submission, attempt: int, grading: Grading, *, pictures_pending: bool = False
) -> dt.datetime | None:
    """Store the one final result, unless another worker took this run over meanwhile; return its `finished_at`.

    The write never leaves the row `running` because of what the run produced: if the full result cannot be
    stored, the outcome is stored without the run's log and notebook, saying so. `pictures_pending` marks a
    score's pictures as still being drawn (grading.pictures); `_store_pictures` then stores them. Returns None
    when the run was taken over and nothing was stored.
    """
    result = grading.result
    finished_at = timezone.now()
    fields: dict[str, Any] = {
        "status": grading.status,
        "reason": grading.reason,
        "message": storable(grading.message),
        "finished_at": finished_at,
    }
    if grading.scores is not None:
        data = grading.scores.figures
        fields.update(
            score=grading.scores.public,
            private_score=grading.scores.private,
            secondary=grading.scores.secondary,
            figures=storable(
                pictures.being_drawn(data)
                if pictures_pending
                else pictures.drawn(data, grading.images, complete=grading.pictures_complete)
            ),
        )
    charge = gpu_budget.settled_seconds(
        submission,
        infrastructure=grading.reason == Submission.Reason.INFRASTRUCTURE,
        duration_s=result.duration_s if result else None,
    )
    if charge is not None:
        fields["gpu_seconds"] = charge
    if grading.fingerprint:
        fields["runtime_fingerprint"] = grading.fingerprint
    outcome_only = dict(fields)
    if result is not None:
        fields.update(
            log=storable(result.log),
            failed_cell=result.failed_cell,
            traceback=storable(result.traceback or ""),
            executed_notebook=storable(result.executed_notebook),
            duration_s=result.duration_s,
            peak_memory_bytes=result.peak_memory_bytes,
            backend=result.backend,
        )
    running = Submission.objects.filter(pk=submission.pk, status=Submission.Status.RUNNING, attempts=attempt)
    try:
        with transaction.atomic():
            stored = running.update(**fields)
    except DatabaseError:
        logger.exception("The result of submission %s could not be stored whole; storing its outcome", submission.pk)
        outcome_only["message"] += " (The run's log and notebook could not be stored.)"
        with transaction.atomic():
            stored = running.update(**outcome_only)
    if not stored:
        logger.warning("Submission %s attempt %s was taken over; its result is dropped", submission.pk, attempt)
        return None
    if grading.fingerprint:
        note_rescore_runtime(submission.pk, grading.fingerprint)
    return finished_at


def _store_pictures(submission_id: int, attempt: int, scored_at: dt.datetime, grading: Grading) -> bool:
    """Store the drawn pictures of a scored `grading` onto the result `_finish` stored at `scored_at`.

    Only that very result is written: not a row taken over, re-scored or scored again since. Nothing but
    `figures` changes, so the stored score stays whatever happens here. Returns whether the pictures were stored.
    """
    if grading.scores is None:
        raise ValueError("Only a scored result has pictures")
    data = grading.scores.figures
    ours = Submission.objects.filter(
        pk=submission_id, status=Submission.Status.SCORED, attempts=attempt, finished_at=scored_at
    )
    try:
        with transaction.atomic():
            stored = ours.update(
                figures=storable(pictures.drawn(data, grading.images, complete=grading.pictures_complete))
            )
    except DatabaseError:
        logger.exception("The pictures of submission %s could not be stored", submission_id)
        with transaction.atomic():
            stored = ours.update(figures=storable(pictures.drawn(data, [], complete=False)))
    if not stored:
        logger.warning("Submission %s changed while its pictures were drawn; they are dropped", submission_id)
    return bool(stored)


# --- Recovery -----------------------------------------------------------------------------------------------


def requeue_stuck_submissions(now: dt.datetime | None = None) -> list[int]:
    """Queue again the runs whose worker died and the queued ones whose message was lost; return their ids."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.GRADING_STALE_SECONDS)
    lost = now - dt.timedelta(seconds=settings.GRADING_LOST_QUEUED_SECONDS)
    requeued = []
    dead_runs = Submission.objects.filter(status=Submission.Status.RUNNING, heartbeat_at__lt=stale)
    for submission in dead_runs.select_related("event_exercise__exercise"):
        if Submission.objects.filter(pk=submission.pk, status=Submission.Status.RUNNING, heartbeat_at__lt=stale).update(
            status=Submission.Status.QUEUED,
            queued_at=now,
            gpu_seconds=None,  # its worker died: not charged
        ):
            requeued.append(submission)
    lost_messages = Submission.objects.filter(status=Submission.Status.QUEUED, queued_at__lt=lost)
    for submission in lost_messages.select_related("event_exercise__exercise"):
        if Submission.objects.filter(pk=submission.pk, status=Submission.Status.QUEUED, queued_at__lt=lost).update(
            queued_at=now
        ):
            requeued.append(submission)
    for submission in requeued:
        enqueue(submission)
    if requeued:
        logger.warning("Requeued submissions %s", [s.pk for s in requeued])
    return [s.pk for s in requeued]


# --- Grading outside events (the `grade` command) -----------------------------------------------------------


def grade_notebook_file(exercise: Exercise, notebook_path: Path, *, backend: str | None = None) -> dict[str, Any]:
    """Grade one notebook file against the exercise's default hidden set; return the `grade` command's report."""
    raw = Path(notebook_path).read_bytes()
    report: dict[str, Any] = {
        "status": None,
        "reason": None,
        "exercise": exercise.slug,
        "metric": exercise.metric,
        "score": None,
        "private_score": None,
        "secondary": {},
        "failed_cell": None,
        "message": "",
        "duration_s": None,
    }
    try:
        notebook = parse_uploaded_notebook(raw, max_bytes=settings.SUBMISSION_MAX_BYTES)
    except SubmissionRefused as error:
        return {**report, "status": "invalid", "reason": "notebook", "message": error.message}
    dataset: Dataset = ensure_dataset(exercise, default_secret_seed(exercise.slug), run_job=run_in_sandbox)
    with tempfile.TemporaryDirectory() as scratch:
        clean = Path(scratch) / "notebook.ipynb"
        clean.write_text(nbformat.writes(notebook))
        grading = run_and_score(
            exercise,
            clean,
            data_dir=dataset.hidden_data,
            answers_path=dataset.hidden_answers,
            backend=sandbox_backend(backend),
        )
    result = grading.result
    return {
        **report,
        "status": str(grading.status),
        "reason": str(grading.reason) or None,
        "score": grading.scores.public if grading.scores else None,
        "private_score": grading.scores.private if grading.scores else None,
        "secondary": grading.scores.secondary if grading.scores else {},
        "failed_cell": result.failed_cell if result else None,
        "message": grading.message,
        "duration_s": round(result.duration_s, 3) if result else None,
    }
