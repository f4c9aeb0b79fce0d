"""Boards and help requests through the API: the site's rules, private boards only once revealed, threads per role."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import timezone

from grading.models import BoardSettings, HelpRequest
from tests.api.conftest import client_of
from tests.builders.casts import make_cast
from tests.builders.submissions import scored_submission

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_boards(settings):  # type: ignore[no-untyped-def]
    settings.BOARD_CACHE_SECONDS = 0
    cache.clear()


def board(client, cast, **params):  # type: ignore[no-untyped-def]
    url = f"/api/v1/events/{cast.event.slug}/exercises/{cast.event_exercise.exercise.slug}/board/"
    return client.get(url, params)


def test_a_participant_reads_the_public_board_with_their_own_row_marked():
    cast = make_cast()
    scored_submission(cast.event_exercise, cast.alice, score=0.9)
    scored_submission(cast.event_exercise, cast.bob, score=0.8)
    body = board(client_of(cast.alice), cast).json()
    ranked = [row for row in body["rows"] if row["rank"] is not None]
    assert [(r["rank"], r["score"], r["you"]) for r in ranked] == [(1, 0.9, True), (2, 0.8, False)]
    assert all("submission" not in r for r in body["rows"])


def test_the_private_board_is_hidden_from_participants_until_revealed():
    cast = make_cast()
    scored_submission(cast.event_exercise, cast.alice, score=0.9, private_score=0.61)
    client = client_of(cast.bob)
    hidden = board(client, cast, part="private").json()
    assert hidden["hidden"] is True and hidden["rows"] == []
    BoardSettings.objects.create(event_exercise=cast.event_exercise, revealed_at=timezone.now())
    shown = board(client, cast, part="private").json()
    assert shown["hidden"] is False
    assert [r["score"] for r in shown["rows"] if r["rank"]] == [0.61]


def test_organizers_read_the_private_board_before_the_reveal_with_the_counted_submissions():
    cast = make_cast()
    submission = scored_submission(cast.event_exercise, cast.alice, private_score=0.61)
    body = board(client_of(cast.organizer), cast, part="private").json()
    row = next(r for r in body["rows"] if r["rank"] == 1)
    assert row["score"] == 0.61 and row["submission"] == str(submission.uid)


def test_people_outside_the_event_get_404_and_a_wrong_part_a_400():
    cast = make_cast()
    assert board(client_of(cast.outsider), cast).status_code == 404
    wrong = board(client_of(cast.alice), cast, part="secret")
    assert wrong.status_code == 400 and "part" in wrong.json()["errors"]


def help_url(cast, *rest: str) -> str:  # type: ignore[no-untyped-def]
    return "/".join([f"/api/v1/events/{cast.event.slug}/help", *rest]) + "/"


def test_a_help_request_goes_from_the_participant_to_their_tutor_and_back():
    cast = make_cast()
    alice, tutor = client_of(cast.alice), client_of(cast.tutor)
    raised = alice.post(help_url(cast), {"message": "My loss is NaN after one epoch."}, format="json")
    assert raised.status_code == 201
    body = raised.json()
    assert body["status"] == "open" and body["group"] == 1 and body["place_in_queue"] == 1
    assert body["can_handle"] is False
    pk = str(body["id"])
    queue = tutor.get(help_url(cast), {"status": "open"}).json()["results"]
    assert [r["id"] for r in queue] == [body["id"]] and queue[0]["can_handle"] is True
    answered = tutor.post(help_url(cast, pk, "messages"), {"text": "Lower the learning rate."}, format="json")
    assert answered.status_code == 200
    assert answered.json()["status"] == "claimed"
    assert [m["text"] for m in answered.json()["messages"]] == ["Lower the learning rate."]
    resolved = alice.post(help_url(cast, pk, "resolve"))
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"


def test_another_groups_tutor_and_other_participants_get_404_for_a_request():
    cast = make_cast()
    raised = client_of(cast.alice).post(help_url(cast), {"message": "Stuck on the data loader."}, format="json")
    pk = str(raised.json()["id"])
    for who in (cast.other_tutor, cast.bob, cast.outsider):
        client = client_of(who)
        assert client.get(help_url(cast, pk)).status_code == 404
        assert client.post(help_url(cast, pk, "claim")).status_code == 404
    assert client_of(cast.organizer).post(help_url(cast, pk, "claim")).json()["status"] == "claimed"


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({}, "message"),
        ({"message": ["a", "list"]}, "message"),
        ({"message": "long enough text", "submission": 5}, "submission"),
    ],
)
def test_a_bad_help_request_names_the_field(payload, where):
    cast = make_cast()
    response = client_of(cast.alice).post(help_url(cast), payload, format="json")
    assert response.status_code == 400
    assert where in response.json()["errors"]
    assert not HelpRequest.objects.exists()


def test_a_too_short_request_or_a_second_one_is_refused_with_a_sentence():
    cast = make_cast()
    client = client_of(cast.alice)
    short = client.post(help_url(cast), {"message": "help"}, format="json")
    assert short.status_code == 400 and "at least 10 characters" in short.json()["detail"]
    assert client.post(help_url(cast), {"message": "First question here."}, format="json").status_code == 201
    second = client.post(help_url(cast), {"message": "Second question here."}, format="json")
    assert second.status_code == 400 and "already have a help request" in second.json()["detail"]


def test_a_request_about_someone_elses_submission_is_refused():
    cast = make_cast()
    others = scored_submission(cast.event_exercise, cast.bob)
    response = client_of(cast.alice).post(
        help_url(cast), {"message": "Why is this slow?", "submission": str(others.uid)}, format="json"
    )
    assert response.status_code == 400 and "submission" in response.json()["errors"]


def test_malformed_json_in_a_thread_message_is_a_400():
    cast = make_cast()
    pk = str(client_of(cast.alice).post(help_url(cast), {"message": "Stuck on plotting."}, format="json").json()["id"])
    response = client_of(cast.tutor).post(help_url(cast, pk, "messages"), data=b"{", content_type="application/json")
    assert response.status_code == 400 and "JSON" in response.json()["detail"]
