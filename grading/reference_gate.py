"""The reference gate: an exercise proves on the workers, against an event's hidden set, that it reaches its target.

When an organizer attaches an exercise to an event, and again shortly before it opens, a worker runs the bundle's
reference and baseline notebooks in the real sandbox and runtime (a GPU where the exercise asks for one) against
that event's hidden set and scores them as any submission. A reference that misses its documented target on either
part of the hidden set holds the exercise shut (`EventExercise.held_by_gate`) until an organizer overrides that,
saying why; the override is kept in the board's audit log.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from exercises.data_builds import DataBuildFailed
from exercises.errors import InvalidBundle
from exercises.models import Exercise
from exercises.services import bundle_of, ensure_dataset
from grading.errors import GateRefused
from grading.models import AuditEntry, ReferenceCheck, Submission
from grading.sandboxing import run_in_sandbox
from grading.services import Grading, run_and_score
from hackathon import permissions
from hackathon.models import EventExercise

logger = logging.getLogger(__name__)

# The check before opening starts this long before the window opens, so its verdict is in when the window opens.
OPENING_LEAD = dt.timedelta(hours=1)
# A check still queued this long lost its message (the GPU queue of a busy event drains within a few hours).
LOST_QUEUED = dt.timedelta(hours=6)


def reaches(exercise: Exercise, score: float | None, target: float) -> bool:
    """Whether `score` is at least as good as `target` in the exercise's direction (None never reaches)."""
    if score is None:
        return False
    return score >= target if exercise.direction == Exercise.Direction.HIGHER else score <= target


def request_check(
    *, event_exercise: EventExercise, trigger: str, requested_by: AbstractBaseUser | None = None
) -> ReferenceCheck:
    """Queue a reference check of the event exercise, or return the one already waiting or running.

    The worker's task is sent once the check is committed, to the exercise's queue (GPU exercises to GPU workers).
    """
    with transaction.atomic():
        EventExercise.objects.select_for_update().filter(pk=event_exercise.pk).first()
        _end_lost_checks(event_exercise)
        pending = event_exercise.reference_checks.filter(
            status__in=[ReferenceCheck.Status.QUEUED, ReferenceCheck.Status.RUNNING]
        ).first()
        if pending is not None:
            return pending
        exercise = event_exercise.exercise
        check = ReferenceCheck.objects.create(
            event_exercise=event_exercise,
            trigger=trigger,
            requested_by=requested_by,
            reference_target=exercise.target_reference,
            baseline_target=exercise.target_baseline,
        )
        transaction.on_commit(lambda: enqueue_check(check))
    return check


def _end_lost_checks(event_exercise: EventExercise) -> None:
    """End as `error` the checks whose worker died (running past their task's hard limit) or whose message was lost.

    Otherwise a lost check would stand for the pending one forever and no new check could be asked.
    """
    now = timezone.now()
    hard_limit = dt.timedelta(seconds=event_exercise.exercise.wall_seconds * 4 + 300)
    lost = event_exercise.reference_checks.filter(
        Q(status=ReferenceCheck.Status.RUNNING, started_at__lt=now - hard_limit)
        | Q(status=ReferenceCheck.Status.QUEUED, created_at__lt=now - LOST_QUEUED)
    )
    lost.update(
        status=ReferenceCheck.Status.ERROR,
        finished_at=now,
        message="The check never finished (its worker stopped, or its message was lost); run it again.",
    )


def enqueue_check(check: ReferenceCheck) -> None:
    """Send the check's task to its exercise's queue, with a hard limit above two runs' sandbox limits."""
    from grading.tasks import run_reference_check_task

    wall = check.event_exercise.exercise.wall_seconds
    run_reference_check_task.apply_async(
        args=[check.pk],
        queue=check.event_exercise.exercise.queue,
        soft_time_limit=wall * 4 + 240,
        time_limit=wall * 4 + 300,
    )


def on_exercises_attached(sender: object, *, event_exercise_ids: list[int], **kwargs: object) -> None:
    """Check the reference of each newly attached exercise (connected to hackathon.signals.exercises_attached)."""
    for event_exercise in EventExercise.objects.filter(pk__in=event_exercise_ids).select_related("exercise"):
        request_check(event_exercise=event_exercise, trigger=ReferenceCheck.Trigger.ATTACHED)


