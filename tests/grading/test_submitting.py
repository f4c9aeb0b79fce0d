"""A participant's upload is checked, recorded, counted against the daily quota and queued after commit."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from grading import services
from grading.errors import ExerciseNotOpen, NotebookInvalid, QuotaExceeded, SubmissionRefused
from grading.models import Submission
from tests.builders.events import open_event_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import make_user, participant_of

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


@pytest.fixture
def no_queue():
    """Record what would be queued instead of sending it."""
    with mock.patch("grading.services.enqueue") as enqueue:
        yield enqueue


def submit(event_exercise, person, raw=None, **kw):
    return services.submit_notebook(
        participant=person,
        event_exercise=event_exercise,
        raw=notebook_bytes(CONSTANT_SCORES) if raw is None else raw,
        **kw,
    )


def test_a_submission_is_recorded_queued_and_sent_only_after_commit(no_queue, django_capture_on_commit_callbacks):
    event_exercise = open_event_exercise()
    person = participant_of(event_exercise)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submission = submit(event_exercise, person)
        assert not no_queue.called
    assert submission.status == Submission.Status.QUEUED
    assert submission.queue == "cpu"
    assert len(callbacks) == 1
    callbacks[0]()
    no_queue.assert_called_once_with(submission)


def test_outputs_are_stripped_before_the_notebook_is_stored(no_queue):
    import nbformat

    event_exercise = open_event_exercise()
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('hello')", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="a secret left in the output\n")]
    notebook.cells = [cell]
    submission = submit(event_exercise, participant_of(event_exercise), nbformat.writes(notebook).encode())
    stored = nbformat.reads(submission.notebook.read().decode(), as_version=4)
    assert stored.cells[0].outputs == [] and stored.cells[0].execution_count is None
    assert stored.cells[0].source == "print('hello')"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "The file is empty"),
        (b"\xff\xfe\x00binary", "not text"),
        (b"print('a script, not a notebook')", "not a Jupyter notebook"),
        (b'{"cells": "not a list", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "cannot be read"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}', "no code to run"),
    ],
)
def test_a_malformed_upload_is_refused_with_a_clear_message_and_nothing_is_recorded(no_queue, raw, message):
    event_exercise = open_event_exercise()
    with pytest.raises(NotebookInvalid, match=message):
        submit(event_exercise, participant_of(event_exercise), raw)
    assert Submission.objects.count() == 0
    assert not no_queue.called


def test_an_upload_over_the_size_cap_is_refused(no_queue, settings):
    settings.SUBMISSION_MAX_BYTES = 2048
    event_exercise = open_event_exercise()
    big = notebook_bytes(CONSTANT_SCORES, "x = '" + "a" * 4000 + "'")
    with pytest.raises(NotebookInvalid, match="over the limit"):
        submit(event_exercise, participant_of(event_exercise), big)
    assert Submission.objects.count() == 0


def test_someone_who_is_not_a_confirmed_participant_cannot_submit(no_queue):
    event_exercise = open_event_exercise()
    with pytest.raises(SubmissionRefused, match="Only confirmed participants"):
        submit(event_exercise, make_user())
    assert Submission.objects.count() == 0


def test_a_closed_exercise_takes_no_submission(no_queue):
    now = timezone.now()
    event_exercise = open_event_exercise(opens_at=now - dt.timedelta(days=2), closes_at=now - dt.timedelta(days=1))
    with pytest.raises(ExerciseNotOpen, match="takes submissions from"):
        submit(event_exercise, participant_of(event_exercise))
    assert Submission.objects.count() == 0


def test_the_quota_counts_failed_and_invalid_submissions_but_not_platform_failures(no_queue):
    event_exercise = open_event_exercise(submissions_per_day=3)
    person = participant_of(event_exercise)
    first, second = submit(event_exercise, person), submit(event_exercise, person)
    Submission.objects.filter(pk=first.pk).update(status="invalid", reason="predictions")
    Submission.objects.filter(pk=second.pk).update(status="failed", reason="infrastructure")
    assert services.remaining_today(participant=person, event_exercise=event_exercise) == 2
    submit(event_exercise, person)
    submit(event_exercise, person)
    assert services.remaining_today(participant=person, event_exercise=event_exercise) == 0
    with pytest.raises(QuotaExceeded, match="used all 3 submissions for today"):
        submit(event_exercise, person)
    assert Submission.objects.filter(participant=person).count() == 4


def test_free_check_runs_use_no_quota_but_only_one_waits_at_a_time(no_queue):
    event_exercise = open_event_exercise(submissions_per_day=1)
    person = participant_of(event_exercise)
    check = submit(event_exercise, person, kind=Submission.Kind.CHECK)
    assert services.remaining_today(participant=person, event_exercise=event_exercise) == 1
    with pytest.raises(SubmissionRefused, match="check run of yours is already waiting"):
        submit(event_exercise, person, kind=Submission.Kind.CHECK)
    Submission.objects.filter(pk=check.pk).update(status="scored")
    submit(event_exercise, person, kind=Submission.Kind.CHECK)
    submit(event_exercise, person)
    assert services.remaining_today(participant=person, event_exercise=event_exercise) == 0


def test_yesterdays_submissions_do_not_count_today(no_queue):
    event_exercise = open_event_exercise(submissions_per_day=1)
    person = participant_of(event_exercise)
    old = submit(event_exercise, person)
    Submission.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=1, hours=1))
    assert services.remaining_today(participant=person, event_exercise=event_exercise) == 1
