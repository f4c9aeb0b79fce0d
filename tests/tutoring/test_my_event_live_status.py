"""My event shows a participant their group, exercises and submissions as they wait, run and finish."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from grading.models import Submission
from grading.selectors import live_submissions
from grading.tutoring.charts import score_chart
from hackathon.models import EventExercise
from tests.builders.events import open_exercise
from tests.builders.submissions import submission

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

QUEUED, RUNNING = Submission.Status.QUEUED, Submission.Status.RUNNING


def queued(setting, person, minutes_ago: int, queue: str = "cpu") -> Submission:
    return submission(
        setting.event_exercise,
        person,
        QUEUED,
        queue=queue,
        queued_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
    )


def test_a_queued_submission_shows_its_place_in_its_own_queue(setting):
    queued(setting, setting.cy, minutes_ago=9)
    queued(setting, setting.bob, minutes_ago=7)
    queued(setting, setting.dee, minutes_ago=8, queue="gpu")  # another queue does not hold ada back
    mine = queued(setting, setting.ada, minutes_ago=5)
    queued(setting, setting.cy, minutes_ago=1)  # came later: behind ada
    [live] = live_submissions(setting.ada, setting.event)
    assert live.submission == mine
    assert live.position == 3


def test_the_expected_start_follows_recent_run_times(setting):
    for minutes in (30, 20, 10):
        submission(
            setting.event_exercise,
            setting.cy,
            duration_s=40.0,
            finished_at=timezone.now() - dt.timedelta(minutes=minutes),
        )
    queued(setting, setting.bob, minutes_ago=3)
    queued(setting, setting.ada, minutes_ago=2)
    [live] = live_submissions(setting.ada, setting.event)
    assert live.position == 2
    assert live.wait_s == pytest.approx(80.0)
    assert live.expected_start is not None and live.expected_start > timezone.now()


def test_a_running_submission_shows_the_time_used_against_its_limit(client, setting):
    submission(
        setting.event_exercise,
        setting.ada,
        RUNNING,
        started_at=timezone.now() - dt.timedelta(seconds=30),
    )
    [live] = live_submissions(setting.ada, setting.event)
    assert live.elapsed_s == pytest.approx(30, abs=5)
    assert live.limit_s == setting.event_exercise.exercise.wall_seconds == 60
    assert live.elapsed_share == pytest.approx(0.5, abs=0.1)
    client.force_login(setting.ada)
    body = client.get(reverse("grading:my_event_submissions", args=[setting.event.slug])).content.decode()
    assert 'max="60"' in body and "of 60 s" in body


def test_the_page_lists_group_tutor_exercises_remaining_submissions_and_polls_for_status(client, setting):
    queued(setting, setting.bob, minutes_ago=3)
    queued(setting, setting.ada, minutes_ago=2)
    submission(setting.event_exercise, setting.ada, Submission.Status.SCORED, score=0.81)
    client.force_login(setting.ada)
    body = client.get(reverse("grading:my_event", args=[setting.event.slug])).content.decode()
    assert "Group 1" in body and "tina@example.org" in body
    exercise = setting.event_exercise.exercise
    assert reverse("grading:event_exercise", args=[setting.event.slug, exercise.slug]) in body
    assert reverse("grading:download_exercise", args=[setting.event.slug, exercise.slug]) in body
    assert "8 of 10" in body  # two graded submissions of today's ten used: a queued one counts too
    assert "Position 2 in the CPU queue" in body
    assert f'hx-get="{reverse("grading:my_event_submissions", args=[setting.event.slug])}"' in body


def test_the_polled_list_shows_only_the_participants_own_submissions(client, setting):
    theirs = submission(setting.event_exercise, setting.bob, score=0.5)
    mine = submission(setting.event_exercise, setting.ada, score=0.6)
    client.force_login(setting.ada)
    body = client.get(reverse("grading:my_event_submissions", args=[setting.event.slug])).content.decode()
    assert mine.get_absolute_url() in body
    assert theirs.get_absolute_url() not in body


def test_a_participant_without_a_group_is_told_their_requests_go_to_the_organizers(client, setting):
    client.force_login(setting.dee)
    body = client.get(reverse("grading:my_event", args=[setting.event.slug])).content.decode()
    assert "not in a group yet" in body


def test_my_scores_are_drawn_in_time_order_with_the_better_one_higher(client, setting):
    submission(setting.event_exercise, setting.ada, score=0.6, minutes_ago=20)
    submission(setting.event_exercise, setting.ada, score=0.9, minutes_ago=10)
    submission(setting.event_exercise, setting.ada, Submission.Status.FAILED, minutes_ago=5)
    chart = score_chart(Submission.objects.filter(participant=setting.ada))
    assert chart is not None and len(chart.dots) == 2
    (x1, y1, first), (x2, y2, second) = chart.dots
    assert x1 < x2 and y2 < y1  # later to the right, higher score nearer the top
    assert first.startswith("0.6000") and second.startswith("0.9000")
    client.force_login(setting.ada)
    body = client.get(reverse("grading:my_event", args=[setting.event.slug])).content.decode()
    assert 'role="img"' in body and "2 scores from 0.600 to 0.900" in body
    assert body.count("<circle") == 2


def test_a_single_score_is_shown_as_the_number_it_is_not_a_one_point_chart(client, setting):
    submission(setting.event_exercise, setting.ada, score=0.8123, minutes_ago=10)
    client.force_login(setting.ada)
    body = client.get(reverse("grading:my_event", args=[setting.event.slug])).content.decode()
    assert "<strong>0.8123</strong>" in body
    assert "<circle" not in body and "score-chart" not in body


def test_several_scores_show_the_last_as_a_number_beside_the_line(client, setting):
    submission(setting.event_exercise, setting.ada, score=0.6, minutes_ago=20)
    submission(setting.event_exercise, setting.ada, score=0.7, minutes_ago=10)
    client.force_login(setting.ada)
    body = client.get(reverse("grading:my_event", args=[setting.event.slug])).content.decode()
    assert "last <strong>0.7000</strong>; 2 scores, 0.6000 to 0.7000" in body


def test_an_exercise_not_yet_open_shows_when_it_opens_and_no_download(client, setting):
    later = open_exercise(setting.event)
    EventExercise.objects.filter(pk=later.pk).update(opens_at=timezone.now() + dt.timedelta(hours=2))
    client.force_login(setting.ada)
    body = client.get(reverse("grading:my_event", args=[setting.event.slug])).content.decode()
    assert later.exercise.title in body and "Opens on " in body
    assert reverse("grading:download_exercise", args=[setting.event.slug, later.exercise.slug]) not in body
    assert reverse("grading:download_exercise", args=[setting.event.slug, setting.event_exercise.exercise.slug]) in body
