"""Who may see which submissions: the one place grading's pages and API ask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from grading.models import HelpRequest, Submission
from hackathon import permissions
from hackathon.models import Event, EventRole, Registration
from hackathon.permissions import AnyUser, Role

if TYPE_CHECKING:
    from grading.boards.ranking import Audience


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
# The one definition of who reads an event's boards, and how. The roles come as Exists annotations (roles_held_in),
# so a page asks them in the same query that loads its event or exercise (grading.boards.selectors.get_board_access)
# and the rule on those roles is board_audience_of's alone.


HOLDS = {Role.ORGANIZER: "holds_organizer", Role.TUTOR: "holds_tutor", Role.PARTICIPANT: "holds_participant"}


def roles_held_in(user_id: int | None, event_ref: str = "pk") -> dict[str, Exists]:
    """Return annotations saying whether the person holds each role in the event whose id is the column event_ref.

    Keys are `holds_<role>` for organizer, tutor and participant (a confirmed registration); read them back with
    roles_from(). An anonymous person (None) holds none.
    """
    roles = EventRole.objects.filter(event_id=OuterRef(event_ref), user_id=user_id)
    registrations = Registration.objects.filter(
        event_id=OuterRef(event_ref), user_id=user_id, status=Registration.Status.CONFIRMED
    )
    return {
        HOLDS[Role.ORGANIZER]: Exists(roles.filter(role=EventRole.Role.ORGANIZER)),
        HOLDS[Role.TUTOR]: Exists(roles.filter(role=EventRole.Role.TUTOR)),
        HOLDS[Role.PARTICIPANT]: Exists(registrations),
    }


def roles_from(row: Any) -> frozenset[Role]:
    """Return the roles a row annotated with roles_held_in() says the person holds (SQLite answers 0 or 1)."""
    if isinstance(row, dict):
        return frozenset(role for role, name in HOLDS.items() if row[name])
    return frozenset(role for role, name in HOLDS.items() if getattr(row, name))


def board_audience_of(user: AnyUser, roles: frozenset[Role], *, published: bool = True) -> Audience | None:
    """Return how a person holding these roles in an event reads its boards, or None when they may not.

    Organizers (and active site staff) read them live, its confirmed participants and tutors as participants
    (frozen, private until revealed), anyone else not at all; an unpublished event's boards only its organizers.
    """
    from grading.boards.ranking import Audience

    if not user.is_authenticated:
        return None
    if permissions.is_site_staff(user) or Role.ORGANIZER in roles:
        return Audience.ORGANIZER
    if roles and published:  # tutors and confirmed participants see what participants see
        return Audience.PARTICIPANT
    return None


def board_audience(user: AnyUser, event: Event) -> Audience | None:
    """Return how the person reads the event's boards, asking their roles in one query (none for site staff)."""
    if not user.is_authenticated or permissions.is_site_staff(user):
        return board_audience_of(user, frozenset(), published=event.published)
    row = Event.objects.filter(pk=event.pk).values(**roles_held_in(user.pk)).first()
    return board_audience_of(user, roles_from(row) if row else frozenset(), published=event.published)


# --- After the deadline (issue 19) ---------------------------------------------------------------------------


def can_read_debrief(user: AnyUser, event: Event) -> bool:
    """Read an exercise's debrief and released notebooks (once it closed): the event's participants, tutors and
    organizers, and site staff."""
    return permissions.is_site_staff(user) or bool(permissions.roles_in(user, event))


def can_change_sharing(user: AnyUser, submission: Submission) -> bool:
    """Whether the person may give or withdraw consent to share this notebook: its author only, never an organizer
    or tutor (consent is the author's to give)."""
    return user.is_authenticated and submission.participant_id == user.pk
