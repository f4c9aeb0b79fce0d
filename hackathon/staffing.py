"""Staffing an event: organizers invite tutors and co-organizers by email, see who is invited, and revoke roles."""

from __future__ import annotations

import logging

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from hackathon.errors import StaffingRefused
from hackathon.models import Event, EventRole, Registration, StaffInvitation

logger = logging.getLogger(__name__)
Role = EventRole.Role
# A person registered in one of these states is a participant of the event and cannot also be on its staff.
REGISTERED = (
    Registration.Status.CONFIRMED,
    Registration.Status.PENDING,
    Registration.Status.OFFERED,
    Registration.Status.WAITING,
)


def _person(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.email


def a_role(role_label: str) -> str:
    """Put "a" or "an" before a role's name: a tutor, an organizer."""
    return f"an {role_label}" if role_label[:1] in "aeiou" else f"a {role_label}"


def verified_owner(email: str) -> AbstractBaseUser | None:
    """Return the account that has proved it owns this address, if any."""
    address = EmailAddress.objects.filter(email__iexact=email, verified=True).select_related("user").first()
    return address.user if address else None


def grant_role(*, event: Event, user: AbstractBaseUser, role: str) -> EventRole:
    """Give the person the role in the event; refuse a registered participant, who cannot be staff as well."""
    if event.registrations.filter(user=user, status__in=REGISTERED).exists():
        raise StaffingRefused(
            f"{_person(user)} is registered as a participant of {event.title}, and a participant cannot also be "
            "on its staff. Ask them to cancel their registration first, then invite them again."
        )
    granted, _ = EventRole.objects.get_or_create(event=event, user=user, role=role)
    return granted


def invite_staff(*, event: Event, email: str, role: str, invited_by: AbstractBaseUser) -> str:
    """Give the role to the account owning the address at once, or mail an invitation link; return what happened."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise StaffingRefused(
            f"{email or 'An empty address'} is not an email address; check it and try again."
        ) from None
    if role not in Role.values:
        raise StaffingRefused("Choose whether the person is invited as a tutor or as an organizer.")
    label = Role(role).label.lower()
    with transaction.atomic():
        owner = verified_owner(email)
        if owner is not None:
            if EventRole.objects.filter(event=event, user=owner, role=role).exists():
                raise StaffingRefused(f"{_person(owner)} is already {a_role(label)} of {event.title}; nothing changed.")
            grant_role(event=event, user=owner, role=role)
            transaction.on_commit(lambda: _email_granted(event, owner.email, role))
            return f"{_person(owner)} is now {a_role(label)} of {event.title}; they were told by email."
        if event.staff_invitations.filter(email__iexact=email, role=role, accepted_at__isnull=True).exists():
            raise StaffingRefused(
                f"{email} is already invited as {a_role(label)} and has not signed up yet. Withdraw that invitation "
                "below to send a new one."
            )
        invitation = StaffInvitation.objects.create(event=event, email=email, role=role, invited_by=invited_by)
        transaction.on_commit(lambda: _email_invitation(invitation))
    return (
        f"{email} has no account here yet: an invitation link was emailed to them. They become {a_role(label)} of "
        f"{event.title} when they sign up with that address."
    )


def _email_granted(event: Event, email: str, role: str) -> None:
    url = settings.SITE_URL.rstrip("/") + event.get_absolute_url()
    send_mail(
        subject=f"You are {a_role(Role(role).label.lower())} of {event.title}",
        message=f"The organizers of {event.title} added you as {a_role(Role(role).label.lower())}.\n\n"
        f"The event's page, with your pages linked from it: {url}\n",
        from_email=None,
        recipient_list=[email],
    )


def _email_invitation(invitation: StaffInvitation) -> None:
    event = invitation.event
    url = settings.SITE_URL.rstrip("/") + invitation.get_absolute_url()
    send_mail(
        subject=f"Join {event.title} as {a_role(invitation.get_role_display().lower())}",
        message=(
            f"The organizers of {event.title} invite you to be {a_role(invitation.get_role_display().lower())}.\n\n"
            f"Open this link and sign up with this address ({invitation.email}) to accept: {url}\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


def pending_invitations(event: Event) -> QuerySet[StaffInvitation]:
    return event.staff_invitations.filter(accepted_at__isnull=True).select_related("invited_by")


def accept_invitation(*, invitation: StaffInvitation, user: AbstractBaseUser) -> EventRole:
    """Grant an invitation's role to the signed-in person, who must own the invited address (verified)."""
    if not invitation.is_pending:
        raise StaffingRefused("This invitation was already accepted; the event's page has your pages.")
    owns = EmailAddress.objects.filter(user=user, email__iexact=invitation.email, verified=True).exists()
    if not owns:
        raise StaffingRefused(
            f"This invitation is for {invitation.email}, and you are signed in as {user.email}. Sign out, then "
            f"sign up or sign in with {invitation.email}."
        )
    with transaction.atomic():
        role = grant_role(event=invitation.event, user=user, role=invitation.role)
        StaffInvitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now(), accepted_by=user)
    return role


