"""Every action that cannot be undone goes through a page that says what will happen, then a form that does it."""

from __future__ import annotations

import html
import re
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from grading.models import AuditEntry, BoardSettings, Submission
from hackathon.models import Group, Registration
from tests.builders.events import make_event, open_exercise
from tests.builders.people import make_organizer, make_participant, make_tutor, make_user, person
from tests.builders.submissions import scored

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def click_through(client: Client, url: str, says: list[str], fields: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """Open the confirmation page, check it says what will happen, then press its one POST form's button."""
    page = client.get(url)
    assert page.status_code == 200
    text = html.unescape(page.content.decode())
    for sentence in says:
        assert sentence in text, f"the confirmation page does not say {sentence!r}"
    assert "<script>" not in text and "onclick" not in text, "the content policy forbids inline script"
    forms = re.findall(r'<form method="post"(?: action="([^"]*)")?[^>]*>(.*?)</form>', text, re.S)
    posting = [(action, body) for action, body in forms if 'type="submit"' in body and "Sign out" not in body]
    assert len(posting) == 1, "one form confirms the action"
    action, _ = posting[0]
    return client.post(action or url, fields or {}, follow=True)


def test_cancelling_a_registration_says_the_place_passes_on_and_only_the_confirmation_cancels(client):
    event = make_event(capacity=1)
    person_in = make_participant(event)
    waiting = make_participant(event, status=Registration.Status.WAITING)
    client.force_login(person_in)
    detail = client.get(event.get_absolute_url()).content.decode()
    assert reverse("hackathon:cancel_registration", args=[event.slug]) in detail
    response = click_through(
        client,
        reverse("hackathon:cancel_registration", args=[event.slug]),
        ["You give up your place", "first of the 1 people on the waiting list"],
    )
    assert "Your registration is cancelled" in response.content.decode()
    assert Registration.objects.get(event=event, user=person_in).status == Registration.Status.CANCELLED
    assert Registration.objects.get(event=event, user=waiting).status == Registration.Status.OFFERED


def test_opening_the_cancel_page_cancels_nothing(client):
    event = make_event()
    someone = make_participant(event)
    client.force_login(someone)
    client.get(reverse("hackathon:cancel_registration", args=[event.slug]))
    assert Registration.objects.get(event=event, user=someone).status == Registration.Status.CONFIRMED


def test_forming_the_groups_again_says_the_current_groups_and_hand_moves_are_replaced(client):
    event_exercise = open_exercise(make_event())
    event = event_exercise.event
    old = Group.objects.create(event=event, event_exercise=event_exercise, number=7)
    for _ in range(3):
        make_participant(event)
    make_tutor(event)
    client.force_login(make_organizer(event))
    client.get(reverse("hackathon:assign_groups", args=[event.slug]))
    assert Group.objects.filter(pk=old.pk).exists(), "the confirmation page alone changes nothing"
    response = click_through(
        client,
        reverse("hackathon:assign_groups", args=[event.slug]),
        ["The current group is deleted and replaced", "3 confirmed participants"],
    )
    assert "Formed " in response.content.decode()
    assert not Group.objects.filter(pk=old.pk).exists()
    assert Group.objects.filter(event=event).exists()


def test_revealing_the_private_board_says_it_cannot_be_hidden_again(client):
    event_exercise = open_exercise(make_event())
    event = event_exercise.event
    client.force_login(make_organizer(event))
    url = reverse("grading:reveal_board", args=[event.slug, event_exercise.exercise.slug])
    assert url in client.get(reverse("grading:organizer_boards", args=[event.slug])).content.decode()
    click_through(client, url, ["cannot be hidden again", "sees the private scores"])
    assert BoardSettings.objects.get(event_exercise=event_exercise).revealed_at is not None
    assert AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL).count() == 1


def test_disqualifying_goes_through_its_page_and_reason(client):
    event_exercise = open_exercise(make_event())
    event = event_exercise.event
    submission = scored(event_exercise, person(event, "Ada L"), 0.9, 0.8)
    client.force_login(make_organizer(event))
    click_through(
        client,
        reverse("grading:disqualify_submission", args=[submission.uid]),
        ["leaves every board and the final selection"],
        {"reason": "Trained on the test set."},
    )
    assert AuditEntry.objects.get(action=AuditEntry.Action.DISQUALIFY).reason == "Trained on the test set."


def test_rescoring_goes_through_its_page_saying_how_many_run_again(client, django_capture_on_commit_callbacks):
    event_exercise = open_exercise(make_event())
    event = event_exercise.event
    scored(event_exercise, person(event, "Ada L"), 0.9, 0.8)
    client.force_login(make_organizer(event))
    with mock.patch("grading.services.enqueue") as enqueue, django_capture_on_commit_callbacks(execute=True):
        click_through(
            client,
            reverse("grading:rescore_exercise", args=[event.slug, event_exercise.exercise.slug]),
            ["is run again in the sandbox", "Run 1 submission again"],
            {"reason": "Fixed the labels."},
        )
    assert enqueue.call_count == 1
    assert Submission.objects.get(event_exercise=event_exercise).status == Submission.Status.QUEUED


def test_a_stranger_cannot_open_the_groups_confirmation(client):
    event = make_event()
    client.force_login(make_user())
    assert client.get(reverse("hackathon:assign_groups", args=[event.slug])).status_code == 403
