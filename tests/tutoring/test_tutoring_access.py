"""Each role reaches its own tutoring pages and nothing of anyone else's: a tutor sees only their groups."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grading.models import HelpRequest
from tests.builders.submissions import submission

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def test_a_tutor_sees_the_members_of_their_own_group_and_not_of_another(client, setting):
    client.force_login(setting.tutor)
    page = client.get(reverse("grading:tutor_dashboard", args=[setting.event.slug]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "ada@example.org" in body and "bob@example.org" in body
    assert "cy@example.org" not in body
    assert "Group 2" not in body


def test_a_tutor_opens_any_submission_of_their_group_and_no_other(client, setting):
    own_group = submission(setting.event_exercise, setting.ada, score=0.8)
    other_group = submission(setting.event_exercise, setting.cy, score=0.7)
    ungrouped = submission(setting.event_exercise, setting.dee, score=0.6)
    client.force_login(setting.tutor)
    assert client.get(own_group.get_absolute_url()).status_code == 200
    assert client.get(reverse("grading:submission_status", args=[own_group.uid])).status_code == 200
    assert client.get(other_group.get_absolute_url()).status_code == 404
    assert client.get(ungrouped.get_absolute_url()).status_code == 404


def test_the_dashboard_links_a_tutor_to_their_members_submissions_only(client, setting):
    own_group = submission(setting.event_exercise, setting.ada, score=0.8)
    other_group = submission(setting.event_exercise, setting.cy, score=0.7)
    client.force_login(setting.tutor)
    body = client.get(reverse("grading:tutor_dashboard_groups", args=[setting.event.slug])).content.decode()
    assert own_group.get_absolute_url() in body
    assert other_group.get_absolute_url() not in body


def test_an_organizer_sees_every_group_on_the_dashboard(client, setting):
    client.force_login(setting.organizer)
    body = client.get(reverse("grading:tutor_dashboard", args=[setting.event.slug])).content.decode()
    assert "ada@example.org" in body and "cy@example.org" in body
    assert reverse("grading:event_help_requests", args=[setting.event.slug]) in body


@pytest.mark.parametrize("who", ["ada", "stranger"])
def test_participants_and_strangers_have_no_tutor_dashboard(client, setting, who):
    client.force_login(getattr(setting, who))
    assert client.get(reverse("grading:tutor_dashboard", args=[setting.event.slug])).status_code == 404
    assert client.get(reverse("grading:tutor_dashboard_groups", args=[setting.event.slug])).status_code == 404
    assert client.get(reverse("grading:tutor_help_queue", args=[setting.event.slug])).status_code == 404


@pytest.mark.parametrize("who", ["tutor", "ada", "stranger"])
def test_only_organizers_see_the_help_requests_of_the_whole_event(client, setting, who):
    client.force_login(getattr(setting, who))
    assert client.get(reverse("grading:event_help_requests", args=[setting.event.slug])).status_code == 404
    client.force_login(setting.organizer)
    assert client.get(reverse("grading:event_help_requests", args=[setting.event.slug])).status_code == 200


@pytest.mark.parametrize("who", ["tutor", "organizer", "stranger"])
def test_only_participants_have_a_my_event_page(client, setting, who):
    client.force_login(getattr(setting, who))
    assert client.get(reverse("grading:my_event", args=[setting.event.slug])).status_code == 404
    client.force_login(setting.ada)
    assert client.get(reverse("grading:my_event", args=[setting.event.slug])).status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client, setting):
    for name in ("my_event", "tutor_dashboard", "event_help_requests"):
        response = client.get(reverse(f"grading:{name}", args=[setting.event.slug]))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_help_request_is_read_only_by_its_participant_their_tutors_and_organizers(client, setting):
    request = HelpRequest.objects.create(
        event=setting.event, participant=setting.ada, group=setting.group, message="My loss is NaN after epoch 2."
    )
    url = reverse("grading:help_request", args=[setting.event.slug, request.pk])
    expected = {"ada": 200, "tutor": 200, "organizer": 200, "bob": 404, "other_tutor": 404, "stranger": 404}
    for who, status in expected.items():
        client.force_login(getattr(setting, who))
        assert client.get(url).status_code == status, who


def test_the_event_page_points_participants_and_tutors_to_their_pages(client, setting):
    client.force_login(setting.ada)
    body = client.get(setting.event.get_absolute_url()).content.decode()
    assert reverse("grading:my_event", args=[setting.event.slug]) in body
    assert reverse("grading:tutor_dashboard", args=[setting.event.slug]) not in body
    client.force_login(setting.tutor)
    body = client.get(setting.event.get_absolute_url()).content.decode()
    assert reverse("grading:tutor_dashboard", args=[setting.event.slug]) in body
    assert reverse("grading:my_event", args=[setting.event.slug]) not in body
