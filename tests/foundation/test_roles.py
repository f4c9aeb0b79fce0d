"""Roles are per event: the same person may organize one event, tutor another and take part in a third."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from hackathon import permissions
from hackathon.models import Registration
from hackathon.permissions import Role
from tests.builders.events import make_event
from tests.builders.people import make_organizer, make_participant, make_tutor, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def test_one_person_holds_a_different_role_in_each_event():
    person = make_user()
    first, second, third = make_event(), make_event(), make_event()
    make_organizer(first, person)
    make_tutor(second, person)
    make_participant(third, person)
    assert permissions.roles_in(person, first) == {Role.ORGANIZER}
    assert permissions.roles_in(person, second) == {Role.TUTOR}
    assert permissions.roles_in(person, third) == {Role.PARTICIPANT}
    assert permissions.can_manage_event(person, first) and not permissions.can_manage_event(person, second)
    assert permissions.can_tutor_event(person, second) and not permissions.can_tutor_event(person, third)
    assert permissions.can_take_part(person, third) and not permissions.can_take_part(person, first)


@pytest.mark.parametrize(
    ("who", "manage", "tutor", "take_part"),
    [
        ("anonymous", False, False, False),
        ("stranger", False, False, False),
        ("waiting", False, False, False),
        ("participant", False, False, True),
        ("tutor", False, True, False),
        ("organizer", True, False, False),
        ("staff", True, True, False),
    ],
)
def test_each_role_may_do_exactly_its_own_things(who, manage, tutor, take_part):
    event = make_event()
    people = {
        "anonymous": AnonymousUser(),
        "stranger": make_user(),
        "waiting": make_participant(event, status=Registration.Status.WAITING),
        "participant": make_participant(event),
        "tutor": make_tutor(event),
        "organizer": make_organizer(event),
        "staff": make_user(staff=True),
    }
    person = people[who]
    assert permissions.can_manage_event(person, event) is manage
    assert permissions.can_tutor_event(person, event) is tutor
    assert permissions.can_take_part(person, event) is take_part


def test_an_unpublished_event_is_seen_only_by_its_organizers_and_staff():
    event = make_event(published=False)
    organizer = make_organizer(event)
    assert permissions.can_view_event(organizer, event)
    assert permissions.can_view_event(make_user(staff=True), event)
    assert not permissions.can_view_event(make_user(), event)
    assert not permissions.can_view_event(AnonymousUser(), event)


def test_a_deactivated_staff_member_loses_staff_powers():
    event = make_event()
    staff = make_user(staff=True)
    staff.is_active = False
    assert not permissions.can_manage_event(staff, event)
