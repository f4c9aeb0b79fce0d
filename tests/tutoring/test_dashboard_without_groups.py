"""Before the groups are formed, the tutor's dashboard tells an organizer to form them, and a tutor to wait."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.builders.events import make_event
from tests.builders.people import make_organizer, make_tutor

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("address", ["grading:tutor_dashboard", "grading:tutor_dashboard_groups"])
def test_an_organizer_of_an_event_without_groups_is_sent_to_form_them(client, address):
    event = make_event()
    client.force_login(make_organizer(event))
    page = " ".join(client.get(reverse(address, args=[event.slug])).content.decode().split())
    groups = reverse("hackathon:groups", args=[event.slug])
    assert f'The event has no groups yet: <a href="{groups}">form them</a>' in page
    assert "You follow no group" not in page


def test_a_tutor_without_a_group_reads_that_the_organizers_assign_them(client):
    event = make_event()
    client.force_login(make_tutor(event))
    page = client.get(reverse("grading:tutor_dashboard", args=[event.slug])).content.decode()
    assert "You follow no group in this event yet. The organizers assign tutors to groups." in page