def check_exercises_about_to_open(now: dt.datetime | None = None) -> list[int]:
    """Queue the check before opening of each exercise whose window opens within OPENING_LEAD; return their ids.

    An exercise checked already within OPENING_LEAD of its opening (attached late, or asked by an organizer) is
    not checked twice. Beat runs this every ten minutes.
    """
    now = now or timezone.now()
    due = (
        EventExercise.objects.filter(opens_at__gt=now - OPENING_LEAD, opens_at__lte=now + OPENING_LEAD)
        .exclude(reference_checks__trigger=ReferenceCheck.Trigger.OPENING)
        .select_related("exercise")
    )
    queued = []
    for event_exercise in due:
        recent = event_exercise.reference_checks.filter(created_at__gte=event_exercise.opens_at - OPENING_LEAD)
        if recent.exists():
            continue
        queued.append(request_check(event_exercise=event_exercise, trigger=ReferenceCheck.Trigger.OPENING).pk)
    return queued


def _claim(check_id: int) -> ReferenceCheck | None:
    claimed = ReferenceCheck.objects.filter(pk=check_id, status=ReferenceCheck.Status.QUEUED).update(
        status=ReferenceCheck.Status.RUNNING, started_at=timezone.now()
    )
    if claimed != 1:
        return None
    return ReferenceCheck.objects.select_related("event_exercise__exercise", "event_exercise__event").get(pk=check_id)


def run_check(check_id: int) -> ReferenceCheck | None:
    """Run the queued check `check_id` once on this worker: both notebooks, the verdict, the gate; return it.

    Returns None when another worker took it, or it is not queued. A platform failure (the sandbox cannot run,
    the hidden set cannot be built) ends the check as `error`, which does not hold the exercise shut.
    """
    check = _claim(check_id)
    if check is None:
        return None
    event_exercise = check.event_exercise
    exercise = event_exercise.exercise
    try:
        bundle = bundle_of(exercise)
        dataset = ensure_dataset(exercise, event_exercise.secret_seed, run_job=run_in_sandbox)
        runs = {
            role: run_and_score(exercise, notebook, data_dir=dataset.hidden_data, answers_path=dataset.hidden_answers)
            for role, notebook in (("reference", bundle.source_notebook), ("baseline", bundle.baseline_notebook))
        }
    except (InvalidBundle, DataBuildFailed, OSError) as error:
        logger.error("The reference check of %s could not run: %s", event_exercise, error)
        return _finish(check, ReferenceCheck.Status.ERROR, f"The check could not run: {error}", {})
    except Exception as error:
        logger.exception("The reference check of %s failed", event_exercise)
        return _finish(check, ReferenceCheck.Status.ERROR, f"The check could not run ({type(error).__name__}).", {})
    status, message = verdict(check, exercise, runs["reference"], runs["baseline"])
    return _finish(check, status, message, runs)


def _words(grading: Grading) -> str:
    return grading.message.rstrip(".")


def verdict(check: ReferenceCheck, exercise: Exercise, reference: Grading, baseline: Grading) -> tuple[str, str]:
    """Return the check's status and what it found, in sentences an organizer can act on."""
    metric = exercise.metric_label
    if reference.reason == Submission.Reason.INFRASTRUCTURE:
        return ReferenceCheck.Status.ERROR, (
            "The sandbox could not run the reference notebook, so nothing was proved either way; run the check "
            "again once the workers are healthy."
        )
    if reference.scores is None:
        return ReferenceCheck.Status.MISSED, (
            f"The reference notebook did not produce a score on this event's test set: {_words(reference)}. "
            "Fix the bundle, or open the exercise anyway saying why."
        )
    target = check.reference_target
    scores = (reference.scores.public, reference.scores.private)
    baseline_note = (
        f" The baseline scored {baseline.scores.public:.4g} (target {check.baseline_target:g})."
        if baseline.scores is not None
        else f" The baseline notebook did not score: {_words(baseline)}."
    )
    if all(reaches(exercise, score, target) for score in scores):
        return ReferenceCheck.Status.PASSED, (
            f"The reference reached its target {metric} {target:g} on both parts of this event's test set "
            f"({scores[0]:.4g} public, {scores[1]:.4g} private).{baseline_note}"
        )
    return ReferenceCheck.Status.MISSED, (
        f"The reference missed its target {metric} {target:g} on this event's test set ({scores[0]:.4g} public, "
        f"{scores[1]:.4g} private), so participants could not reach what the exercise promises.{baseline_note} "
        "Fix the bundle or its target, or open the exercise anyway saying why."
    )


