"""Each tutor sees only their groups; each participant sees their group, its tutor and its members."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hackathon import permissions, services
from hackathon.models import Group, Registration
from tests.builders.events import make_event, open_exercise
from tests.builders.people import make_participant, make_tutor, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def two_groups():  # type: ignore[no-untyped-def]
    event = make_event(participants_per_tutor=5, group_size=3)
    use_case = open_exercise(event)
    people = [make_participant(event) for _ in range(6)]
    tutors = [make_tutor(event) for _ in range(2)]
    services.assign_groups(event=event)
    assert event.groups.count() == 2 and use_case
    return event, people, tutors


def test_a_tutor_sees_only_the_groups_they_tutor(client):
    event, _people, (tutor, _other_tutor) = two_groups()
    mine = Group.objects.get(event=event, tutors=tutor)
    theirs = event.groups.exclude(pk=mine.pk).get()
    client.force_login(tutor)
    page = client.get(reverse("hackathon:my_groups", args=[event.slug])).content.decode()
    assert f"Group {mine.number}" in page and f"Group {theirs.number}" not in page
    assert client.get(reverse("hackathon:group_detail", args=[event.slug, mine.number])).status_code == 200
    assert client.get(reverse("hackathon:group_detail", args=[event.slug, theirs.number])).status_code == 404
    assert permissions.is_tutor_of_group(tutor, mine) and not permissions.is_tutor_of_group(tutor, theirs)


def test_a_participant_sees_their_group_its_tutor_and_members_but_no_other_group(client):
    event, people, _tutors = two_groups()
    person = people[0]
    mine = Registration.objects.get(event=event, user=person).group
    theirs = event.groups.exclude(pk=mine.pk).get()
    client.force_login(person)
    page = client.get(reverse("hackathon:my_groups", args=[event.slug])).content.decode()
    assert mine.tutors.get().email in page
    for member in mine.members.all():
        assert member.user.email in page
    for stranger in theirs.members.all():
        assert stranger.user.email not in page
    assert client.get(reverse("hackathon:group_detail", args=[event.slug, theirs.number])).status_code == 404


def test_a_group_number_of_another_event_is_not_found(client):
    event, people, _tutors = two_groups()
    other = make_event()
    client.force_login(people[0])
    assert client.get(reverse("hackathon:group_detail", args=[other.slug, 1])).status_code == 404


def test_someone_outside_the_event_has_no_groups_page(client):
    event, _people, _tutors = two_groups()
    client.force_login(make_user())
    assert client.get(reverse("hackathon:my_groups", args=[event.slug])).status_code == 403


def test_a_tutor_declares_expertise_and_days_from_the_tutoring_page(client):
    from exercises.models import Label

    event = make_event()
    tutor = make_tutor(event)
    label = Label.objects.create(dimension="technology", name="CNN")
    client.force_login(tutor)
    response = client.post(
        reverse("hackathon:tutoring", args=[event.slug]),
        {"expertise": [label.pk], "available_days": [event.starts_on.isoformat()], "max_groups": "2"},
        follow=True,
    )
    assert "Your expertise and availability are saved." in response.content.decode()
    profile = tutor.tutor_profiles.get(event=event)
    assert (list(profile.expertise.all()), profile.available_days, profile.max_groups) == (
        [label],
        [event.starts_on.isoformat()],
        2,
    )


def test_a_participant_cannot_open_the_tutoring_page(client):
    event = make_event()
    client.force_login(make_participant(event))
    assert client.get(reverse("hackathon:tutoring", args=[event.slug])).status_code == 403
