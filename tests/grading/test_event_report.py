"""The organizer's report shows who submitted, submissions per day and the spread of best scores."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grading.models import Submission
from grading.reports import event_grading_report
from tests.builders.events import open_event_exercise
from tests.builders.people import make_organizer, make_participant

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def record(event_exercise, person, **fields) -> Submission:
    return Submission.objects.create(event_exercise=event_exercise, participant=person, notebook="x.ipynb", **fields)


def test_attendance_counts_confirmed_participants_who_submitted_at_least_once():
    event_exercise = open_event_exercise()
    event = event_exercise.event
    active, failing, absent = (make_participant(event) for _ in range(3))
    record(event_exercise, active, status="scored", score=0.8)
    record(event_exercise, active, status="scored", score=0.9)
    record(event_exercise, failing, status="failed", reason="exception")
    record(event_exercise, absent, status="scored", score=0.7, kind="check")  # a free check is not attendance
    report = event_grading_report(event)
    assert (report.confirmed, report.attended) == (3, 2)
    assert report.absent_emails == [absent.email]
    [exercise] = report.exercises
    assert sum(bar.value for bar in exercise.per_day.bars) == 3
    assert sum(bar.value for bar in exercise.scores.bars) == 1  # one participant has a scored best


def test_only_organizers_open_the_grading_report(client):
    event_exercise = open_event_exercise()
    event = event_exercise.event
    url = reverse("grading:event_report_grading", args=[event.slug])
    client.force_login(make_participant(event))
    assert client.get(url).status_code == 403
    client.force_login(make_organizer(event))
    page = client.get(url)
    assert page.status_code == 200 and b"submitted at least once" in page.content


def test_auc_buckets_span_the_metrics_range_not_the_scores_spread():
    from grading.reports import score_bins

    bins = score_bins([0.999, 0.999], lowest=0.0, highest=1.0)
    assert list(bins)[0] == "0 – 0.1" and list(bins)[-1] == "0.9 – 1"
    assert bins["0.9 – 1"] == 2 and sum(bins.values()) == 2


def test_an_unbounded_loss_runs_up_to_a_round_number_above_the_largest_score():
    from grading.reports import score_bins

    bins = score_bins([0.012, 0.034, 0.041], lowest=0.0, highest=None)
    assert list(bins)[-1] == "0.045 – 0.05"
    assert sum(bins.values()) == 3
