"""The dashboard shows each member's last activity, last valid submission, best score and trend."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from grading.models import HelpRequest, Submission
from grading.tutoring.selectors import group_dashboard
from tests.builders.events import open_exercise
from tests.builders.submissions import submission

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def test_a_members_last_activity_is_their_latest_submission_or_help_request(setting):
    submission(setting.event_exercise, setting.ada, score=0.7, minutes_ago=30)
    asked = HelpRequest.objects.create(
        event=setting.event, participant=setting.ada, group=setting.group, message="Stuck on the loss."
    )
    HelpRequest.objects.filter(pk=asked.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10))
    submission(setting.event_exercise, setting.bob, Submission.Status.FAILED, minutes_ago=50)
    members = {m.email: m for m in group_dashboard(setting.group, viewer=setting.tutor).members}
    ada, bob = members["ada@example.org"], members["bob@example.org"]
    assert timezone.now() - ada.last_activity == pytest.approx(dt.timedelta(minutes=10), abs=dt.timedelta(seconds=5))
    assert timezone.now() - bob.last_activity == pytest.approx(dt.timedelta(minutes=50), abs=dt.timedelta(seconds=5))
    assert ada.last_success_at is not None and bob.last_success_at is None


def test_the_best_score_follows_the_exercises_direction(setting):
    for score in (0.62, 0.91, 0.75):
        submission(setting.event_exercise, setting.ada, score=score)
    [ada] = [m for m in group_dashboard(setting.group, viewer=setting.tutor).members if m.email == "ada@example.org"]
    assert ada.best_score == 0.91
    exercise = setting.event_exercise.exercise
    exercise.direction = "lower"
    exercise.save()
    [ada] = [m for m in group_dashboard(setting.group, viewer=setting.tutor).members if m.email == "ada@example.org"]
    assert ada.best_score == 0.62


def test_the_dashboard_draws_each_members_scores(client, setting):
    submission(setting.event_exercise, setting.bob, score=0.7, minutes_ago=9)
    submission(setting.event_exercise, setting.bob, score=0.8, minutes_ago=3)
    client.force_login(setting.tutor)
    body = client.get(reverse("grading:tutor_dashboard", args=[setting.event.slug])).content.decode()
    assert 'aria-label="Public scores of bob@example.org: 2 scores from 0.700 to 0.800"' in body
    assert "none yet" in body  # ada has done nothing so far


def test_a_member_failing_on_another_exercise_shows_activity_and_errors_not_no_activity(client, setting):
    elsewhere = open_exercise(setting.event)
    for minutes in (30, 20, 10):
        submission(
            elsewhere,
            setting.ada,
            Submission.Status.FAILED,
            minutes_ago=minutes,
            reason=Submission.Reason.EXCEPTION,
            message="Cell 2 raised KeyError: 'radius'",
        )
    members = {m.email: m for m in group_dashboard(setting.group, viewer=setting.tutor).members}
    ada = members["ada@example.org"]
    assert ada.last_activity is not None and ada.submission_count == 3
    assert ada.best_score is None, "the best score stays on the group's exercise, in its metric"
    client.force_login(setting.tutor)
    body = client.get(reverse("grading:tutor_dashboard_groups", args=[setting.event.slug])).content.decode()
    assert f"{elsewhere.exercise.title}: failed" in body
    assert "none yet" not in body.split("ada@example.org", 1)[1].split("</tr>", 1)[0]
    assert "KeyError" in body, "the errors table counts the other exercise's failures too"
