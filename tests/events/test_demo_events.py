"""The demo events come with a programme, registration details, tutors' expertise and groups."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from hackathon import demo
from hackathon.models import Event, Group, Registration, TutorProfile

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def test_the_demo_events_have_a_timetable_of_sessions_over_their_days():
    call_command("load_demo", stdout=StringIO())
    base = Event.objects.get(slug="base-online")
    kinds = set(base.sessions.values_list("kind", flat=True))
    assert kinds == {"lecture", "hands_on", "seminar", "hackathon"}
    days = {base.starts_on + dt.timedelta(days=n) for n in range((base.ends_on - base.starts_on).days + 1)}
    assert {s.day for s in base.sessions.all()} <= days
    assert len({s.day for s in base.sessions.all()}) == 3


def test_demo_participants_have_their_answers_and_groups_have_tutors():
    call_command("load_demo", stdout=StringIO())
    base = Event.objects.get(slug="base-online")
    registrations = Registration.objects.filter(event=base)
    assert registrations.count() == len(demo.PARTICIPANTS)
    assert all(r.career_stage and r.ml_experience and r.preferences.exists() for r in registrations)
    assert TutorProfile.objects.filter(event=base).count() == len(demo.TUTORS)
    groups = Group.objects.filter(event=base)
    if not base.event_exercises.exists():
        pytest.skip("the built-in exercises could not be loaded, so the demo formed no groups")
    assert groups.exists()
    assert all(g.tutors.exists() for g in groups)
    assert not registrations.filter(group=None).exists()
