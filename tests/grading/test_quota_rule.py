"""The quota rule asked of the database (counting_toward_quota) agrees with the one asked of a submission."""

from __future__ import annotations

import itertools

import pytest

from grading.models import Submission
from tests.builders.events import open_event_exercise
from tests.builders.people import participant_of

pytestmark = pytest.mark.django_db


def test_the_queryset_keeps_exactly_the_submissions_that_count_toward_the_quota() -> None:
    event_exercise = open_event_exercise()
    participant = participant_of(event_exercise)
    for kind, status, reason in itertools.product(
        Submission.Kind.values,
        (Submission.Status.SCORED, Submission.Status.FAILED, Submission.Status.INVALID),
        ("", Submission.Reason.INFRASTRUCTURE, Submission.Reason.EXCEPTION),
    ):
        Submission.objects.create(
            event_exercise=event_exercise, participant=participant, kind=kind, status=status, reason=reason
        )
    every = list(Submission.objects.all())
    counted = set(Submission.objects.counting_toward_quota().values_list("pk", flat=True))
    assert counted == {s.pk for s in every if s.counts_toward_quota}
    assert 0 < len(counted) < len(every)
