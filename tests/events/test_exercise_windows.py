"""Each exercise of an event has its own window, edited on the event's page; detaching never loses work silently."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from grading.models import Submission
from hackathon import services
from hackathon.models import Event, EventExercise, Group, Registration
from tests.api.conftest import client_of
from tests.builders.events import make_event, open_event_exercise
from tests.builders.exercises import make_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import make_organizer, make_participant, make_user
from tests.events.test_event_pages import event_fields

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def edit_data(event, *, exercises=(), windows=(), **extra) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The event page's form as the browser sends it, unchanged unless told otherwise."""
    data = {
        "title": event.title,
        "slug": event.slug,
        "level": event.level,
        "mode": event.mode,
        "venue": event.venue,
        "starts_on": event.starts_on.isoformat(),
        "ends_on": event.ends_on.isoformat(),
        "registration_opens_at": timezone.localtime(event.registration_opens_at).strftime("%Y-%m-%dT%H:%M"),
        "registration_closes_at": timezone.localtime(event.registration_closes_at).strftime("%Y-%m-%dT%H:%M"),
        "capacity": str(event.capacity),
        "participants_per_tutor": str(event.participants_per_tutor),
        "group_size": str(event.group_size),
        "compute": event.compute,
        "published": "on",
        "exercises": [str(e.pk) for e in exercises],
        "sessions-TOTAL_FORMS": "0",
        "sessions-INITIAL_FORMS": "0",
        "windows-TOTAL_FORMS": str(len(windows)),
        "windows-INITIAL_FORMS": str(len(windows)),
    }
    for i, (ee, opens, closes) in enumerate(windows):
        data[f"windows-{i}-id"] = str(ee.pk)
        data[f"windows-{i}-event"] = str(event.pk)
        data[f"windows-{i}-opens_at"] = opens
        data[f"windows-{i}-closes_at"] = closes
    data.update(extra)
    return data


def local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _notebook() -> SimpleUploadedFile:
    return SimpleUploadedFile("mine.ipynb", notebook_bytes(CONSTANT_SCORES))


