"""Help requests' actions: a participant raises one, their group's tutors claim, answer and resolve it in order."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from grading.errors import HelpRequestRefused
from grading.models import HelpMessage, HelpRequest, Submission
from grading.permissions import can_handle_help_request
from grading.tutoring.selectors import UNRESOLVED, open_help_request_of
from hackathon import permissions
from hackathon.models import Event, EventRole, Registration

logger = logging.getLogger(__name__)


def _clean(text: str, *, minimum: int, maximum: int, what: str) -> str:
    """Return the text stripped, or refuse it with a sentence that says how long it must be."""
    text = (text or "").strip()
    if len(text) < minimum:
        if minimum <= 1:
            raise HelpRequestRefused(f"Write your {what} before sending it.")
        raise HelpRequestRefused(
            f"Write at least {minimum} characters in your {what}, so a tutor knows where to start."
        )
    if len(text) > maximum:
        raise HelpRequestRefused(
            f"Keep your {what} under {maximum} characters ({len(text)} now); a tutor will ask for the details."
        )
    return text


def raise_help_request(
    *, participant: AbstractBaseUser, event: Event, message: str, submission: Submission | None = None
) -> HelpRequest:
    """Record a participant's call for help and email their group's tutors once it is committed."""
    if not permissions.can_take_part(participant, event):
        raise HelpRequestRefused("Only confirmed participants of this event can ask its tutors for help.")
    message = _clean(
        message, minimum=HelpRequest.MESSAGE_MIN_CHARS, maximum=HelpRequest.MESSAGE_MAX_CHARS, what="request"
    )
    if submission is not None and (
        submission.participant_id != participant.pk or submission.event_exercise.event_id != event.pk
    ):
        raise HelpRequestRefused("You can only tie a request to one of your own submissions in this event.")
    registration = Registration.objects.get(event=event, user=participant, status=Registration.Status.CONFIRMED)
    if open_help_request_of(participant, event) is not None:
        raise HelpRequestRefused(
            "You already have a help request waiting. Add to its thread instead of opening another."
        )
    try:
        with transaction.atomic():
            help_request = HelpRequest.objects.create(
                event=event,
                participant=participant,
                group_id=registration.group_id,
                submission=submission,
                message=message,
            )
            transaction.on_commit(lambda: _email_tutors_of(help_request))
    except IntegrityError as error:
        # Two clicks at once: the constraint lets one request through, the other is told where it went.
        raise HelpRequestRefused(
            "You already have a help request waiting. Add to its thread instead of opening another."
        ) from error
    return help_request


def claim_help_request(
    *, help_request: HelpRequest, tutor: AbstractBaseUser, now: dt.datetime | None = None
) -> HelpRequest:
    """Take a waiting request; only one tutor gets it, the others are told who did."""
    if not can_handle_help_request(tutor, help_request):
        raise HelpRequestRefused(
            "Only the tutors of this participant's group and the organizers can take this request."
        )
    now = now or timezone.now()
    claimed = HelpRequest.objects.filter(pk=help_request.pk, status=HelpRequest.Status.OPEN).update(
        status=HelpRequest.Status.CLAIMED, claimed_by=tutor, claimed_at=now
    )
    help_request.refresh_from_db()
    if not claimed and help_request.claimed_by_id != tutor.pk:
        if help_request.is_resolved:
            raise HelpRequestRefused("This request is already resolved.")
        who = help_request.claimed_by.email if help_request.claimed_by else "another tutor"
        raise HelpRequestRefused(f"{who} has already taken this request.")
    return help_request


def answer_help_request(*, help_request: HelpRequest, author: AbstractBaseUser, text: str) -> HelpMessage:
    """Add a message to the thread, emailed to the other side: the participant, or whoever handles the request.

    A tutor's answer takes the request if it was waiting.
    """
    is_participant = help_request.participant_id == author.pk
    is_handler = can_handle_help_request(author, help_request)
    if not (is_participant or is_handler):
        raise HelpRequestRefused("Only the participant, their group's tutors and the organizers can write here.")
    if help_request.is_resolved:
        raise HelpRequestRefused("This request is resolved. Raise a new one if you need more help.")
    text = _clean(text, minimum=1, maximum=HelpMessage.MAX_CHARS, what="message")
    with transaction.atomic():
        if is_handler and not is_participant and help_request.status == HelpRequest.Status.OPEN:
            claim_help_request(help_request=help_request, tutor=author)
        reply = HelpMessage.objects.create(request=help_request, author=author, text=text)
        if is_participant:
            transaction.on_commit(lambda: _email_handlers_of(reply))
        else:
            transaction.on_commit(lambda: _email_participant(reply))
    return reply


def resolve_help_request(
    *, help_request: HelpRequest, by: AbstractBaseUser, now: dt.datetime | None = None
) -> HelpRequest:
    """Close the request: a tutor when the problem is solved, or the participant who no longer needs help."""
    if not (help_request.participant_id == by.pk or can_handle_help_request(by, help_request)):
        raise HelpRequestRefused("Only the participant, their group's tutors and the organizers can resolve this.")
    now = now or timezone.now()
    HelpRequest.objects.filter(pk=help_request.pk, status__in=UNRESOLVED).update(
        status=HelpRequest.Status.RESOLVED, resolved_at=now
    )
    help_request.refresh_from_db()
    return help_request


# --- Notifications ------------------------------------------------------------------------------------------


def help_request_url(help_request: HelpRequest) -> str:
    path = reverse("grading:help_request", kwargs={"slug": help_request.event.slug, "pk": help_request.pk})
    return settings.SITE_URL.rstrip("/") + path


def helpers_of(help_request: HelpRequest) -> list[AbstractBaseUser]:
    """Return who a new request goes to: the group's tutors, or the organizers when there is no group or tutor."""
    group = help_request.current_group
    tutors = list(group.tutors.all()) if group is not None else []
    if tutors:
        return tutors
    roles = help_request.event.roles.filter(role=EventRole.Role.ORGANIZER).select_related("user")
    return [role.user for role in roles]


