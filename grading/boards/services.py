"""Board actions: settings, reveal, final picks, disqualification and re-scoring, each one logged."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from grading.boards.cache import forget_cached_boards
from grading.errors import BoardActionRefused
from grading.models import AuditEntry, BoardSettings, Disqualification, FinalPick, Submission
from hackathon import permissions
from hackathon.deadlines import deadline_for
from hackathon.models import EventExercise
from sandbox.fingerprints import describe_change

logger = logging.getLogger(__name__)


def _require_organizer(actor: AbstractBaseUser, event_exercise: EventExercise) -> None:
    if not permissions.can_manage_event(actor, event_exercise.event):
        raise BoardActionRefused("Only the event's organizers can change its boards.")


def board_settings_for(event_exercise: EventExercise) -> BoardSettings:
    """Return the exercise's board settings, creating the defaults on first use."""
    options, _ = BoardSettings.objects.get_or_create(event_exercise=event_exercise)
    return options


def save_board_settings(*, actor: AbstractBaseUser, options: BoardSettings) -> BoardSettings:
    """Store changed board settings and log what they now are."""
    _require_organizer(actor, options.event_exercise)
    with transaction.atomic():
        options.save()
        summary = (
            f"freeze {options.freeze_minutes if options.freeze_minutes is not None else 'never'} min before the end; "
            f"reveal at {options.reveal_at.isoformat() if options.reveal_at else 'organizer decides'}; "
            f"Ladder {'on, step ' + str(options.ladder_step) if options.ladder else 'off'}; "
            f"final picks {options.final_picks}; targets {'shown' if options.show_targets else 'hidden'}"
        )
        AuditEntry.objects.create(
            event_exercise=options.event_exercise, actor=actor, action=AuditEntry.Action.SETTINGS, reason=summary
        )
    forget_cached_boards(options.event_exercise)
    return options


def reveal_board(
    *, actor: AbstractBaseUser | None, event_exercise: EventExercise, now: dt.datetime | None = None
) -> bool:
    """Open the private board to participants; return False when it already was."""
    if actor is not None:
        _require_organizer(actor, event_exercise)
    now = now or timezone.now()
    with transaction.atomic():
        board_settings_for(event_exercise)
        changed = BoardSettings.objects.filter(event_exercise=event_exercise, revealed_at__isnull=True).update(
            revealed_at=now
        )
        if changed:
            AuditEntry.objects.create(
                event_exercise=event_exercise,
                actor=actor,
                action=AuditEntry.Action.REVEAL,
                reason="Revealed by an organizer." if actor else "Revealed at the scheduled time.",
            )
    forget_cached_boards(event_exercise)
    return bool(changed)


def reveal_due_boards(now: dt.datetime | None = None) -> list[int]:
    """Reveal every private board whose scheduled time has come; return their event exercises' ids."""
    now = now or timezone.now()
    due = BoardSettings.objects.filter(revealed_at__isnull=True, reveal_at__lte=now).select_related(
        "event_exercise__event"
    )
    revealed = [
        options.event_exercise_id
        for options in due
        if reveal_board(actor=None, event_exercise=options.event_exercise, now=now)
    ]
    if revealed:
        logger.info("Revealed the private boards of event exercises %s", revealed)
    return revealed


def pick_final_submissions(
    *, participant: AbstractBaseUser, event_exercise: EventExercise, uids: list[str], now: dt.datetime | None = None
) -> list[Submission]:
    """Replace the participant's final picks; refused once the exercise has closed or beyond the allowed number."""
    now = now or timezone.now()
    options = board_settings_for(event_exercise)
    if not options.final_picks:
        raise BoardActionRefused("This exercise ranks everyone by their best public score; there is nothing to pick.")
    # An extension keeps the person's selection open as long as their submissions are.
    if now >= deadline_for(event_exercise, participant).closes_at:
        raise BoardActionRefused("The final selection locked when the exercise closed; it can no longer change.")
    wanted = set(uids)
    if len(wanted) > options.final_picks:
        raise BoardActionRefused(f"Pick at most {options.final_picks} submissions, then save again.")
    with transaction.atomic():
        chosen = list(
            # Lock only the submissions: PostgreSQL cannot lock the outer-joined disqualification side.
            event_exercise.submissions.select_for_update(of=("self",)).filter(
                participant_id=participant.pk,
                uid__in=wanted,
                kind=Submission.Kind.GRADED,
                status=Submission.Status.SCORED,
                disqualification__isnull=True,
            )
        )
        if len(chosen) != len(wanted):
            raise BoardActionRefused("Pick only your own scored graded submissions of this exercise.")
        FinalPick.objects.filter(
            submission__event_exercise=event_exercise, submission__participant_id=participant.pk
        ).delete()
        FinalPick.objects.bulk_create([FinalPick(submission=s) for s in chosen])
    return chosen


