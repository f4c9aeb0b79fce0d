"""Who may see which submissions: the one place grading's pages and API ask."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from grading.models import HelpRequest, Submission
from hackathon import permissions
from hackathon.models import Event
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
    return submissions.filter(
        Q(participant_id=user.pk)
        | Q(participant__registrations__event=event, participant__registrations__group__tutors=user)
    ).distinct()


def can_view_submission(user: AnyUser, submission: Submission) -> bool:
    return visible_submissions(user, submission.event_exercise.event).filter(pk=submission.pk).exists()


# --- Help requests (issue 8) ----------------------------------------------------------------------------------


def handleable_help_requests(user: AnyUser, event: Event) -> QuerySet[HelpRequest]:
    """Return the help requests the person may claim, answer and resolve: their groups' (tutors), all (organizers)."""
    requests = HelpRequest.objects.filter(event=event)
    if not user.is_authenticated:
        return requests.none()
    if permissions.can_manage_event(user, event):
        return requests
    # A request raised before its participant had a group follows them to the group they are in now.
    now_in_their_group = Q(
        group=None, participant__registrations__event=event, participant__registrations__group__tutors=user
    )
    return requests.filter(Q(group__tutors=user) | now_in_their_group).distinct()


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