def test_an_exercise_not_yet_open_says_when_it_opens_on_its_page_in_the_api_and_when_refused(client):
    opens = timezone.now() + dt.timedelta(days=2)
    ee = open_event_exercise(opens_at=opens, closes_at=opens + dt.timedelta(days=3))
    person = make_participant(ee.event)
    when = f"{timezone.localtime(opens):%d %b %Y at %H:%M}"
    client.force_login(person)
    page = client.get(reverse("grading:event_exercise", args=[ee.event.slug, ee.exercise.slug])).content.decode()
    assert f"Opens on {when}" in page
    assert "closed" not in page.lower()
    response = client.post(
        reverse("grading:submit", args=[ee.event.slug, ee.exercise.slug]), {"notebook": _notebook()}, follow=True
    )
    assert f"it opens on {when}" in response.content.decode()
    api = client_of(person)
    listed = api.get(f"/api/v1/events/{ee.event.slug}/exercises/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["window"] for row in rows] == [f"Opens on {when}"]
    refused = api.post(
        "/api/v1/submissions/", {"exercise": ee.exercise.slug, "event": ee.event.slug, "notebook": _notebook()}
    )
    assert refused.status_code == 400
    assert f"it opens on {when}" in refused.json()["detail"]
    assert not Submission.objects.exists()


def test_a_closed_exercise_says_when_it_closed(client):
    closes = timezone.now() - dt.timedelta(hours=3)
    ee = open_event_exercise(opens_at=closes - dt.timedelta(days=2), closes_at=closes)
    person = make_participant(ee.event)
    client.force_login(person)
    page = client.get(reverse("grading:event_exercise", args=[ee.event.slug, ee.exercise.slug])).content.decode()
    assert f"Closed on {timezone.localtime(closes):%d %b %Y at %H:%M}" in page
    detail = client_of(person).get(f"/api/v1/events/{ee.event.slug}/exercises/{ee.exercise.slug}/").json()
    assert detail["window"].startswith("Closed on ") and detail["is_open"] is False


def test_the_organizer_moves_an_exercise_window_to_now_on_the_event_page(client):
    event = make_event()
    exercise = make_exercise()
    client.force_login(make_organizer(event))
    client.post(reverse("hackathon:event_edit", args=[event.slug]), edit_data(event, exercises=[exercise]))
    ee = EventExercise.objects.get(event=event)
    assert (ee.opens_at, ee.closes_at) == services.default_exercise_window(event), "attached with the event's dates"
    page = client.get(reverse("hackathon:event_edit", args=[event.slug])).content.decode()
    assert "Exercise windows" in page and ee.exercise.title in page
    now = timezone.now()
    opens, closes = local(now - dt.timedelta(minutes=5)), local(now + dt.timedelta(days=1))
    response = client.post(
        reverse("hackathon:event_edit", args=[event.slug]),
        edit_data(event, exercises=[exercise], windows=[(ee, opens, closes)]),
        follow=True,
    )
    assert "are saved" in response.content.decode()
    ee.refresh_from_db()
    assert ee.is_open()


def test_a_window_that_closes_before_it_opens_is_refused_with_the_field_named(client):
    event = make_event()
    ee = open_event_exercise(event=event, exercise=make_exercise())
    client.force_login(make_organizer(event))
    before = (ee.opens_at, ee.closes_at)
    response = client.post(
        reverse("hackathon:event_edit", args=[event.slug]),
        edit_data(event, exercises=[ee.exercise], windows=[(ee, "2030-01-02T10:00", "2030-01-01T10:00")]),
    )
    assert "An exercise must close after it opens." in response.content.decode()
    ee.refresh_from_db()
    assert (ee.opens_at, ee.closes_at) == before


def test_detaching_an_exercise_with_a_group_is_refused_saying_what_it_would_delete(client):
    event = make_event()
    ee = open_event_exercise(event=event, exercise=make_exercise())
    group = Group.objects.create(event=event, event_exercise=ee, number=1)
    member = make_participant(event)
    Registration.objects.filter(event=event, user=member).update(group=group)
    Submission.objects.create(event_exercise=ee, participant=member, notebook="x.ipynb")
    client.force_login(make_organizer(event))
    response = client.post(
        reverse("hackathon:event_edit", args=[event.slug]), edit_data(event, exercises=[], title="Renamed")
    )
    page = response.content.decode()
    assert "Nothing was saved" in page
    assert "1 submission and 1 group with 1 participant in them" in page
    assert Group.objects.filter(pk=group.pk).exists() and EventExercise.objects.filter(pk=ee.pk).exists()
    event.refresh_from_db()
    assert event.title != "Renamed", "the refusal rolls back the whole form"


def test_detaching_an_exercise_nobody_used_removes_it():
    event = make_event()
    ee = open_event_exercise(event=event, exercise=make_exercise())
    services.set_event_exercises(event=event, exercises=[])
    assert not EventExercise.objects.filter(pk=ee.pk).exists()


def test_moving_the_event_moves_default_windows_and_names_the_windows_it_kept(client):
    event = make_event()
    follows, own = make_exercise(), make_exercise()
    services.set_event_exercises(event=event, exercises=[follows])
    custom = open_event_exercise(event=event, exercise=own)
    client.force_login(make_organizer(event))
    later = event.starts_on + dt.timedelta(days=14)
    response = client.post(
        reverse("hackathon:event_edit", args=[event.slug]),
        edit_data(
            event,
            exercises=[follows, own],
            starts_on=later.isoformat(),
            ends_on=(later + dt.timedelta(days=2)).isoformat(),
        ),
        follow=True,
    )
    page = response.content.decode()
    event.refresh_from_db()
    moved = EventExercise.objects.get(event=event, exercise=follows)
    assert (moved.opens_at, moved.closes_at) == services.default_exercise_window(event)
    assert f"{follows.title} moved with the event" in page
    assert f"{own.title} kept its own window" in page
    kept = EventExercise.objects.get(pk=custom.pk)
    assert (kept.opens_at, kept.closes_at) == (custom.opens_at, custom.closes_at)


def test_a_new_event_derives_its_address_from_its_title(client):
    client.force_login(make_user(staff=True))
    make_event(slug="advanced-hackathon-bari")
    client.post(reverse("hackathon:event_create"), event_fields(slug="", title="Advanced hackathon, Bari"))
    assert Event.objects.filter(slug="advanced-hackathon-bari-2", title="Advanced hackathon, Bari").exists()
