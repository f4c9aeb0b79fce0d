"""Pages and API answers that list submissions never load a run's notebook, log or traceback from the database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grading.models import RESULT_FIELDS
from tests.builders.casts import make_cast
from tests.builders.submissions import scored_submission

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]
BIG_NOTEBOOK = {"cells": [{"cell_type": "code", "source": "x", "outputs": [{"text": "y" * 200_000}]}]}


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def selected_result_columns(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return [
        field
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith("SELECT")
        for field in RESULT_FIELDS
        if f'"{field}"' in query["sql"]
    ]


def test_no_list_of_submissions_loads_a_run_s_results():
    cast = make_cast()
    for participant in (cast.alice, cast.bob):
        for _ in range(3):
            scored_submission(
                cast.event_exercise, participant, executed_notebook=BIG_NOTEBOOK, log="z" * 100_000, traceback="t"
            )
    event, exercise = cast.event.slug, cast.event_exercise.exercise.slug
    pages = {
        cast.alice: [
            reverse("grading:my_event", args=[event]),
            reverse("grading:my_event_submissions", args=[event]),
            reverse("grading:event_exercise", args=[event, exercise]),
            reverse("grading:my_submissions", args=[event, exercise]),
            reverse("grading:exercise_board", args=[event, exercise]),
            "/api/v1/submissions/",
        ],
        cast.tutor: [
            reverse("grading:tutor_dashboard", args=[event]),
            reverse("grading:tutor_dashboard_groups", args=[event]),
        ],
        cast.organizer: [
            reverse("grading:organizer_boards", args=[event]),
            reverse("grading:organizer_boards_live", args=[event]),
            reverse("grading:event_report_grading", args=[event]),
        ],
    }
    for person, urls in pages.items():
        client = signed_in(person)
        for url in urls:
            assert selected_result_columns(client, url) == [], url


def test_the_result_page_of_one_submission_loads_its_notebook_and_log():
    cast = make_cast()
    submission = scored_submission(cast.event_exercise, cast.alice, executed_notebook=BIG_NOTEBOOK, log="a log line")
    client = signed_in(cast.alice)
    assert "executed_notebook" in selected_result_columns(client, submission.get_absolute_url())
    assert "a log line" in client.get(submission.get_absolute_url()).content.decode()
