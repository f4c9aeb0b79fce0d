"""Announcements: resolve an audience, record who got the message, show it until read, email who wants it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from hackathon import permissions
from hackathon.errors import AnnouncementRefused
from hackathon.models import Announcement, AnnouncementReceipt, Event, Group, Preferences, Registration
from hackathon.permissions import AnyUser

logger = logging.getLogger(__name__)

# How many unread announcements the banner shows at once; the rest wait on the person's announcements page.
BANNER_MAX = 3


@dataclass(frozen=True)
class Audience:
    """Who an announcement goes to, resolved at this moment: its kind, the words that name it, the people's ids."""

    kind: str
    text: str
    user_ids: frozenset[int]


def _confirmed(event: Event) -> QuerySet[Registration]:
    return Registration.objects.filter(event=event, status=Registration.Status.CONFIRMED)


def everyone(event: Event) -> Audience:
    """Every confirmed participant of the event."""
    ids = frozenset(_confirmed(event).values_list("user_id", flat=True))
    return Audience(Announcement.Audience.EVENT, "Every participant of the event", ids)


def with_status(event: Event, status: str) -> Audience:
    """The registrants whose registration has this status now (e.g. the waiting list)."""
    label = Registration.Status(status).label
    ids = frozenset(Registration.objects.filter(event=event, status=status).values_list("user_id", flat=True))
    return Audience(Announcement.Audience.STATUS, f"Registrants: {label.lower()}", ids)


def in_groups(event: Event, groups: Iterable[Group]) -> Audience:
    """The confirmed members of these groups of the event."""
    chosen = sorted({g.pk: g.number for g in groups if g.event_id == event.pk}.items(), key=lambda item: item[1])
    ids = frozenset(_confirmed(event).filter(group_id__in=[pk for pk, _ in chosen]).values_list("user_id", flat=True))
    text = ", ".join(f"group {number}" for _, number in chosen)
    return Audience(Announcement.Audience.GROUPS, text[:1].upper() + text[1:], ids)


def send_announcement(
    *, author: AbstractBaseUser, event: Event, title: str, body: str, audience: Audience
) -> Announcement:
    """Record the announcement for each person of the audience and queue its emails once committed.

    Tutors may write only to members of the groups they tutor (permissions.announce_reach). Raise
    AnnouncementRefused, with a sentence, for an empty title or body, an empty audience, or one out of reach.
    """
    if not permissions.can_announce(author, event):
        raise AnnouncementRefused("Only the event's organizers, and tutors for their groups, write announcements.")
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise AnnouncementRefused("Write a title and a message, then send the announcement again.")
    if len(title) > Announcement.TITLE_MAX_CHARS or len(body) > Announcement.BODY_MAX_CHARS:
        raise AnnouncementRefused(
            f"Keep the title under {Announcement.TITLE_MAX_CHARS} characters and the message under "
            f"{Announcement.BODY_MAX_CHARS}: an announcement is read at a glance."
        )
    reach = permissions.announce_reach(author, event)
    if reach is not None and not audience.user_ids <= reach:
        raise AnnouncementRefused(
            "As a tutor you write to the members of the groups you tutor: choose your groups, or an error of theirs."
        )
    if not audience.user_ids:
        raise AnnouncementRefused("Nobody is in this audience now, so nothing was sent; choose another audience.")
    with transaction.atomic():
        announcement = Announcement.objects.create(
            event=event,
            author=author,
            title=title,
            body=body,
            audience=audience.kind,
            audience_text=audience.text[:300],
        )
        AnnouncementReceipt.objects.bulk_create(
            AnnouncementReceipt(announcement=announcement, user_id=user_id) for user_id in sorted(audience.user_ids)
        )
        transaction.on_commit(lambda: _queue_emails(announcement.pk))
    return announcement


def _queue_emails(announcement_id: int) -> None:
    from hackathon.tasks import email_announcement_task

    email_announcement_task.delay(announcement_id)


def wants_email(user_ids: Iterable[int]) -> set[int]:
    """Return which of these people take announcements by email (everyone who did not turn it off)."""
    ids = set(user_ids)
    refused = set(
        Preferences.objects.filter(user_id__in=ids, announcements_by_email=False).values_list("user_id", flat=True)
    )
    return ids - refused


def email_announcement(announcement_id: int, *, now: dt.datetime | None = None) -> int:
    """Email the announcement to each recipient who takes announcements by email; return how many were sent.

    Each receipt is claimed before its email goes out, so a task delivered twice mails nobody twice.
    """
    announcement = Announcement.objects.select_related("event").get(pk=announcement_id)
    receipts = list(announcement.receipts.filter(emailed_at__isnull=True).select_related("user"))
    takers = wants_email(r.user_id for r in receipts)
    event = announcement.event
    site = settings.SITE_URL.rstrip("/")
    sent = 0
    for receipt in receipts:
        if receipt.user_id not in takers or not receipt.user.email:
            continue
        claimed = AnnouncementReceipt.objects.filter(pk=receipt.pk, emailed_at__isnull=True).update(
            emailed_at=now or timezone.now()
        )
        if claimed != 1:
            continue
        send_mail(
            subject=f"[{event.title}] {announcement.title}",
            message=(
                f"{announcement.body}\n\n"
                f"— {event.title}: {site}{event.get_absolute_url()}\n"
                "You get the announcements of your events by email; turn that off on "
                f"{site}{reverse('hackathon:preferences')}"
            ),
            from_email=None,
            recipient_list=[receipt.user.email],
        )
        sent += 1
    return sent


def unread_receipts(user: AnyUser) -> QuerySet[AnnouncementReceipt]:
    """Return the person's unread announcements, newest first, with their event."""
    if not user.is_authenticated:
        return AnnouncementReceipt.objects.none()
    return (
        AnnouncementReceipt.objects.filter(user_id=user.pk, read_at__isnull=True)
        .select_related("announcement__event", "announcement__author")
        .order_by("-announcement__sent_at", "-announcement_id")
    )


def received(user: AnyUser, *, limit: int = 50) -> QuerySet[AnnouncementReceipt]:
    """Return the announcements the person got, read or not, newest first."""
    if not user.is_authenticated:
        return AnnouncementReceipt.objects.none()
    return (
        AnnouncementReceipt.objects.filter(user_id=user.pk)
        .select_related("announcement__event", "announcement__author")
        .order_by("-announcement__sent_at", "-announcement_id")[:limit]
    )


def mark_read(*, user: AbstractBaseUser, announcement_ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Mark the person's own receipts of these announcements read; return how many changed (others are ignored)."""
    return AnnouncementReceipt.objects.filter(
        user_id=user.pk, announcement_id__in=list(announcement_ids), read_at__isnull=True
    ).update(read_at=now or timezone.now())


def event_history(event: Event, viewer: AnyUser) -> QuerySet[Announcement]:
    """Return the event's announcements the viewer may list: all (organizers), their own (tutors), with counts."""
    announcements = event.announcements.select_related("author").annotate(
        recipient_count=Count("receipts"),
        read_count=Count("receipts", filter=Q(receipts__read_at__isnull=False)),
        emailed_count=Count("receipts", filter=Q(receipts__emailed_at__isnull=False)),
    )
    if permissions.can_manage_event(viewer, event):
        return announcements
    if permissions.can_announce(viewer, event):
        return announcements.filter(author_id=viewer.pk)
    return announcements.none()


def get_preferences(user: AbstractBaseUser) -> Preferences:
    """Return the person's preferences, unsaved defaults when they never chose any."""
    return Preferences.objects.filter(user_id=user.pk).first() or Preferences(user_id=user.pk)
