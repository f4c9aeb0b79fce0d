"""What a tutor watches: each group's members, their submissions, who is stuck, and the errors they share."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, QuerySet
from django.utils import timezone

from grading.models import HelpMessage, HelpRequest, Submission
from grading.permissions import visible_submissions
from hackathon import permissions
from hackathon.models import Event, Group, Registration
from hackathon.permissions import AnyUser

FAILURES_IN_A_ROW = 3
RECENT_SUBMISSIONS = 10

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


def stuck_minutes() -> int:
    """Return after how many minutes without a valid submission a member counts as stuck."""
    return settings.GRADING_STUCK_MINUTES


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


@dataclass(frozen=True)
class ScoreChart:
    """Public scores over time as an inline SVG line: a trend reads faster drawn than listed."""

    points: str
    dots: tuple[tuple[float, float, str], ...]
    width: int
    height: int
    low: float
    high: float
    last: float = 0.0

    @property
    def is_a_line(self) -> bool:
        """Whether there is a trend to draw: a single score reads better as the number it is."""
        return len(self.dots) > 1


def score_chart(submissions: Iterable[Submission], *, width: int = 160, height: int = 40) -> ScoreChart | None:
    """Return the chart of the scored submissions in time order, or None when there is no score to draw."""
    scored = sorted(
        (s for s in submissions if s.status == Submission.Status.SCORED and s.score is not None),
        key=lambda s: (s.created_at, s.pk),
    )
    if not scored:
        return None
    scores = [float(s.score or 0.0) for s in scored]
    low, high = min(scores), max(scores)
    span = (high - low) or 1.0  # one score, or all equal: draw a flat line in the middle
    pad = 4
    step = (width - 2 * pad) / max(1, len(scored) - 1)
    dots = []
    for i, (submission, score) in enumerate(zip(scored, scores, strict=True)):
        x = pad + i * step if len(scored) > 1 else width / 2
        y = height / 2 if high == low else pad + (1 - (score - low) / span) * (height - 2 * pad)
        dots.append(
            (round(x, 1), round(y, 1), f"{score:.4f} at {timezone.localtime(submission.created_at):%d %b %H:%M}")
        )
    points = " ".join(f"{x},{y}" for x, y, _ in dots)
    return ScoreChart(points=points, dots=tuple(dots), width=width, height=height, low=low, high=high, last=scores[-1])


@dataclass(frozen=True)
class MemberStatus:
    """One member of a group at a glance."""

    user_id: int
    name: str
    email: str
    last_activity: dt.datetime | None
    submissions: tuple[Submission, ...]
    submission_count: int
    best_score: float | None
    last_success_at: dt.datetime | None
    stuck_reason: str
    chart: ScoreChart | None = None

    @property
    def is_stuck(self) -> bool:
        return bool(self.stuck_reason)


@dataclass(frozen=True)
class GroupDashboard:
    """A group as its tutor follows it: members, the errors they share, and help requests waiting."""

    group: Group
    tutors: tuple[str, ...]
    members: tuple[MemberStatus, ...]
    errors: tuple[SharedError, ...]
    waiting_help: int

    @property
    def stuck_count(self) -> int:
        return sum(member.is_stuck for member in self.members)


def person_name(user: AnyUser) -> str:
    return user.get_full_name() or user.email or user.get_username()


def tutored_groups(user: AnyUser, event: Event) -> QuerySet[Group]:
    """Return the groups whose dashboard the person may open: their own (tutors), all of them (organizers)."""
    groups = event.groups.select_related("event_exercise__exercise").prefetch_related("tutors").order_by("number")
    if not user.is_authenticated:
        return groups.none()
    if permissions.can_manage_event(user, event):
        return groups
    return groups.filter(tutors=user)


def _best(scores: list[float], direction: str) -> float | None:
    if not scores:
        return None
    return max(scores) if direction == "higher" else min(scores)


def group_dashboard(group: Group, *, viewer: AnyUser, now: dt.datetime | None = None) -> GroupDashboard:
    """Build the group's dashboard from the submissions the viewer may see, on every exercise of the event.

    Members may work on other exercises than their group's: their failures there are activity (and may mean they
    are stuck) too. Best score and trend stay on the group's exercise, whose metric they are measured in.
    """
    now = now or timezone.now()
    event_exercise = group.event_exercise
    exercise = event_exercise.exercise
    registrations = (
        group.members.filter(status=Registration.Status.CONFIRMED).select_related("user").order_by("user__email")
    )
    users = [registration.user for registration in registrations]
    names = {user.pk: person_name(user) for user in users}
    submissions = list(
        visible_submissions(viewer, group.event)
        .filter(participant_id__in=names)
        .select_related("event_exercise__exercise")
        .defer("executed_notebook", "log", "traceback")
        .order_by("-created_at", "-id")
    )
    by_member: dict[int, list[Submission]] = {pk: [] for pk in names}
    for submission in submissions:
        by_member[submission.participant_id].append(submission)
    # A member is active when they submit or write to a tutor, whichever came last.
    asked = dict(
        HelpRequest.objects.filter(event=group.event, participant_id__in=names)
        .values_list("participant_id")
        .annotate(last=Max("created_at"))
    )
    wrote = dict(
        HelpMessage.objects.filter(request__event=group.event, author_id__in=names)
        .values_list("author_id")
        .annotate(last=Max("created_at"))
    )
    minutes = stuck_minutes()
    members = []
    for user in users:
        own = by_member[user.pk]
        scored = [s for s in own if s.status == Submission.Status.SCORED and s.event_exercise_id == event_exercise.pk]
        moments = [m for m in (own[0].created_at if own else None, asked.get(user.pk), wrote.get(user.pk)) if m]
        members.append(
            MemberStatus(
                user_id=user.pk,
                name=names[user.pk],
                email=user.email,
                last_activity=max(moments) if moments else None,
                submissions=tuple(own[:RECENT_SUBMISSIONS]),
                submission_count=len(own),
                best_score=_best([s.score for s in scored if s.score is not None], exercise.direction),
                last_success_at=max((s.finished_at or s.created_at for s in scored), default=None),
                stuck_reason=stuck_reason(
                    own, opens_at=event_exercise.opens_at, closes_at=event_exercise.closes_at, now=now, minutes=minutes
                ),
                chart=score_chart(
                    s for s in own if s.kind == Submission.Kind.GRADED and s.event_exercise_id == event_exercise.pk
                ),
            )
        )
    # Requests of the group's members now, wherever they were when they asked.
    waiting_help = HelpRequest.objects.filter(
        event=group.event, participant_id__in=names, status=HelpRequest.Status.OPEN
    ).count()
    return GroupDashboard(
        group=group,
        tutors=tuple(sorted(person_name(tutor) for tutor in group.tutors.all())),
        members=tuple(members),
        errors=tuple(shared_errors(submissions, names)),
        waiting_help=waiting_help,
    )


def tutor_dashboards(user: AnyUser, event: Event, *, now: dt.datetime | None = None) -> list[GroupDashboard]:
    """Return a dashboard for each group the person follows."""
    return [group_dashboard(group, viewer=user, now=now) for group in tutored_groups(user, event)]