def _finish(check: ReferenceCheck, status: str, message: str, runs: dict[str, Grading]) -> ReferenceCheck:
    """Store the check's outcome and set the event exercise's gate from it, unless the check was taken over."""
    reference, baseline = runs.get("reference"), runs.get("baseline")
    fields = {
        "status": status,
        "message": message,
        "finished_at": timezone.now(),
        "reference_score": reference.scores.public if reference and reference.scores else None,
        "reference_private_score": reference.scores.private if reference and reference.scores else None,
        "baseline_score": baseline.scores.public if baseline and baseline.scores else None,
        "baseline_private_score": baseline.scores.private if baseline and baseline.scores else None,
        "runtime_fingerprint": reference.fingerprint if reference else {},
    }
    gate = {
        ReferenceCheck.Status.PASSED: EventExercise.Gate.PASSED,
        ReferenceCheck.Status.MISSED: EventExercise.Gate.MISSED,
        ReferenceCheck.Status.ERROR: EventExercise.Gate.ERROR,
    }[ReferenceCheck.Status(status)]
    with transaction.atomic():
        stored = ReferenceCheck.objects.filter(pk=check.pk, status=ReferenceCheck.Status.RUNNING).update(**fields)
        newer = ReferenceCheck.objects.filter(event_exercise_id=check.event_exercise_id, pk__gt=check.pk).filter(
            ~Q(status__in=[ReferenceCheck.Status.QUEUED, ReferenceCheck.Status.RUNNING])
        )
        # An older check that ends after a newer one never overwrites the newer verdict.
        if stored and not newer.exists():
            EventExercise.objects.filter(pk=check.event_exercise_id).update(reference_gate=gate)
    if status == ReferenceCheck.Status.MISSED:
        logger.warning("The reference of %s missed its target: %s", check.event_exercise, message)
    check.refresh_from_db()
    return check


def open_despite_gate(*, actor: AbstractBaseUser, event_exercise: EventExercise, reason: str) -> EventExercise:
    """Open an exercise held shut by a missed reference target, keeping who did it and why in the audit log.

    Raises GateRefused when the actor does not organize the event, no reason is given, or nothing is held.
    """
    if not permissions.can_manage_event(actor, event_exercise.event):
        raise GateRefused("Only the event's organizers can open an exercise whose reference missed its target.")
    reason = reason.strip()
    if not reason:
        raise GateRefused("Say why the exercise opens although its reference missed its target; it is kept.")
    with transaction.atomic():
        locked = EventExercise.objects.select_for_update().get(pk=event_exercise.pk)
        if not locked.held_by_gate:
            raise GateRefused("This exercise is not held shut by its reference check; nothing to override.")
        locked.gate_override = reason
        locked.save(update_fields=["gate_override"])
        AuditEntry.objects.create(
            event_exercise=locked, actor=actor, action=AuditEntry.Action.OPEN_DESPITE_GATE, reason=reason
        )
    logger.warning("%s opened %s despite its missed reference target: %s", actor, locked, reason)
    return locked


def ask_for_check(*, actor: AbstractBaseUser, event_exercise: EventExercise) -> ReferenceCheck:
    """Queue a reference check an organizer asked for (after fixing the bundle, or when the workers failed)."""
    if not permissions.can_manage_event(actor, event_exercise.event):
        raise GateRefused("Only the event's organizers can check an exercise's reference.")
    return request_check(event_exercise=event_exercise, trigger=ReferenceCheck.Trigger.ASKED, requested_by=actor)


def latest_check(event_exercise: EventExercise) -> ReferenceCheck | None:
    """Return the event exercise's newest reference check, or None before the first."""
    return event_exercise.reference_checks.order_by("-created_at", "-id").first()
