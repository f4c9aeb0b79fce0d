"""The board cache: an organizer's change shows at once, a cached board is cheap, a dead cache is survived."""

from __future__ import annotations

import socket

import pytest
import redis
from django.urls import reverse

from grading.boards import services as board_services
from grading.boards.cache import BOARD_CACHE_FORMAT, cached_board
from grading.boards.ranking import Audience, Part
from grading.templatetags import board_rows
from hackathon.config.env import cache_from_url
from tests.builders.events import open_event_exercise
from tests.builders.people import make_organizer, person
from tests.builders.submissions import scored

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def test_a_reveal_shows_at_once_although_boards_are_cached(settings):
    settings.BOARD_CACHE_SECONDS = 60
    event_exercise = open_event_exercise()
    organizer = make_organizer(event_exercise.event)
    before = cached_board(event_exercise, audience=Audience.PARTICIPANT, part=Part.PRIVATE)
    board_services.reveal_board(actor=organizer, event_exercise=event_exercise)
    after = cached_board(event_exercise, audience=Audience.PARTICIPANT, part=Part.PRIVATE)
    assert before != after


def _board_urls(event_exercise) -> list[str]:  # type: ignore[no-untyped-def]
    args = (event_exercise.event.slug, event_exercise.exercise.slug)
    return [
        reverse(f"grading:{name}", args=args)
        for name in ("exercise_board", "exercise_board_rows", "exercise_board_json")
    ]


def _board_viewed_by_one_of(people: int, client):  # type: ignore[no-untyped-def]
    """Open an exercise scored by `people` participants and one viewer, whom the client signs in as."""
    event_exercise = open_event_exercise()
    viewer = person(event_exercise.event, "Ada Viewer")
    scored(event_exercise, viewer, 0.7)
    for i in range(people):
        scored(event_exercise, person(event_exercise.event, f"Person {i}"), 0.5 + i / 100)
    client.force_login(viewer)
    return event_exercise


@pytest.mark.parametrize("people", [3, 30])
def test_a_cached_board_costs_three_queries_whatever_its_size(client, settings, django_assert_max_num_queries, people):  # type: ignore[no-untyped-def]
    settings.BOARD_CACHE_SECONDS = 60
    event_exercise = _board_viewed_by_one_of(people, client)
    for url in _board_urls(event_exercise):
        assert client.get(url).status_code == 200  # computes the board and caches the session
        # Who is asking (session, user) and what they may see (event, exercise and roles in one query): no more.
        with django_assert_max_num_queries(3):
            assert client.get(url).status_code == 200


@pytest.mark.parametrize("people", [3, 30])
def test_computing_a_board_for_a_page_costs_the_same_few_queries_whatever_its_size(
    client, settings, django_assert_max_num_queries, people
):  # type: ignore[no-untyped-def]
    settings.BOARD_CACHE_SECONDS = 0  # every request computes the board
    event_exercise = _board_viewed_by_one_of(people, client)
    for url in _board_urls(event_exercise):
        assert client.get(url).status_code == 200
        # Session, user, access; then the board's settings, scored submissions and people: nothing per row, and
        # nothing the access query left out (the exercise's targets are read for the orientation rows).
        with django_assert_max_num_queries(6):
            assert client.get(url).status_code == 200


def test_each_viewer_sees_their_own_row_marked_on_a_board_rendered_once(client, settings, monkeypatch):  # type: ignore[no-untyped-def]
    settings.BOARD_CACHE_SECONDS = 60
    event_exercise = open_event_exercise()
    ada, bob = person(event_exercise.event, "Ada Lovelace"), person(event_exercise.event, "Bob Bright")
    scored(event_exercise, ada, 0.9)
    scored(event_exercise, bob, 0.8)
    renders = []
    real_get_template = board_rows.get_template

    def counting_get_template(name):  # type: ignore[no-untyped-def]
        found = real_get_template(name)
        original = found.render
        found.render = lambda context: renders.append(context.get("you", False)) or original(context)
        return found

    monkeypatch.setattr(board_rows, "get_template", counting_get_template)
    url = reverse("grading:exercise_board", args=(event_exercise.event.slug, event_exercise.exercise.slug))
    pages = {}
    for who in (ada, bob):
        client.force_login(who)
        pages[who.first_name] = client.get(url).content.decode()
    assert "Ada Lovelace (you)" in pages["Ada"] and "Bob Bright (you)" not in pages["Ada"]
    assert "Bob Bright (you)" in pages["Bob"] and "Ada Lovelace (you)" not in pages["Bob"]
    assert pages["Ada"].count('aria-current="true"><td>') == pages["Bob"].count('aria-current="true"><td>') == 1
    # Every row (the two people's, the baseline's and the reference's) was rendered once for both viewers, and each
    # viewer's own row once more, marked.
    rows = cached_board(event_exercise, audience=Audience.PARTICIPANT).rows
    assert len(rows) == 4 and renders.count(False) == 4 and renders.count(True) == 2


def test_the_boards_still_answer_when_the_shared_cache_is_down(client, settings):  # type: ignore[no-untyped-def]
    settings.BOARD_CACHE_SECONDS = 60
    event_exercise = open_event_exercise()
    viewer = person(event_exercise.event, "Ada Viewer")
    scored(event_exercise, viewer, 0.7)
    client.force_login(viewer)
    # A Redis that nobody serves: every cache call fails at once with a connection error.
    settings.CACHES = {"default": cache_from_url(f"redis://127.0.0.1:{closed_port()}/0")}
    for url in _board_urls(event_exercise):
        response = client.get(url)
        assert response.status_code == 200
        assert b"Ada Viewer" in response.content
    organizer = make_organizer(event_exercise.event)
    assert board_services.reveal_board(actor=organizer, event_exercise=event_exercise)  # forgetting fails quietly


def closed_port() -> int:
    """Return a loopback port that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_production_profile_keeps_boards_in_the_redis_cache_that_every_process_reads(settings):  # type: ignore[no-untyped-def]
    """Where CACHE_URL names Redis, a computed board lies there, where every gunicorn worker finds it."""
    from django.core.cache import cache

    if settings.CACHES["default"]["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        pytest.skip("The cache is per process here (CACHE_URL unset); the production-profile run uses Redis.")
    settings.BOARD_CACHE_SECONDS = 60
    event_exercise = open_event_exercise()
    board = cached_board(event_exercise, audience=Audience.PARTICIPANT)
    stored = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]).keys("*board:*")
    assert [key for key in stored if f"board:v{BOARD_CACHE_FORMAT}:{event_exercise.pk}:".encode() in key]
    assert cache.get(f"board:v{BOARD_CACHE_FORMAT}:{event_exercise.pk}:participant:public:participants") == board
