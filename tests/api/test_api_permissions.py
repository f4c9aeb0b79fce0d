"""The API applies the site's rules, per role: others' objects are 404, unseen events too, non-participants 403."""

from __future__ import annotations

import pytest

from tests.api.conftest import client_of
from tests.builders.casts import make_cast
from tests.builders.events import make_event, open_exercise
from tests.builders.exercises import make_exercise
from tests.builders.people import make_organizer, make_participant, make_user
from tests.builders.submissions import scored_submission

pytestmark = pytest.mark.django_db


def test_a_request_without_credentials_is_answered_401_with_the_scheme_to_use():
    response = client_of(None).get("/api/v1/submissions/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "credentials" in response.json()["detail"].lower()


def test_anyone_lists_published_events_but_not_unpublished_ones():
    shown = make_event(title="Open edition")
    hidden = make_event(title="Draft edition", published=False)
    slugs = [e["slug"] for e in client_of(None).get("/api/v1/events/").json()["results"]]
    assert shown.slug in slugs and hidden.slug not in slugs
    assert client_of(make_user()).get(f"/api/v1/events/{hidden.slug}/").status_code == 404


def test_an_organizer_sees_their_unpublished_event_with_their_role():
    hidden = make_event(published=False)
    organizer = make_organizer(hidden)
    response = client_of(organizer).get(f"/api/v1/events/{hidden.slug}/")
    assert response.status_code == 200
    assert response.json()["my_roles"] == ["organizer"]


def test_my_registrations_list_only_mine_with_status_and_group():
    cast = make_cast()
    make_participant(make_event(), user=cast.bob)
    rows = client_of(cast.alice).get("/api/v1/registrations/").json()["results"]
    assert rows == [
        {
            "event": cast.event.slug,
            "event_title": cast.event.title,
            "status": "confirmed",
            "created_at": rows[0]["created_at"],
            "offer_expires_at": None,
            "group": 1,
        }
    ]


def test_the_catalog_lists_published_exercises_and_filters_by_label():
    deep = make_exercise("deep-one", labels={"technology": ["CNN"]})
    make_exercise("plain-one", labels={"technology": ["BDT"]})
    hidden = make_exercise("hidden-one")
    hidden.published = False
    hidden.save()
    client = client_of(make_user())
    slugs = {e["slug"] for e in client.get("/api/v1/exercises/").json()["results"]}
    assert {"deep-one", "plain-one"} <= slugs and "hidden-one" not in slugs
    only = client.get("/api/v1/exercises/", {"technology": "CNN"}).json()["results"]
    assert [e["slug"] for e in only] == [deep.slug]
    assert only[0]["labels"] == {"technology": ["CNN"]}
    assert client.get("/api/v1/exercises/hidden-one/").status_code == 404


def test_a_participant_sees_the_event_exercises_with_the_remaining_quota():
    cast = make_cast()
    scored_submission(cast.event_exercise, cast.alice)
    rows = client_of(cast.alice).get(f"/api/v1/events/{cast.event.slug}/exercises/").json()["results"]
    assert len(rows) == 1
    assert rows[0]["exercise"] == cast.event_exercise.exercise.slug
    assert rows[0]["is_open"] is True
    assert rows[0]["remaining_today"] == rows[0]["per_day"] - 1


@pytest.mark.parametrize("who", ["tutor", "outsider"])
def test_who_does_not_take_part_is_refused_the_exercises_with_403_and_a_way_forward(who):
    cast = make_cast()
    response = client_of(getattr(cast, who)).get(f"/api/v1/events/{cast.event.slug}/exercises/")
    assert response.status_code == 403
    assert "Register for the event" in response.json()["detail"]


def test_an_exercise_the_event_does_not_have_is_404():
    cast = make_cast()
    other = open_exercise(make_event())
    url = f"/api/v1/events/{cast.event.slug}/exercises/{other.exercise.slug}/"
    assert client_of(cast.alice).get(url).status_code == 404


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("alice", True),
        ("bob", False),
        ("tutor", True),
        ("other_tutor", False),
        ("organizer", True),
        ("outsider", False),
    ],
)
def test_a_submission_is_seen_by_its_author_their_tutor_and_the_organizers_and_is_404_to_others(who, sees):
    cast = make_cast()
    submission = scored_submission(cast.event_exercise, cast.alice)
    response = client_of(getattr(cast, who)).get(f"/api/v1/submissions/{submission.uid}/")
    if sees:
        assert response.status_code == 200
        assert response.json()["score"] == 0.8125
    else:
        assert response.status_code == 404
        assert response.json() == {"detail": "No such submission."}


@pytest.mark.parametrize(("who", "private"), [("alice", None), ("tutor", None), ("organizer", 0.7)])
def test_only_organizers_read_the_private_score_as_on_the_submission_page(who, private):
    cast = make_cast()
    submission = scored_submission(cast.event_exercise, cast.alice)
    body = client_of(getattr(cast, who)).get(f"/api/v1/submissions/{submission.uid}/").json()
    assert body["private_score"] == private


def test_my_submissions_list_only_mine_and_filter_by_status():
    cast = make_cast()
    mine = scored_submission(cast.event_exercise, cast.alice)
    failed = scored_submission(cast.event_exercise, cast.alice, status="failed", score=None, reason="exception")
    scored_submission(cast.event_exercise, cast.bob)
    client = client_of(cast.alice)
    listed = [s["uid"] for s in client.get("/api/v1/submissions/").json()["results"]]
    assert listed == [str(failed.uid), str(mine.uid)]
    only = client.get("/api/v1/submissions/", {"status": "failed"}).json()["results"]
    assert [s["uid"] for s in only] == [str(failed.uid)]
    wrong = client.get("/api/v1/submissions/", {"status": "nonsense"})
    assert wrong.status_code == 400
    assert "status" in wrong.json()["errors"]


def test_a_malformed_submission_id_is_404_in_json():
    response = client_of(make_user()).get("/api/v1/submissions/not-a-uuid/")
    assert response.status_code == 404
    assert "no such API endpoint" in response.json()["detail"]
