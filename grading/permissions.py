"""Who may see which submissions: the one place grading's pages and API ask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from grading.models import HelpRequest, Submission
from hackathon import permissions
from hackathon.models import Event, Registration
from hackathon.permissions import AnyUser

if TYPE_CHECKING:
    from grading.boards import Audience


def visible_submissions(user: AnyUser, event: Event) -> QuerySet[Submission]:
    """Return the event's submissions the person may open: their own, their groups' (tutors), all (organizers)."""
    submissions = Submission.objects.filter(event_exercise__event=event)
    if not user.is_authenticated:
        return submissions.none()
    if permissions.can_manage_event(user, event):
        return submissions
    # Tutors see the members their groups have now (confirmed registrations), not those they once had.
    tutored = Registration.objects.filter(event=event, status=Registration.Status.CONFIRMED, group__tutors=user).values(
        "user_id"
    )
    return submissions.filter(Q(participant_id=user.pk) | Q(participant_id__in=tutored))


def can_view_submission(user: AnyUser, submission: Submission) -> bool:
    return visible_submissions(user, submission.event_exercise.event).filter(pk=submission.pk).exists()


# --- What of a result a person may see (issue 18) ------------------------------------------------------------
# Every output that shows a submission's scores (its page, its status fragment, the API) asks visible_result();
# boards decide the same rule per audience (board_audience below); organizer-only outputs (reports, CSV exports, the
# disqualification page) are behind can_manage_event; no email carries a score. tests/security/
# test_result_visibility.py reads every output of every person to hold them to it.

# Secondary metrics on the private part are stored as `<name>_private` (exercises/evaluation.py).
PRIVATE_MARK = "_private"


@dataclass(frozen=True)
class VisibleResult:
    """The scores of one submission as one person may see them: the private part only for the event's organizers."""

    score: float | None
    private_score: float | None
    secondary: dict[str, float]
    shows_private: bool


def sees_private_results(user: AnyUser, event: Event) -> bool:
    """Whether the person sees scores on the private part outside the revealed private board: organizers, staff."""
    return permissions.can_manage_event(user, event)


def visible_result(submission: Submission, viewer: AnyUser, *, shows_private: bool | None = None) -> VisibleResult:
    """Return what the viewer may see of the submission's scores (pass shows_private when already known)."""
    if shows_private is None:
        shows_private = sees_private_results(viewer, submission.event_exercise.event)
    secondary = {
        name: value for name, value in (submission.secondary or {}).items() if shows_private or PRIVATE_MARK not in name
    }
    return VisibleResult(
        score=submission.score,
        private_score=submission.private_score if shows_private else None,
        secondary=secondary,
        shows_private=shows_private,
    )


# --- Help requests (issue 8) ----------------------------------------------------------------------------------


def handleable_help_requests(user: AnyUser, event: Event) -> QuerySet[HelpRequest]:
    """Return the help requests the person may claim, answer and resolve: their groups' (tutors), all (organizers)."""
    requests = HelpRequest.objects.filter(event=event)
    if not user.is_authenticated:
        return requests.none()
    if permissions.can_manage_event(user, event):
        return requests
    # The author's group now, not the copy kept on the request: after a move the new tutors handle it, the old
    # ones no longer do, and a cancelled registration leaves no tutor in charge.
    tutored = Registration.objects.filter(event=event, status=Registration.Status.CONFIRMED, group__tutors=user).values(
        "user_id"
    )
    return requests.filter(participant_id__in=tutored)


def visible_help_requests(user: AnyUser, event: Event) -> QuerySet[HelpRequest]:
    """Return the help requests the person may read: their own, and those they may handle."""
    if not user.is_authenticated:
        return HelpRequest.objects.none()
    handleable = handleable_help_requests(user, event).values("pk")
    return HelpRequest.objects.filter(event=event).filter(Q(participant_id=user.pk) | Q(pk__in=handleable))


def can_handle_help_request(user: AnyUser, help_request: HelpRequest) -> bool:
    return handleable_help_requests(user, help_request.event).filter(pk=help_request.pk).exists()


# --- Leaderboards (issue 7) ----------------------------------------------------------------------------------


def board_audience(user: AnyUser, event: Event) -> Audience | None:
    """Return how the person reads the event's boards: organizers live, its people as participants, others not."""
    # Site staff read every board as organizers: their roles in the event need no query.
    roles = frozenset() if permissions.is_site_staff(user) else permissions.roles_in(user, event)
    return audience_of(user, roles)


def audience_of(user: AnyUser, roles: frozenset[permissions.Role]) -> Audience | None:
    """Return how a person holding these roles in an event reads its boards (board_audience's rule)."""
    from grading.boards import Audience

    if not user.is_authenticated:
        return None
    if permissions.is_site_staff(user):
        return Audience.ORGANIZER
    if permissions.Role.ORGANIZER in roles:
        return Audience.ORGANIZER
    if roles:  # tutors and confirmed participants see what participants see: frozen, private until revealed
        return Audience.PARTICIPANT
    return None


# --- After the deadline (issue 19) ---------------------------------------------------------------------------


def can_read_debrief(user: AnyUser, event: Event) -> bool:
    """Read an exercise's debrief and released notebooks (once it closed): the event's participants, tutors and
    organizers, and site staff."""
    return permissions.is_site_staff(user) or bool(permissions.roles_in(user, event))
