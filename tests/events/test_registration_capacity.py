"""Registration gives places up to capacity, then a waiting list; bad attempts change nothing."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hackathon import services
from hackathon.errors import RegistrationRefused
from hackathon.models import Registration
from hackathon.services import RegistrationDetails
from tests.builders.events import make_event, open_exercise
from tests.builders.people import make_organizer, make_participant, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

DETAILS = RegistrationDetails(affiliation="pisa", career_stage="phd", ml_experience="basic")


def form_data(**extra: str) -> dict[str, str]:
    return {
        "first_name": "Ada",
        "last_name": "L",
        "affiliation": "pisa",
        "career_stage": "phd",
        "ml_experience": "basic",
        **extra,
    }


def test_a_registration_takes_a_place_and_keeps_the_answers_and_ranking(client):
    event = make_event()
    first, second = open_exercise(event), open_exercise(event)
    person = make_user()
    client.force_login(person)
    response = client.post(
        reverse("hackathon:register", args=[event.slug]),
        form_data(choice_1=str(second.pk), choice_2=str(first.pk)),
        follow=True,
    )
    assert "your place is confirmed" in response.content.decode()
    registration = Registration.objects.get(event=event, user=person)
    assert (registration.status, registration.affiliation, registration.career_stage) == ("confirmed", "pisa", "phd")
    assert [p.event_exercise_id for p in registration.preferences.order_by("rank")] == [second.pk, first.pk]


def test_the_registration_form_refuses_the_same_use_case_ranked_twice(client):
    event = make_event()
    use_case = open_exercise(event)
    open_exercise(event)
    client.force_login(make_user())
    response = client.post(
        reverse("hackathon:register", args=[event.slug]), form_data(choice_1=use_case.pk, choice_2=use_case.pk)
    )
    assert "at most once" in response.content.decode()
    assert not Registration.objects.filter(event=event).exists()


def test_other_affiliation_needs_the_institution_name(client):
    event = make_event()
    client.force_login(make_user())
    response = client.post(reverse("hackathon:register", args=[event.slug]), form_data(affiliation="other"))
    assert "Write the name of your institution" in response.content.decode()
    assert not Registration.objects.filter(event=event).exists()


def test_once_the_places_are_taken_newcomers_join_the_waiting_list():
    event = make_event(capacity=2)
    statuses = [services.register(event=event, user=make_user(), details=DETAILS).status for _ in range(3)]
    assert statuses == ["confirmed", "confirmed", "waiting"]


def test_an_event_with_no_waiting_list_refuses_when_full_and_changes_nothing(client):
    event = make_event(capacity=1, has_waiting_list=False)
    make_participant(event)
    client.force_login(make_user())
    response = client.post(reverse("hackathon:register", args=[event.slug]), form_data(), follow=True)
    assert "is full and keeps no waiting list" in response.content.decode()
    assert event.registrations.count() == 1


def test_registering_twice_is_refused_with_a_clear_message_and_nothing_changes(client):
    event = make_event()
    person = make_user()
    services.register(event=event, user=person, details=DETAILS)
    client.force_login(person)
    response = client.post(
        reverse("hackathon:register", args=[event.slug]), form_data(career_stage="staff"), follow=True
    )
    assert "already registered" in response.content.decode()
    registration = Registration.objects.get(event=event, user=person)
    assert registration.career_stage == "phd"


def test_registering_after_closing_is_refused_and_nothing_changes():
    now = timezone.now()
    event = make_event(
        registration_opens_at=now - dt.timedelta(days=10), registration_closes_at=now - dt.timedelta(hours=1)
    )
    with pytest.raises(RegistrationRefused, match="closed on"):
        services.register(event=event, user=make_user(), details=DETAILS)
    assert not event.registrations.exists()


def test_registering_before_opening_says_when_it_opens():
    now = timezone.now()
    event = make_event(
        registration_opens_at=now + dt.timedelta(days=1), registration_closes_at=now + dt.timedelta(days=5)
    )
    with pytest.raises(RegistrationRefused, match="opens on"):
        services.register(event=event, user=make_user(), details=DETAILS)


def test_a_person_who_cancelled_may_register_again_and_queues_anew():
    event = make_event(capacity=1)
    person = make_user()
    registration = services.register(event=event, user=person, details=DETAILS)
    services.cancel_registration(registration=registration)
    again = services.register(event=event, user=person, details=DETAILS)
    assert again.pk == registration.pk and again.status == "confirmed"


def test_with_approval_a_registration_waits_for_the_organizer_and_holds_its_place():
    event = make_event(capacity=1, needs_approval=True)
    first = services.register(event=event, user=make_user(), details=DETAILS)
    second = services.register(event=event, user=make_user(), details=DETAILS)
    assert (first.status, second.status) == ("pending", "waiting")
    services.decide_registration(registration=first, approve=False)
    second.refresh_from_db()
    assert second.status == "offered"


def test_an_organizer_approves_a_pending_registration_from_the_list(client):
    event = make_event(needs_approval=True)
    from tests.builders.people import make_organizer

    organizer = make_organizer(event)
    registration = services.register(event=event, user=make_user(), details=DETAILS)
    client.force_login(organizer)
    response = client.post(
        reverse("hackathon:decide_registration", args=[event.slug, registration.pk]),
        {"decision": "approve"},
        follow=True,
    )
    assert "is approved" in response.content.decode()
    registration.refresh_from_db()
    assert registration.status == "confirmed"


def test_a_registration_of_another_event_is_not_found_through_this_one(client):
    event, other = make_event(), make_event()
    from tests.builders.people import make_organizer

    organizer = make_organizer(event)
    registration = services.register(event=other, user=make_user(), details=DETAILS)
    client.force_login(organizer)
    response = client.post(
        reverse("hackathon:decide_registration", args=[event.slug, registration.pk]), {"decision": "approve"}
    )
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_concurrent_requests_for_the_last_place_confirm_one_and_waiting_list_the_rest():
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL for real row locks; this run uses {connection.vendor}")
    event = make_event(capacity=1)
    people = [make_user() for _ in range(6)]
    barrier = threading.Barrier(len(people))
    codes: list[int] = []

    def request_a_place(person) -> None:  # type: ignore[no-untyped-def]
        client = Client()
        client.force_login(person)
        barrier.wait()
        try:
            codes.append(client.post(reverse("hackathon:register", args=[event.slug]), form_data()).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request_a_place, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert codes == [302] * len(people)
    statuses = sorted(event.registrations.values_list("status", flat=True))
    assert statuses == ["confirmed"] + ["waiting"] * (len(people) - 1)


def test_registering_asks_the_names_and_keeps_them_for_the_organizers(client):
    event = make_event()
    person = make_user()
    client.force_login(person)
    client.post(reverse("hackathon:register", args=[event.slug]), form_data(first_name="Lucia", last_name="Verdi"))
    person.refresh_from_db()
    assert person.get_full_name() == "Lucia Verdi"
    client.force_login(make_organizer(event))
    assert "Lucia Verdi" in client.get(reverse("hackathon:registrations", args=[event.slug])).content.decode()
