"""Who is stuck, and which errors a group's members share: pure rules the tutor's dashboard applies."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grading.models import Submission

FAILURES_IN_A_ROW = 3

# Failures that are the participant's to fix; a platform failure says nothing about being stuck.
PARTICIPANT_FAILURES = (Submission.Status.FAILED, Submission.Status.INVALID)

EXCEPTION_MESSAGE = re.compile(r"^Cell (?P<cell>\d+) raised (?P<ename>[\w.]+): (?P<evalue>.*)$", re.DOTALL)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Parts of a message that differ between members hitting the same mistake: names, paths, numbers, shapes.
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
HEX = re.compile(r"0x[0-9a-fA-F]+")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")
PATH = re.compile(r"(?:/[\w.-]+){2,}")
SPACES = re.compile(r"\s+")


def stuck_reason(
    submissions: Sequence[Submission],
    *,
    opens_at: dt.datetime,
    now: dt.datetime,
    minutes: int,
    closes_at: dt.datetime | None = None,
) -> str:
    """Say why a member is stuck, or return "" when they are not.

    `submissions` are the member's submissions to the group's exercise, newest first.
    """
    finished = [s for s in submissions if s.is_final and s.reason != Submission.Reason.INFRASTRUCTURE]
    last = finished[:FAILURES_IN_A_ROW]
    if len(last) == FAILURES_IN_A_ROW and all(s.status in PARTICIPANT_FAILURES for s in last):
        return f"{FAILURES_IN_A_ROW} failures in a row"
    if any(s.status == Submission.Status.SCORED for s in finished):
        return ""
    if closes_at is not None and now >= closes_at:
        return ""  # once the exercise has closed there is nothing left to be stuck on
    waited = (now - opens_at).total_seconds() / 60
    if waited >= minutes:
        since = f"{int(waited)} minutes" if waited < 120 else f"{int(waited // 60)} hours"
        return f"no valid submission {since} after the exercise opened"
    return ""


def normalize_error_message(text: str) -> str:
    """Reduce an error message to what members share: the same mistake reads the same for everyone."""
    text = ANSI.sub("", text)
    text = QUOTED.sub("'…'", text)
    text = HEX.sub("0x…", text)
    text = PATH.sub("…", text)
    text = NUMBER.sub("N", text)
    return SPACES.sub(" ", text).strip()[:300]


@dataclass(frozen=True)
class ErrorSignature:
    """What makes two failures the same: the cell, the exception's name and its normalized message."""

    cell: int | None
    ename: str
    message: str


def error_signature(submission: Submission) -> ErrorSignature | None:
    """Return the failure's signature, or None when the submission did not fail by the participant's doing."""
    if submission.status not in PARTICIPANT_FAILURES or submission.reason == Submission.Reason.INFRASTRUCTURE:
        return None
    match = EXCEPTION_MESSAGE.match(submission.message or "")
    if match:
        cell = int(match["cell"]) if submission.failed_cell is None else submission.failed_cell
        return ErrorSignature(cell, match["ename"], normalize_error_message(match["evalue"]))
    # Limits and invalid predictions carry no exception: their reason names the trouble.
    return ErrorSignature(
        submission.failed_cell, submission.get_reason_display(), normalize_error_message(submission.message)
    )


@dataclass(frozen=True)
class SharedError:
    """One mistake as the tutor sees it: how often, whom it hit, and the latest submission to open."""

    signature: ErrorSignature
    count: int
    members: tuple[str, ...]
    latest_uid: str
    exercise: str = ""

    @property
    def member_count(self) -> int:
        return len(self.members)


def shared_errors(submissions: Iterable[Submission], names: dict[int, str]) -> list[SharedError]:
    """Aggregate failures: the same exception in the same cell of one exercise appears once, with a count and the
    members it hit."""
    seen: dict[tuple[int, ErrorSignature], list[Submission]] = {}
    for submission in submissions:
        signature = error_signature(submission)
        if signature is not None:
            seen.setdefault((submission.event_exercise_id, signature), []).append(submission)
    errors = []
    for (_, signature), hits in seen.items():
        members = sorted({names.get(s.participant_id, str(s.participant_id)) for s in hits})
        latest = max(hits, key=lambda s: (s.created_at, s.pk))
        title = latest.event_exercise.exercise.title
        errors.append(SharedError(signature, len(hits), tuple(members), str(latest.uid), title))
    # The mistakes that hit the most people first: one explanation helps them all.
    return sorted(errors, key=lambda e: (-e.member_count, -e.count, e.signature.ename))
