"""Participants never see others' notebooks, logs or private scores; scores change only through a logged re-score."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse

from grading import services
from grading.boards.services import disqualify, reinstate, rescore_exercise
from grading.errors import BoardActionRefused, QuotaExceeded
from grading.models import AuditEntry, Submission
from hackathon.models import EventExercise, Group, Registration
from tests.builders.events import make_event, open_event_exercise, open_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import make_organizer, make_tutor, make_user, person
from tests.builders.submissions import scored

pytestmark = [pytest.mark.production_profile]

SECRET_LOG = "log line only its author may read"


@pytest.fixture
def room(db):  # type: ignore[no-untyped-def]
    """Ada (in group 1 with its tutor) and Bob each have a scored submission with a log and a private score."""
    event_exercise = open_exercise(make_event())
    event = event_exercise.event
    group = Group.objects.create(event=event, event_exercise=event_exercise, number=1)
    people = {
        "ada": person(event, "Ada L", group=group),
        "bob": person(event, "Bob M"),
        "tutor": make_tutor(event),
        "organizer": make_organizer(event),
        "stranger": make_user(),
    }
    group.tutors.add(people["tutor"])
    mine = {}
    for name, score, private in (("ada", 0.91, 0.8123), ("bob", 0.85, 0.7777)):
        submission = scored(event_exercise, people[name], score, private)
        Submission.objects.filter(pk=submission.pk).update(
            log=f"{SECRET_LOG} ({name})",
            executed_notebook={"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
        )
        mine[name] = submission
    return event_exercise, people, mine


def board_urls(event_exercise: EventExercise) -> dict[str, str]:
    args = [event_exercise.event.slug, event_exercise.exercise.slug]
    return {
        "page": reverse("grading:exercise_board", args=args),
        "rows": reverse("grading:exercise_board_rows", args=args),
        "json": reverse("grading:exercise_board_json", args=args),
        "event": reverse("grading:event_board", args=[event_exercise.event.slug]),
    }


@pytest.mark.parametrize("viewer", ["ada", "tutor"])
def test_participants_and_tutors_see_the_public_board_without_private_scores_or_submissions(client, room, viewer):
    event_exercise, people, mine = room
    client.force_login(people[viewer])
    for url in board_urls(event_exercise).values():
        for part in ("public", "private"):
            response = client.get(url, {"part": part})
            text = response.content.decode()
            assert response.status_code == 200
            assert "0.8123" not in text and "0.7777" not in text
            assert str(mine["bob"].uid) not in text and str(mine["ada"].uid) not in text
            assert SECRET_LOG not in text
    data = client.get(board_urls(event_exercise)["json"]).json()
    assert [row["name"] for row in data["rows"] if row["rank"]] == ["Ada L", "Bob M"]
    assert all("submission" not in row for row in data["rows"])


def test_a_participant_cannot_open_anothers_submission_its_notebook_or_log(client, room):
    event_exercise, people, mine = room
    client.force_login(people["ada"])
    for name in ("submission_detail", "submission_status", "submission_pictures"):
        assert client.get(reverse(f"grading:{name}", args=[mine["bob"].uid])).status_code == 404
    own = client.get(reverse("grading:submission_detail", args=[mine["ada"].uid]))
    assert own.status_code == 200


def test_a_tutor_opens_the_submissions_of_their_group_only(client, room):
    event_exercise, people, mine = room
    client.force_login(people["tutor"])
    assert client.get(reverse("grading:submission_detail", args=[mine["ada"].uid])).status_code == 200
    assert client.get(reverse("grading:submission_detail", args=[mine["bob"].uid])).status_code == 404


def test_people_outside_the_event_see_no_board(client, room):
    event_exercise, people, _ = room
    for url in board_urls(event_exercise).values():
        assert client.get(url).status_code == 302  # signed out: to the sign-in page
    client.force_login(people["stranger"])
    for url in board_urls(event_exercise).values():
        assert client.get(url).status_code == 404


@pytest.mark.parametrize("viewer", ["ada", "tutor"])
def test_only_organizers_reach_the_organizers_pages(client, room, viewer):
    event_exercise, people, mine = room
    slug, exercise_slug = event_exercise.event.slug, event_exercise.exercise.slug
    client.force_login(people[viewer])
    for url in (
        reverse("grading:organizer_boards", args=[slug]),
        reverse("grading:organizer_boards_live", args=[slug]),
        reverse("grading:boards_csv", args=[slug]),
        reverse("grading:board_settings", args=[slug, exercise_slug]),
        reverse("grading:rescore_exercise", args=[slug, exercise_slug]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("grading:reveal_board", args=[slug, exercise_slug])).status_code == 403
    response = client.post(reverse("grading:disqualify_submission", args=[mine["ada"].uid]), {"reason": "mine"})
    assert response.status_code in (403, 404)
    assert not AuditEntry.objects.exists()


def test_the_organizers_json_names_the_counted_submission(client, room):
    event_exercise, people, mine = room
    client.force_login(people["organizer"])
    data = client.get(board_urls(event_exercise)["json"], {"part": "private"}).json()
    assert [(row["name"], row["score"], row["submission"]) for row in data["rows"] if row["rank"]] == [
        ("Ada L", 0.8123, str(mine["ada"].uid)),
        ("Bob M", 0.7777, str(mine["bob"].uid)),
    ]


def test_disqualifying_needs_a_reason_and_is_logged_and_reversible(client, room):
    event_exercise, people, mine = room
    organizer = people["organizer"]
    with pytest.raises(BoardActionRefused, match="Say why"):
        disqualify(actor=organizer, submission=mine["ada"], reason="  ")
    client.force_login(organizer)
    response = client.post(
        reverse("grading:disqualify_submission", args=[mine["ada"].uid]),
        {"reason": "Copied the hidden labels."},
        follow=True,
    )
    assert "disqualified and off every board" in response.content.decode()
    data = client.get(board_urls(event_exercise)["json"]).json()
    assert [row["name"] for row in data["rows"] if row["rank"]] == ["Bob M"]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.DISQUALIFY)
    assert (entry.actor, entry.submission, entry.reason, entry.old_score) == (
        organizer,
        mine["ada"],
        "Copied the hidden labels.",
        0.91,
    )
    reinstate(actor=organizer, submission=mine["ada"], reason="Wrong person.")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.REINSTATE).count() == 1
    data = client.get(board_urls(event_exercise)["json"]).json()
    assert [row["name"] for row in data["rows"] if row["rank"]] == ["Ada L", "Bob M"]


def test_a_rescore_queues_every_graded_result_again_and_logs_the_scores_it_replaces(
    room, django_capture_on_commit_callbacks
):
    event_exercise, people, mine = room
    failed = scored(event_exercise, people["bob"], None, status=Submission.Status.FAILED, reason="infrastructure")
    check = scored(event_exercise, people["bob"], 0.5, kind=Submission.Kind.CHECK)
    with mock.patch("grading.services.enqueue") as enqueue, django_capture_on_commit_callbacks(execute=True):
        ids = rescore_exercise(actor=people["organizer"], event_exercise=event_exercise, reason="Fixed swapped labels.")
    assert sorted(ids) == sorted([mine["ada"].pk, mine["bob"].pk, failed.pk])
    assert sorted(call.args[0].pk for call in enqueue.call_args_list) == sorted(ids)
    again = Submission.objects.get(pk=mine["ada"].pk)
    assert (again.status, again.score, again.private_score, again.attempts) == ("queued", None, None, 0)
    assert Submission.objects.get(pk=check.pk).score == 0.5
    logged = AuditEntry.objects.get(action=AuditEntry.Action.RESCORE, submission=mine["ada"])
    assert (logged.old_score, logged.old_private_score, logged.reason) == (0.91, 0.8123, "Fixed swapped labels.")


def test_a_grading_message_delivered_again_cannot_change_a_recorded_score(room):
    event_exercise, people, mine = room
    with mock.patch("grading.services.run_and_score") as run:
        services.grade_submission(mine["ada"].pk)
    run.assert_not_called()
    assert Submission.objects.get(pk=mine["ada"].pk).score == 0.91


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_daily_quota_holds_when_one_participant_submits_from_many_threads_at_once(settings):
    if connection.vendor != "postgresql":
        pytest.skip(
            "Concurrent submits need PostgreSQL's row locks; SQLite serializes writers (run the production profile)."
        )
    event_exercise = open_event_exercise(submissions_per_day=3)
    participant = person(event_exercise.event, "Ada L")
    raw = notebook_bytes(CONSTANT_SCORES)
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def submit() -> None:
        try:
            start.wait(timeout=30)
            services.submit_notebook(participant=participant, event_exercise=event_exercise, raw=raw)
            outcomes.append("accepted")
        except QuotaExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    with mock.patch("grading.services.enqueue"):
        threads = [threading.Thread(target=submit) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(outcomes) == ["accepted"] * 3 + ["refused"] * 5
    assert Submission.objects.filter(event_exercise=event_exercise, participant=participant).count() == 3
    assert Registration.objects.filter(event=event_exercise.event, user=participant).count() == 1


def test_the_disqualify_page_shows_the_reason_and_reinstates_through_its_form(client, room):
    event_exercise, people, mine = room
    client.force_login(people["organizer"])
    url = reverse("grading:disqualify_submission", args=[mine["bob"].uid])
    assert "Disqualify a submission" in client.get(url).content.decode()
    client.post(url, {"reason": "Trained on the test set."})
    page = client.get(url).content.decode()
    assert "Trained on the test set." in page and "Reinstate it" in page
    response = client.post(
        reverse("grading:reinstate_submission", args=[mine["bob"].uid]), {"reason": "Appeal accepted."}
    )
    assert response.status_code == 302
    assert [e.action for e in AuditEntry.objects.order_by("at", "id")] == ["disqualify", "reinstate"]
    organizer_page = client.get(reverse("grading:organizer_boards", args=[event_exercise.event.slug])).content.decode()
    assert "Appeal accepted." in organizer_page and "Trained on the test set." in organizer_page