def _email_tutors_of(help_request: HelpRequest) -> None:
    recipients = [person.email for person in helpers_of(help_request) if person.email]
    if not recipients:
        logger.warning("Help request %s has nobody to notify", help_request.pk)
        return
    participant = help_request.participant
    group = help_request.current_group
    group = f"group {group.number}" if group is not None else "no group"
    send_mail(
        subject=f"Help requested by {participant.get_full_name() or participant.email} ({group})",
        message=(
            f"{participant.get_full_name() or participant.email} asks for help at {help_request.event.title}:\n\n"
            f"{help_request.message}\n\nTake it here: {help_request_url(help_request)}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )


def _email_participant(reply: HelpMessage) -> None:
    help_request = reply.request
    if not help_request.participant.email:
        return
    send_mail(
        subject=f"A tutor answered your help request at {help_request.event.title}",
        message=(
            f"{reply.author.get_full_name() or reply.author.email} wrote:\n\n{reply.text}\n\n"
            f"Reply or mark it resolved here: {help_request_url(help_request)}\n"
        ),
        from_email=None,
        recipient_list=[help_request.participant.email],
    )


def _email_handlers_of(reply: HelpMessage) -> None:
    """Tell the tutor who took the request (or, while nobody has, its helpers) that the participant wrote back."""
    help_request = reply.request
    handlers = [help_request.claimed_by] if help_request.claimed_by_id else helpers_of(help_request)
    recipients = [person.email for person in handlers if person.email]
    if not recipients:
        return
    participant = help_request.participant
    send_mail(
        subject=f"{participant.get_full_name() or participant.email} replied to their help request",
        message=(
            f"{participant.get_full_name() or participant.email} wrote at {help_request.event.title}:\n\n"
            f"{reply.text}\n\nAnswer or resolve it here: {help_request_url(help_request)}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
