"""Who may see which submissions: the one place grading's pages and API ask."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from grading.models import Submission
from hackathon import permissions
from hackathon.models import Event
from hackathon.permissions import AnyUser


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
