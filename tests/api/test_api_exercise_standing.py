"""What the JupyterLab panel reads of each exercise: best score, latest submission and the event's JupyterHub link."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from grading.models import Submission
from tests.api.conftest import client_of
from tests.builders.casts import make_cast
from tests.builders.submissions import scored_submission

pytestmark = pytest.mark.django_db


def exercise_row(client, cast) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/events/{cast.event.slug}/exercises/")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    return row


def test_an_exercise_without_submissions_has_no_best_score_and_no_last_submission():
    cast = make_cast()
    row = exercise_row(client_of(cast.alice), cast)
    assert row["best_score"] is None and row["last_submission"] is None
    assert row["closes_at"] and row["remaining_today"] == row["per_day"]


def test_the_best_score_is_the_callers_best_graded_one_and_checks_and_others_do_not_count():
    cast = make_cast()
    earlier = timezone.now() - dt.timedelta(hours=1)
    scored_submission(cast.event_exercise, cast.alice, score=0.71)
    scored_submission(cast.event_exercise, cast.alice, score=0.93)
    scored_submission(cast.event_exercise, cast.alice, score=0.99, kind=Submission.Kind.CHECK)
    scored_submission(cast.event_exercise, cast.bob, score=0.97)
    failed = scored_submission(cast.event_exercise, cast.alice, status=Submission.Status.FAILED, score=None)
    Submission.objects.filter(pk=failed.pk).update(created_at=timezone.now() + dt.timedelta(seconds=5))
    Submission.objects.exclude(pk=failed.pk).update(created_at=earlier)
    row = exercise_row(client_of(cast.alice), cast)
    assert row["best_score"] == 0.93
    assert row["last_submission"]["uid"] == str(failed.uid)
    assert row["last_submission"]["status"] == "failed"
    assert row["last_submission"]["url"].endswith(failed.get_absolute_url())


def test_when_lower_is_better_the_lowest_score_is_the_best():
    cast = make_cast()
    exercise = cast.event_exercise.exercise
    exercise.direction = exercise.Direction.LOWER
    exercise.save(update_fields=["direction"])
    for score in (0.4, 0.2, 0.3):
        scored_submission(cast.event_exercise, cast.alice, score=score)
    assert exercise_row(client_of(cast.alice), cast)["best_score"] == 0.2


def test_an_event_with_a_jupyterhub_offers_the_user_redirect_link_in_the_api_and_on_the_exercise_page():
    cast = make_cast(jupyterhub_url="https://hub.example.org/")
    slug, exercise = cast.event.slug, cast.event_exercise.exercise.slug
    link = f"https://hub.example.org/hub/user-redirect/hackathon/open?event={slug}&exercise={exercise}"
    assert exercise_row(client_of(cast.alice), cast)["jupyterhub_link"] == link
    assert client_of(cast.alice).get(f"/api/v1/events/{slug}/").json()["jupyterhub_url"] == "https://hub.example.org/"
    browser = Client()
    browser.force_login(cast.alice)
    page = browser.get(f"/events/{slug}/exercises/{exercise}/").content.decode()
    assert 'id="open-in-jupyterhub"' in page and link.replace("&", "&amp;") in page


def test_an_event_without_a_jupyterhub_offers_no_link():
    cast = make_cast()
    assert exercise_row(client_of(cast.alice), cast)["jupyterhub_link"] == ""
    browser = Client()
    browser.force_login(cast.alice)
    page = browser.get(f"/events/{cast.event.slug}/exercises/{cast.event_exercise.exercise.slug}/").content.decode()
    assert "open-in-jupyterhub" not in page
