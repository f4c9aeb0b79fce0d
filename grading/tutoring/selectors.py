"""What tutors watch: each group's members, their submissions, who is stuck, shared errors, the help queue."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, QuerySet
from django.utils import timezone

from grading.models import HelpMessage, HelpRequest, Submission, result_fields_through
from grading.permissions import handleable_help_requests, visible_submissions
from grading.tutoring.charts import ScoreChart, score_chart
from grading.tutoring.stuck import SharedError, shared_errors, stuck_reason
from hackathon import permissions
from hackathon.models import Event, Group, Registration
from hackathon.permissions import AnyUser

RECENT_SUBMISSIONS = 10
UNRESOLVED = (HelpRequest.Status.OPEN, HelpRequest.Status.CLAIMED)


def stuck_minutes() -> int:
    """Return after how many minutes without a valid submission a member counts as stuck."""
    return settings.GRADING_STUCK_MINUTES


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


# --- Queries ------------------------------------------------------------------------------------------------


def open_help_request_of(participant: AnyUser, event: Event) -> HelpRequest | None:
    """Return the participant's unresolved request in the event, if any."""
    if not participant.is_authenticated:
        return None
    return (
        HelpRequest.objects.filter(event=event, participant_id=participant.pk, status__in=UNRESOLVED)
        .select_related("claimed_by", "submission")
        .defer(*result_fields_through("submission"))
        .first()
    )


def place_in_queue(help_request: HelpRequest) -> int | None:
    """Return the request's place among those waiting for the same tutors (1 = next), or None once taken."""
    if help_request.status != HelpRequest.Status.OPEN:
        return None
    waiting = HelpRequest.objects.filter(event_id=help_request.event_id, status=HelpRequest.Status.OPEN)
    # The queue of the author's group now; requests of people without a group share one: the organizers'.
    group = help_request.current_group
    in_a_group = Registration.objects.filter(
        event_id=help_request.event_id, status=Registration.Status.CONFIRMED, group__isnull=False
    )
    if group is not None:
        waiting = waiting.filter(participant_id__in=in_a_group.filter(group=group).values("user_id"))
    else:
        waiting = waiting.exclude(participant_id__in=in_a_group.values("user_id"))
    ahead = waiting.filter(created_at__lt=help_request.created_at).count()
    ahead += waiting.filter(created_at=help_request.created_at, pk__lt=help_request.pk).count()
    return ahead + 1


def waiting_seconds(help_request: HelpRequest, *, now: dt.datetime | None = None) -> float:
    """Return how long the request has waited for a tutor (until claimed, or until now)."""
    end = help_request.claimed_at or help_request.resolved_at or now or timezone.now()
    return max(0.0, (end - help_request.created_at).total_seconds())


def help_queue(user: AnyUser, event: Event) -> QuerySet[HelpRequest]:
    """Return the unresolved requests the person may handle, the longest-waiting first."""
    return (
        handleable_help_requests(user, event)
        .filter(status__in=UNRESOLVED)
        .select_related("participant", "group", "claimed_by", "submission")
        .defer(*result_fields_through("submission"))
        .order_by("created_at", "id")
    )


def thread_of(help_request: HelpRequest) -> QuerySet[HelpMessage]:
    return help_request.messages.select_related("author").order_by("created_at", "id")


@dataclass(frozen=True)
class WaitingRequest:
    """One unresolved request as the organizers' overview shows it."""

    help_request: HelpRequest
    waited_s: float


@dataclass(frozen=True)
class HelpOverview:
    """The event's unresolved requests and how long people wait for a tutor."""

    waiting: tuple[WaitingRequest, ...]
    open_count: int
    claimed_count: int
    longest_wait_s: float | None
    median_wait_s: float | None
    median_time_to_claim_s: float | None


def event_help_overview(event: Event, *, now: dt.datetime | None = None) -> HelpOverview:
    """Summarize the event's help requests for its organizers: who waits, and for how long."""
    now = now or timezone.now()
    unresolved = list(
        HelpRequest.objects.filter(event=event, status__in=UNRESOLVED)
        .select_related("participant", "group", "claimed_by")
        .order_by("created_at", "id")
    )
    waiting = tuple(WaitingRequest(r, waiting_seconds(r, now=now)) for r in unresolved)
    open_waits = [w.waited_s for w in waiting if w.help_request.status == HelpRequest.Status.OPEN]
    answered = HelpRequest.objects.filter(event=event, claimed_at__isnull=False).only("created_at", "claimed_at")
    answered_waits = [waiting_seconds(r) for r in answered]
    return HelpOverview(
        waiting=waiting,
        open_count=len(open_waits),
        claimed_count=len(waiting) - len(open_waits),
        longest_wait_s=max(open_waits) if open_waits else None,
        median_wait_s=statistics.median(open_waits) if open_waits else None,
        median_time_to_claim_s=statistics.median(answered_waits) if answered_waits else None,
    )