def disqualify(*, actor: AbstractBaseUser, submission: Submission, reason: str) -> Disqualification:
    """Take a submission off every board, keeping the reason in the audit log."""
    _require_organizer(actor, submission.event_exercise)
    reason = reason.strip()
    if not reason:
        raise BoardActionRefused("Say why the submission is disqualified; the reason is kept in the audit log.")
    with transaction.atomic():
        if Disqualification.objects.filter(submission=submission).exists():
            raise BoardActionRefused("This submission is already disqualified.")
        entry = Disqualification.objects.create(submission=submission, reason=reason, by=actor)
        AuditEntry.objects.create(
            event_exercise=submission.event_exercise,
            submission=submission,
            actor=actor,
            action=AuditEntry.Action.DISQUALIFY,
            reason=reason,
            old_score=submission.score,
            old_private_score=submission.private_score,
        )
    forget_cached_boards(submission.event_exercise)
    return entry


def reinstate(*, actor: AbstractBaseUser, submission: Submission, reason: str) -> None:
    """Put a disqualified submission back on the boards, logged with the reason."""
    _require_organizer(actor, submission.event_exercise)
    reason = reason.strip()
    if not reason:
        raise BoardActionRefused("Say why the submission is reinstated; the reason is kept in the audit log.")
    with transaction.atomic():
        removed, _ = Disqualification.objects.filter(submission=submission).delete()
        if not removed:
            raise BoardActionRefused("This submission is not disqualified.")
        AuditEntry.objects.create(
            event_exercise=submission.event_exercise,
            submission=submission,
            actor=actor,
            action=AuditEntry.Action.REINSTATE,
            reason=reason,
        )
    forget_cached_boards(submission.event_exercise)


def rescore_exercise(*, actor: AbstractBaseUser, event_exercise: EventExercise, reason: str) -> list[int]:
    """Run every graded submission of the exercise again, after its hidden set was fixed; return their ids.

    Scores are computed from a run's output/, which is deleted after scoring, so a re-score runs the stored
    notebooks again as new attempts of the same submissions. Each one's previous scores are kept in the
    audit log; until its run ends the submission is queued and off the boards.
    """
    from grading.services import enqueue

    _require_organizer(actor, event_exercise)
    reason = reason.strip()
    if not reason:
        raise BoardActionRefused("Say why the exercise is scored again (what was fixed); it is kept in the audit log.")
    now = timezone.now()
    with transaction.atomic():
        finished = list(
            event_exercise.submissions.select_for_update()
            .filter(kind=Submission.Kind.GRADED, status__in=Submission.FINAL)
            .order_by("created_at", "id")
        )
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    event_exercise=event_exercise,
                    submission=s,
                    actor=actor,
                    action=AuditEntry.Action.RESCORE,
                    reason=reason,
                    old_score=s.score,
                    old_private_score=s.private_score,
                    old_fingerprint=s.runtime_fingerprint,
                )
                for s in finished
            ]
        )
        ids = [s.pk for s in finished]
        Submission.objects.filter(pk__in=ids, status__in=Submission.FINAL).update(
            status=Submission.Status.QUEUED,
            queued_at=now,
            attempts=0,
            score=None,
            private_score=None,
            secondary={},
            figures={},  # the old pictures belong to the old scores
            reason="",
            message="The organizers fixed this exercise's test data; your notebook is queued to be scored again.",
            started_at=None,
            heartbeat_at=None,
            finished_at=None,
        )
        for submission in finished:
            transaction.on_commit(lambda s=submission: enqueue(s))
    logger.warning("Re-scoring %s submissions of %s: %s", len(ids), event_exercise, reason)
    return ids


def note_rescore_runtime(submission_id: int, new: dict[str, Any]) -> str:
    """After a run of a re-scored submission ends, write on its re-score audit entry what differs in the runtime.

    Returns the sentence written ("" when the runtime is the same, or the submission was never re-scored).
    """
    entry = (
        AuditEntry.objects.filter(submission_id=submission_id, action=AuditEntry.Action.RESCORE)
        .order_by("-at", "-id")
        .first()
    )
    if entry is None or entry.old_fingerprint is None:
        return ""
    change = describe_change(entry.old_fingerprint, new)
    if change:
        AuditEntry.objects.filter(pk=entry.pk).update(runtime_change=f"Ran on a different runtime: {change}.")
        logger.warning("Submission %s was re-scored on a different runtime: %s", submission_id, change)
    return change
