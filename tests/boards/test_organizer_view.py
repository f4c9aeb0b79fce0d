"""Organizers see every exercise at once: live boards, queues, failures, activity, progression, CSV and settings."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from grading.boards.activity import event_activity
from grading.boards.ranking import Audience
from grading.boards.selectors import score_progression
from grading.models import AuditEntry, BoardSettings, Submission
from grading.permissions import board_audience
from hackathon.models import Group
from tests.builders.events import make_event, open_exercise
from tests.builders.people import make_organizer, person
from tests.builders.submissions import scored

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


@pytest.fixture
def event_in_progress():  # type: ignore[no-untyped-def]
    """Two exercises with scores, a failure of each kind of fault, work waiting and running, one organizer."""
    event = make_event()
    first, second = open_exercise(event), open_exercise(event)
    group = Group.objects.create(event=event, event_exercise=first, number=1)
    ada, bob = person(event, "Ada L", group=group), person(event, "Bob M")
    now = timezone.now()
    scored(first, ada, 0.70, 0.71, at=now - dt.timedelta(hours=3))
    scored(first, ada, 0.90, 0.88, at=now - dt.timedelta(hours=2))
    scored(first, bob, 0.80, 0.79, at=now - dt.timedelta(hours=1))
    scored(second, bob, 0.60, 0.61, at=now - dt.timedelta(minutes=30))
    scored(first, bob, None, status=Submission.Status.FAILED, reason=Submission.Reason.TIMEOUT)
    scored(first, ada, None, status=Submission.Status.FAILED, reason=Submission.Reason.TIMEOUT)
    scored(second, ada, None, status=Submission.Status.INVALID, reason=Submission.Reason.PREDICTIONS)
    scored(first, ada, None, status=Submission.Status.QUEUED)
    scored(second, bob, None, status=Submission.Status.RUNNING)
    scored(open_exercise(make_event()), person(make_event(), "Elsewhere E"), None, status=Submission.Status.QUEUED)
    return event, first, second, make_organizer(event)


def test_the_activity_counts_queues_failures_and_submissions_per_hour(event_in_progress):
    event, *_ = event_in_progress
    activity = event_activity(event)
    cpu = next(q for q in activity.queues if q.queue == "cpu")
    assert (cpu.queued, cpu.running, cpu.queued_here, cpu.running_here) == (2, 1, 1, 1)
    assert [(f.reason, f.count) for f in activity.failures] == [("timeout", 2), ("predictions", 1)]
    assert len(activity.per_hour) == 24
    assert sum(h.count for h in activity.per_hour) == 4  # the rest were made two days ago
    assert max(h.height for h in activity.per_hour) == 120.0


def test_the_progression_chart_draws_a_line_per_top_entry(event_in_progress):
    event, first, *_ = event_in_progress
    chart = score_progression(first)
    assert [s.label for s in chart.series] == ["1. Ada L", "2. Bob M"]
    ada_points = chart.series[0].points.split()
    assert len(ada_points) == 4  # 0.70, a step, 0.90, then held until now


def test_the_organizers_page_shows_every_exercise_live_with_its_actions(client, event_in_progress):
    event, first, second, organizer = event_in_progress
    BoardSettings.objects.create(event_exercise=first, freeze_minutes=24 * 60 * 60, ladder=True)
    client.force_login(organizer)
    page = client.get(reverse("grading:organizer_boards", args=[event.slug])).content.decode()
    for text in (
        first.exercise.title,
        second.exercise.title,
        "Time limit reached",
        "Predictions not valid",
        "Submissions per hour",
        "<polyline",
        "0.9000",  # live despite the freeze and the Ladder
        'hx-trigger="every 10s"',
        reverse("grading:rescore_exercise", args=[event.slug, first.exercise.slug]),
        "Reveal the private board",
    ):
        assert text in page, text
    live = client.get(reverse("grading:organizer_boards_live", args=[event.slug]))
    assert live.status_code == 200 and "<polyline" in live.content.decode()


def test_the_csv_holds_every_board_of_the_event(client, event_in_progress):
    event, first, second, organizer = event_in_progress
    client.force_login(organizer)
    response = client.get(reverse("grading:boards_csv", args=[event.slug]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    boards = {(r["board"], r["exercise"], r["part"], r["ranking"]) for r in rows}
    for title in (first.exercise.title, second.exercise.title):
        for part in ("public", "private"):
            for ranking in ("participants", "groups"):
                if (title, ranking) == (second.exercise.title, "groups"):
                    continue  # Bob, its only scorer, is in no group
                assert ("exercise", title, part, ranking) in boards
    assert ("combined", "all exercises", "private", "participants") in boards
    ada_private = next(
        r for r in rows if r["exercise"] == first.exercise.title and r["part"] == "private" and r["name"] == "Ada L"
    )
    assert (ada_private["rank"], ada_private["score"]) == ("1", "0.88")


def test_saving_the_board_settings_is_logged(client, event_in_progress):
    event, first, _, organizer = event_in_progress
    client.force_login(organizer)
    url = reverse("grading:board_settings", args=[event.slug, first.exercise.slug])
    assert "Freeze the public board" in client.get(url).content.decode()
    response = client.post(
        url, {"freeze_minutes": "30", "reveal_at": "", "ladder": "on", "ladder_step": "0.005", "final_picks": "2"}
    )
    assert response.status_code == 302
    options = BoardSettings.objects.get(event_exercise=first)
    assert (options.freeze_minutes, options.ladder, options.ladder_step, options.final_picks, options.show_targets) == (
        30,
        True,
        0.005,
        2,
        False,
    )
    assert "Ladder on, step 0.005" in AuditEntry.objects.get(action=AuditEntry.Action.SETTINGS).reason


def test_the_rescore_page_asks_for_a_reason_before_queuing_anything(client, event_in_progress):
    event, first, _, organizer = event_in_progress
    client.force_login(organizer)
    url = reverse("grading:rescore_exercise", args=[event.slug, first.exercise.slug])
    assert "Run 5 submissions again" in client.get(url).content.decode()
    assert client.post(url, {"reason": ""}).status_code == 200
    assert not AuditEntry.objects.exists()
    assert Submission.objects.filter(event_exercise=first, status=Submission.Status.SCORED).count() == 3


def test_an_organizer_reading_the_board_is_its_organizer_audience(client, event_in_progress):
    event, first, _, organizer = event_in_progress
    assert board_audience(organizer, event) is Audience.ORGANIZER


@pytest.mark.parametrize("exercises", [1, 4])
def test_the_live_organizers_view_takes_the_same_few_queries_for_any_number_of_exercises(
    client, django_assert_max_num_queries, exercises
):
    event = make_event()
    organizer = make_organizer(event)
    for _ in range(exercises):
        event_exercise = open_exercise(event)
        for i in range(3):
            scored(event_exercise, person(event, f"P {i}"), 0.6 + 0.1 * i)
    client.force_login(organizer)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("grading:organizer_boards_live", args=[event.slug]))
    assert response.content.decode().count("<polyline") == exercises * 3
