"""A freed place goes to the first on the waiting list, by email; an unanswered offer expires and passes on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from hackathon import services
from hackathon.errors import RegistrationRefused
from hackathon.models import Registration
from hackathon.services import RegistrationDetails
from tests.builders.events import make_event
from tests.builders.people import make_organizer, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

DETAILS = RegistrationDetails(affiliation="bari", career_stage="student", ml_experience="none")


def full_event_with_queue(queue: int = 2):  # type: ignore[no-untyped-def]
    event = make_event(capacity=1)
    holder = services.register(event=event, user=make_user(), details=DETAILS)
    waiting = [services.register(event=event, user=make_user(), details=DETAILS) for _ in range(queue)]
    return event, holder, waiting


def test_cancelling_offers_the_place_to_the_first_on_the_waiting_list_by_email(django_capture_on_commit_callbacks):
    event, holder, (first, second) = full_event_with_queue()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_registration(registration=holder)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("offered", "waiting")
    assert first.offer_expires_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [first.user.email]
    assert event.title in mail.outbox[0].subject


def test_the_offer_lasts_the_configured_hours(settings):
    settings.REGISTRATION_OFFER_HOURS = 6
    _event, holder, (first, _second) = full_event_with_queue()
    now = timezone.now()
    services.cancel_registration(registration=holder, now=now)
    first.refresh_from_db()
    assert first.offer_expires_at == now + dt.timedelta(hours=6)


def test_the_promoted_person_accepts_the_place_from_the_event_page(client):
    event, holder, (first, _second) = full_event_with_queue()
    services.cancel_registration(registration=holder)
    client.force_login(first.user)
    page = client.get(reverse("hackathon:event_detail", args=[event.slug])).content.decode()
    assert "Accept the place" in page
    response = client.post(reverse("hackathon:accept_offer", args=[event.slug]), follow=True)
    assert "The place is yours" in response.content.decode()
    first.refresh_from_db()
    assert first.status == "confirmed"


def test_an_unanswered_offer_expires_and_passes_to_the_next_in_line(django_capture_on_commit_callbacks):
    _event, holder, (first, second) = full_event_with_queue()
    start = timezone.now()
    services.cancel_registration(registration=holder, now=start)
    assert services.expire_offers(start + dt.timedelta(hours=1)) == []
    with django_capture_on_commit_callbacks(execute=True):
        expired = services.expire_offers(start + dt.timedelta(hours=services.offer_hours(), minutes=1))
    assert [r.pk for r in expired] == [first.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("cancelled", "offered")
    assert mail.outbox[-1].to == [second.user.email]


def test_an_expired_offer_can_no_longer_be_accepted():
    _event, holder, (first, _second) = full_event_with_queue()
    past = timezone.now() - dt.timedelta(days=5)
    services.cancel_registration(registration=holder, now=past)
    with pytest.raises(RegistrationRefused, match="expired"):
        services.accept_offer(registration=first)
    first.refresh_from_db()
    assert first.status == "offered"


def test_the_expire_offers_command_reports_how_many_expired():
    from io import StringIO

    from django.core.management import call_command

    _event, holder, _waiting = full_event_with_queue()
    services.cancel_registration(registration=holder, now=timezone.now() - dt.timedelta(days=5))
    out = StringIO()
    call_command("expire_offers", stdout=out)
    assert "1 offer(s) expired" in out.getvalue()


def test_cancelling_from_the_event_page_frees_the_place(client):
    event, holder, (first, _second) = full_event_with_queue()
    client.force_login(holder.user)
    assert (
        "This cannot be undone"
        in client.get(reverse("hackathon:cancel_registration", args=[event.slug])).content.decode()
    )
    response = client.post(reverse("hackathon:cancel_registration", args=[event.slug]), follow=True)
    assert "Your registration is cancelled" in response.content.decode()
    assert Registration.objects.get(pk=holder.pk).status == "cancelled"
    assert Registration.objects.get(pk=first.pk).status == "offered"


def test_cancelling_a_waiting_registration_promotes_nobody():
    _event, _holder, (first, second) = full_event_with_queue()
    services.cancel_registration(registration=first)
    second.refresh_from_db()
    assert second.status == "waiting"


def test_a_waiting_person_sees_their_place_on_the_list(client):
    event, _holder, (_first, second) = full_event_with_queue()
    client.force_login(second.user)
    page = client.get(event.get_absolute_url()).content.decode()
    assert "you are number <strong>2</strong> on the waiting list" in page


def test_the_organizer_sees_the_positions_and_offers_a_place_by_hand(client, django_capture_on_commit_callbacks):
    event, _holder, (first, second) = full_event_with_queue()
    client.force_login(make_organizer(event))
    page = client.get(reverse("hackathon:registrations", args=[event.slug])).content.decode()
    assert "On the waiting list, number 1" in page and "On the waiting list, number 2" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("hackathon:decide_registration", args=[event.slug, second.pk]), {"decision": "offer"}, follow=True
        )
    assert "is offered a place and was emailed; 2 of 1 places" in response.content.decode()
    assert Registration.objects.get(pk=second.pk).status == "offered"
    assert Registration.objects.get(pk=first.pk).waiting_position() == 1
    assert [m.to for m in mail.outbox] == [[second.user.email]]


def test_only_a_waiting_registration_can_be_offered_a_place(client):
    event, holder, _ = full_event_with_queue()
    with pytest.raises(RegistrationRefused, match="Only people on the waiting list"):
        services.offer_place_by_hand(registration=holder)


def test_an_unknown_decision_changes_nothing(client):
    event, _holder, (first, _) = full_event_with_queue()
    client.force_login(make_organizer(event))
    response = client.post(
        reverse("hackathon:decide_registration", args=[event.slug, first.pk]), {"decision": "x"}, follow=True
    )
    assert "Choose Approve, Reject or Offer a place" in response.content.decode()
    assert Registration.objects.get(pk=first.pk).status == "waiting"
