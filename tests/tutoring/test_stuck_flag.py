"""A member is flagged stuck with no valid submission after a configurable time, or after three failures in a row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from grading.models import Submission
from grading.tutoring.selectors import group_dashboard
from hackathon.models import EventExercise, Group
from tests.builders.submissions import exception, submission

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

FAILED = Submission.Status.FAILED


def opened_minutes_ago(event_exercise: EventExercise, minutes: int) -> None:
    EventExercise.objects.filter(pk=event_exercise.pk).update(opens_at=timezone.now() - dt.timedelta(minutes=minutes))


def members(setting) -> dict[str, str]:
    group = Group.objects.get(pk=setting.group.pk)  # fresh, with the exercise's opening time just moved
    return {m.email: m.stuck_reason for m in group_dashboard(group, viewer=setting.tutor).members}


def test_no_valid_submission_after_the_configured_time_flags_a_member(setting, settings):
    settings.GRADING_STUCK_MINUTES = 30
    opened_minutes_ago(setting.event_exercise, 40)
    submission(setting.event_exercise, setting.bob, score=0.7)
    flags = members(setting)
    assert "no valid submission" in flags["ada@example.org"]
    assert flags["bob@example.org"] == ""


def test_before_the_configured_time_nobody_is_stuck_yet(setting, settings):
    settings.GRADING_STUCK_MINUTES = 60
    opened_minutes_ago(setting.event_exercise, 40)
    assert members(setting) == {"ada@example.org": "", "bob@example.org": ""}


def test_the_time_is_the_setting_45_minutes_by_default(setting, settings):
    settings.GRADING_STUCK_MINUTES = 45
    opened_minutes_ago(setting.event_exercise, 44)
    assert members(setting)["ada@example.org"] == ""
    opened_minutes_ago(setting.event_exercise, 46)
    assert "no valid submission" in members(setting)["ada@example.org"]


def test_three_failures_in_a_row_flag_a_member_even_after_a_valid_one(setting):
    ee = setting.event_exercise
    submission(ee, setting.ada, score=0.8, minutes_ago=30)
    for minutes in (20, 10, 5):
        submission(ee, setting.ada, FAILED, minutes_ago=minutes, **exception(2, "KeyError", "'id'"))
    assert members(setting)["ada@example.org"] == "3 failures in a row"


def test_a_valid_submission_after_failures_clears_the_flag(setting):
    ee = setting.event_exercise
    for minutes in (30, 20, 10):
        submission(ee, setting.ada, FAILED, minutes_ago=minutes, **exception(2, "KeyError", "'id'"))
    submission(ee, setting.ada, score=0.8, minutes_ago=1)
    assert members(setting)["ada@example.org"] == ""


def test_platform_failures_do_not_count_toward_three_in_a_row(setting):
    ee = setting.event_exercise
    submission(ee, setting.ada, score=0.8, minutes_ago=30)
    submission(ee, setting.ada, FAILED, minutes_ago=20, **exception(2, "KeyError", "'id'"))
    submission(ee, setting.ada, FAILED, minutes_ago=10, **exception(2, "KeyError", "'id'"))
    submission(ee, setting.ada, FAILED, minutes_ago=5, reason=Submission.Reason.INFRASTRUCTURE)
    assert members(setting)["ada@example.org"] == ""


def test_the_dashboard_marks_the_stuck_member_and_counts_them(client, setting, settings):
    settings.GRADING_STUCK_MINUTES = 30
    opened_minutes_ago(setting.event_exercise, 40)
    submission(setting.event_exercise, setting.bob, score=0.7)
    client.force_login(setting.tutor)
    body = client.get(reverse("grading:tutor_dashboard", args=[setting.event.slug])).content.decode()
    assert "1 stuck" in body
    assert body.count("Stuck: no valid submission") == 1


def test_nobody_is_stuck_on_an_exercise_that_has_closed(setting, settings):
    settings.GRADING_STUCK_MINUTES = 30
    opened_minutes_ago(setting.event_exercise, 120)
    EventExercise.objects.filter(pk=setting.event_exercise.pk).update(
        closes_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert members(setting) == {"ada@example.org": "", "bob@example.org": ""}