def accept_invitations_for(user: AbstractBaseUser) -> list[EventRole]:
    """Grant every pending invitation to an address the person has just proved they own (after sign-up)."""
    emails = list(EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True))
    granted = []
    for email in emails:
        for invitation in StaffInvitation.objects.filter(email__iexact=email, accepted_at__isnull=True):
            try:
                granted.append(accept_invitation(invitation=invitation, user=user))
            except StaffingRefused as error:
                logger.info("Invitation %s not granted on sign-up: %s", invitation.pk, error.message)
    return granted


def withdraw_invitation(*, invitation: StaffInvitation) -> None:
    """Cancel a pending invitation: its link stops working."""
    if not invitation.is_pending:
        raise StaffingRefused("This invitation was already accepted: revoke the person's role instead.")
    invitation.delete()


def what_revoking_removes(role: EventRole) -> list[str]:
    """Say, before it happens, what revoking this role takes away."""
    who, event = _person(role.user), role.event
    lines = [f"{who} is no longer {a_role(role.get_role_display().lower())} of {event.title}."]
    if role.role == Role.TUTOR:
        numbers = list(event.groups.filter(tutors=role.user).values_list("number", flat=True))
        if numbers:
            shown = ", ".join(str(n) for n in numbers)
            lines.append(f"They leave the groups they tutor ({shown}); check the groups' tutor ratio afterwards.")
    else:
        lines.append("They can no longer edit the event, its registrations, groups or boards.")
    lines.append("To give the role back, invite them again.")
    return lines


def why_role_stays(role: EventRole) -> str:
    """Return why this role cannot be revoked, as a sentence, or "" when it can: the last organizer stays."""
    if role.role == Role.ORGANIZER and role.event.roles.filter(role=Role.ORGANIZER).count() <= 1:
        return f"{_person(role.user)} is the only organizer of {role.event.title}. Invite another organizer first."
    return ""


def revoke_role(*, role: EventRole) -> None:
    """Take a staff role away; the last organizer of an event is kept, so that someone can still run it."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=role.event_id)  # one revocation at a time per event
        if refusal := why_role_stays(role):
            raise StaffingRefused(refusal)
        if role.role == Role.TUTOR:
            for group in event.groups.filter(tutors=role.user):
                group.tutors.remove(role.user)
        role.delete()


def on_signed_up(sender: object, request: object, user: AbstractBaseUser, **kwargs: object) -> None:
    """allauth's user_signed_up: an address proved by an invitation link grants that invitation's role now."""
    accept_invitations_for(user)


def on_email_confirmed(sender: object, request: object, email_address: EmailAddress, **kwargs: object) -> None:
    """allauth's email_confirmed: an address confirmed later grants the invitations waiting for it."""
    accept_invitations_for(email_address.user)
