"""The same mistake across a group's members shows once, with a count and the members it hit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grading.models import Submission
from grading.tutoring.selectors import group_dashboard
from grading.tutoring.stuck import normalize_error_message
from tests.builders.submissions import exception, submission

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

FAILED = Submission.Status.FAILED


def test_messages_that_differ_only_in_names_numbers_and_paths_read_the_same():
    ada = "Found input variables with inconsistent numbers of samples: [569, 455]"
    bob = "Found input variables with inconsistent numbers of samples: [300, 120]"
    assert normalize_error_message(ada) == normalize_error_message(bob)
    assert normalize_error_message("name 'X_train' is not defined") == normalize_error_message(
        "name 'model' is not defined"
    )
    assert normalize_error_message("[Errno 2] No such file or directory: '/tmp/a/b.csv'") == normalize_error_message(
        "[Errno 2] No such file or directory: '/home/bob/data/train.csv'"
    )
    assert normalize_error_message("\x1b[31mdivision by zero\x1b[0m") == "division by zero"
    assert normalize_error_message("could not convert string to float") != normalize_error_message(
        "could not broadcast input array"
    )


def test_the_same_exception_in_the_same_cell_appears_once_with_its_count_and_members(setting):
    ee = setting.event_exercise
    submission(
        ee, setting.ada, FAILED, **exception(4, "ValueError", "Input contains NaN, infinity or a value too large")
    )
    submission(
        ee, setting.ada, FAILED, **exception(4, "ValueError", "Input contains NaN, infinity or a value too large")
    )
    latest = submission(
        ee, setting.bob, FAILED, **exception(4, "ValueError", "Input contains NaN, infinity or a value too large")
    )
    submission(
        ee, setting.bob, FAILED, **exception(7, "ValueError", "Input contains NaN, infinity or a value too large")
    )
    submission(ee, setting.ada, FAILED, **exception(4, "KeyError", "'mean_radius'"))
    submission(ee, setting.bob, score=0.9)

    errors = group_dashboard(setting.group, viewer=setting.tutor).errors

    assert len(errors) == 3
    top = errors[0]
    assert (top.signature.cell, top.signature.ename) == (4, "ValueError")
    assert top.count == 3
    assert top.members == ("ada@example.org", "bob@example.org")
    assert top.latest_uid == str(latest.uid)
    others = {(e.signature.cell, e.signature.ename): (e.count, e.members) for e in errors[1:]}
    assert others == {(7, "ValueError"): (1, ("bob@example.org",)), (4, "KeyError"): (1, ("ada@example.org",))}


def test_failures_without_an_exception_are_grouped_by_their_reason(setting):
    ee = setting.event_exercise
    for person in (setting.ada, setting.bob):
        submission(ee, person, FAILED, reason=Submission.Reason.MEMORY, message="Memory limit reached.")
    submission(
        ee,
        setting.ada,
        Submission.Status.INVALID,
        reason=Submission.Reason.PREDICTIONS,
        message="predictions.csv has 120 rows; expected 171.",
    )
    errors = group_dashboard(setting.group, viewer=setting.tutor).errors
    by_kind = {e.signature.ename: (e.count, e.members) for e in errors}
    assert by_kind["Memory limit reached"] == (2, ("ada@example.org", "bob@example.org"))
    assert by_kind["Predictions not valid"] == (1, ("ada@example.org",))


def test_platform_failures_and_other_groups_errors_stay_out_of_a_groups_errors(setting):
    ee = setting.event_exercise
    submission(
        ee, setting.ada, FAILED, reason=Submission.Reason.INFRASTRUCTURE, message="The platform could not run it."
    )
    submission(ee, setting.cy, FAILED, **exception(2, "ZeroDivisionError", "division by zero"))
    assert group_dashboard(setting.group, viewer=setting.tutor).errors == ()


def test_the_dashboard_shows_a_shared_error_once_with_whom_it_hit(client, setting):
    ee = setting.event_exercise
    for person in (setting.ada, setting.bob):
        submission(ee, person, FAILED, **exception(3, "NameError", f"name '{person.email[:3]}' is not defined"))
    client.force_login(setting.tutor)
    body = client.get(reverse("grading:tutor_dashboard", args=[setting.event.slug])).content.decode()
    assert body.count("<code>NameError</code>") == 1
    assert "ada@example.org, bob@example.org" in body
