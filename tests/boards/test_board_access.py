"""The boards' one-query access check gives the same answer as the event's visibility and board_audience()."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from grading.boards.ranking import Audience
from grading.boards.selectors import get_board_access
from grading.permissions import board_audience
from hackathon.models import Registration
from hackathon.selectors import get_visible_event
from tests.builders.events import open_event_exercise
from tests.builders.exercises import make_exercise
from tests.builders.people import make_organizer, make_participant, make_tutor, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def _people(event):  # type: ignore[no-untyped-def]
    """One person of each kind the boards distinguish, some holding two roles."""
    organizer_and_tutor = make_organizer(event)
    make_tutor(event, organizer_and_tutor)
    tutor_and_participant = make_tutor(event)
    make_participant(event, tutor_and_participant)
    inactive_staff, inactive_participant = make_user(staff=True), make_participant(event)
    for user in (inactive_staff, inactive_participant):
        user.is_active = False
        user.save(update_fields=["is_active"])
    return {
        "inactive staff": inactive_staff,
        "inactive participant": inactive_participant,
        "organizer": make_organizer(event),
        "tutor": make_tutor(event),
        "participant": make_participant(event),
        "pending": make_participant(event, status=Registration.Status.PENDING),
        "waiting": make_participant(event, status=Registration.Status.WAITING),
        "staff": make_user(staff=True),
        "outsider": make_user(),
        "anonymous": AnonymousUser(),
        "organizer and tutor": organizer_and_tutor,
        "tutor and participant": tutor_and_participant,
    }


def _rule(user, event_exercise):  # type: ignore[no-untyped-def]
    """The general rule, asked the slow way: may the person see the event, then how do they read its boards."""
    try:
        event = get_visible_event(user, event_exercise.event.slug)
    except Http404:
        return None
    return board_audience(user, event)


def _fast(user, slug, exercise_slug):  # type: ignore[no-untyped-def]
    try:
        return get_board_access(user, slug, exercise_slug)[1]
    except Http404:
        return None


@pytest.mark.parametrize("published", [True, False])
def test_every_kind_of_person_gets_the_same_answer_as_the_general_rule(published):  # type: ignore[no-untyped-def]
    event_exercise = open_event_exercise()
    event_exercise.event.published = published
    event_exercise.event.save(update_fields=["published"])
    answers = {}
    for kind, user in _people(event_exercise.event).items():
        fast = _fast(user, event_exercise.event.slug, event_exercise.exercise.slug)
        assert fast == _rule(user, event_exercise), kind
        answers[kind] = fast
    if published:
        assert answers["participant"] is Audience.PARTICIPANT and answers["tutor"] is Audience.PARTICIPANT
        assert answers["organizer"] is Audience.ORGANIZER and answers["staff"] is Audience.ORGANIZER
        assert answers["pending"] is answers["waiting"] is answers["outsider"] is answers["anonymous"] is None
        assert answers["inactive staff"] is None  # staff powers need an active account
    else:  # an unpublished event's boards are its organizers' alone
        assert {kind for kind, audience in answers.items() if audience} == {"organizer", "staff", "organizer and tutor"}


def test_another_events_people_and_unknown_exercises_get_404():  # type: ignore[no-untyped-def]
    event_exercise, elsewhere = open_event_exercise(), open_event_exercise(make_exercise())
    slug, exercise_slug = event_exercise.event.slug, event_exercise.exercise.slug
    stranger = make_organizer(elsewhere.event)
    assert _fast(stranger, slug, exercise_slug) is None
    participant = make_participant(event_exercise.event)
    assert _fast(participant, slug, "no-such-exercise") is None
    assert _fast(participant, "no-such-event", exercise_slug) is None
    # An exercise of another event, asked under this event's slug, is not found either.
    assert _fast(participant, slug, elsewhere.exercise.slug) is None
    assert _fast(make_participant(elsewhere.event), elsewhere.event.slug, elsewhere.exercise.slug) is not None


def test_the_event_and_exercise_it_returns_read_like_loaded_ones():  # type: ignore[no-untyped-def]
    event_exercise = open_event_exercise()
    participant = make_participant(event_exercise.event)
    found, _ = get_board_access(participant, event_exercise.event.slug, event_exercise.exercise.slug)
    assert found.pk == event_exercise.pk and found.closes_at == event_exercise.closes_at
    assert (found.event.title, found.event.get_absolute_url()) == (
        event_exercise.event.title,
        event_exercise.event.get_absolute_url(),
    )
    assert found.exercise.get_direction_display() == event_exercise.exercise.get_direction_display()
    # Fields the query did not select load on first use, as deferred fields do.
    assert found.event.capacity == event_exercise.event.capacity
    assert found.exercise.wall_seconds == event_exercise.exercise.wall_seconds
