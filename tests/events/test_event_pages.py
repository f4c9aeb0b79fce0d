"""Organizers create and edit events with a programme shown as a timetable; every page has a title and heading."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from hackathon import services
from hackathon.models import Event, EventRole, Session
from tests.builders.events import make_event
from tests.builders.exercises import make_exercise
from tests.builders.people import make_organizer, make_participant, make_tutor, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def event_fields(**extra: str) -> dict[str, str]:
    today = timezone.localdate()
    return {
        "title": "Advanced hackathon, Bari",
        "slug": "advanced-bari",
        "level": "advanced",
        "mode": "in_person",
        "venue": "INFN Sezione di Bari",
        "starts_on": (today + dt.timedelta(days=40)).isoformat(),
        "ends_on": (today + dt.timedelta(days=43)).isoformat(),
        "registration_opens_at": f"{today}T09:00",
        "registration_closes_at": f"{today + dt.timedelta(days=30)}T18:00",
        "compute": "gpu",
        "has_waiting_list": "on",
        "published": "on",
        **extra,
    }


def test_staff_create_an_event_whose_capacity_and_ratio_default_by_level(client):
    staff = make_user(staff=True)
    exercise = make_exercise()
    client.force_login(staff)
    response = client.post(reverse("hackathon:event_create"), event_fields(exercises=[exercise.pk]), follow=True)
    assert response.status_code == 200
    event = Event.objects.get(slug="advanced-bari")
    assert (event.capacity, event.participants_per_tutor, event.group_size) == (30, 1, 3)
    assert EventRole.objects.filter(event=event, user=staff, role="organizer").exists()
    assert list(event.event_exercises.values_list("exercise_id", flat=True)) == [exercise.pk]


def test_an_in_person_event_without_a_venue_is_refused_with_the_field_named(client):
    client.force_login(make_user(staff=True))
    response = client.post(reverse("hackathon:event_create"), event_fields(venue=""))
    assert "An in-person event needs a venue." in response.content.decode()
    assert not Event.objects.filter(slug="advanced-bari").exists()


def test_the_organizer_names_the_events_jupyterhub_and_a_bad_address_is_refused_with_the_field_named(client):
    client.force_login(make_user(staff=True))
    response = client.post(reverse("hackathon:event_create"), event_fields(jupyterhub_url="the hub of Bari"))
    assert "Enter a valid URL." in response.content.decode()
    assert not Event.objects.filter(slug="advanced-bari").exists()
    client.post(reverse("hackathon:event_create"), event_fields(jupyterhub_url="https://hub.example.org"))
    assert Event.objects.get(slug="advanced-bari").jupyterhub_url == "https://hub.example.org"


def test_only_staff_create_events(client):
    client.force_login(make_user())
    assert client.get(reverse("hackathon:event_create")).status_code == 403


def test_the_organizer_adds_sessions_and_the_event_page_shows_them_as_a_timetable(client):
    event = make_event()
    client.force_login(make_organizer(event))
    data = {
        **{k: v for k, v in event_fields(slug=event.slug, level="base", mode="online", venue="").items()},
        "starts_on": event.starts_on.isoformat(),
        "ends_on": event.ends_on.isoformat(),
        "capacity": "60",
        "participants_per_tutor": "5",
        "sessions-TOTAL_FORMS": "3",
        "sessions-INITIAL_FORMS": "0",
        "windows-TOTAL_FORMS": "0",
        "windows-INITIAL_FORMS": "0",
        "sessions-0-day": event.starts_on.isoformat(),
        "sessions-0-starts_at": "14:00",
        "sessions-0-ends_at": "15:30",
        "sessions-0-kind": "lecture",
        "sessions-0-title": "Theoretical introduction to ML",
        "sessions-0-speaker": "A. Lecturer",
        "sessions-1-day": (event.starts_on + dt.timedelta(days=1)).isoformat(),
        "sessions-1-starts_at": "09:00",
        "sessions-1-ends_at": "13:00",
        "sessions-1-kind": "hackathon",
        "sessions-1-title": "Exercises with tutors",
    }
    response = client.post(reverse("hackathon:event_edit", args=[event.slug]), data, follow=True)
    page = response.content.decode()
    assert "The event, its exercises and its programme are saved." in page
    assert Session.objects.filter(event=event).count() == 2
    assert re.search(r"Day 1:.*Theoretical introduction to ML.*Day 2:.*Exercises with tutors", page, re.S)
    assert "14:00–15:30" in page


def test_a_session_outside_the_event_days_is_refused(client):
    event = make_event()
    with pytest.raises(Exception, match="outside the event"):
        services.add_session(
            event=event,
            day=event.ends_on + dt.timedelta(days=3),
            starts_at=dt.time(9),
            ends_at=dt.time(10),
            kind="lecture",
            title="Too late",
        )
    assert not event.sessions.exists()


def test_a_participant_cannot_edit_the_event(client):
    event = make_event()
    client.force_login(make_participant(event))
    assert client.get(reverse("hackathon:event_edit", args=[event.slug])).status_code == 403


def test_an_unpublished_event_is_not_found_for_strangers(client):
    event = make_event(published=False)
    client.force_login(make_user())
    assert client.get(reverse("hackathon:register", args=[event.slug])).status_code == 404


@pytest.mark.parametrize(
    "page",
    ["event_detail", "event_edit", "register", "registrations", "import_registrations", "groups", "report", "tutoring"],
)
def test_every_page_has_a_title_a_heading_and_labelled_fields(client, page):
    event = make_event()
    person = make_user(staff=True)
    make_organizer(event, person)
    if page == "tutoring":
        person = make_tutor(event)
    if page == "register":
        person = make_user()
    client.force_login(person)
    html = client.get(reverse(f"hackathon:{page}", args=[event.slug])).content.decode()
    assert re.search(r"<title>\s*\S.*· ML_INFN hackathons</title>", html)
    assert re.search(r"<h1[^>]*>\s*\S", html)
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", html):
        field_id = re.search(r'\bid="([^"]+)"', tag)
        if 'type="hidden"' in tag or field_id is None:
            continue
        field_id = field_id.group(1)
        assert f'for="{field_id}"' in html, f"field {field_id} on {page} has no label"


def test_the_event_form_puts_checkbox_labels_beside_and_the_programme_in_one_row_per_session(client):
    event = make_event()
    for day in range(3):
        services.add_session(
            event=event,
            day=event.starts_on + dt.timedelta(days=day % 2),
            starts_at=dt.time(9 + day),
            ends_at=dt.time(10 + day),
            kind="lecture",
            title=f"Lecture {day}",
        )
    client.force_login(make_organizer(event))
    html = client.get(reverse("hackathon:event_edit", args=[event.slug])).content.decode()
    assert re.search(r'<label for="id_published">\s*<input type="checkbox"', html)
    programme = html.split('id="programme-heading"', 1)[1].split("</table>", 1)[0]
    assert programme.count("<tr>") == 1 + 3 + 3, "a header row, the three sessions and three empty rows"


def test_the_event_page_shows_every_field_it_saves_so_saving_it_wipes_nothing(client):
    # A field the form saves but the page leaves out is posted empty on each save: the hub's address was lost so.
    from hackathon.forms import EventForm

    make_exercise()  # the exercises' checkboxes exist only when there is an exercise to tick
    event = make_event(jupyterhub_url="https://hub.example.org")
    client.force_login(make_user(staff=True))
    page = client.get(reverse("hackathon:event_edit", args=[event.slug])).content.decode()
    missing = [name for name in EventForm(instance=event).fields if f'name="{name}"' not in page]
    assert missing == []
    assert 'value="https://hub.example.org"' in page


def test_the_event_form_spells_gpu_in_capitals_in_its_labels(client):
    client.force_login(make_user(staff=True))
    page = client.get(reverse("hackathon:event_create")).content.decode()
    assert ">GPU-seconds per day<" in page and ">GPU budget per<" in page
    assert "Gpu " not in page
