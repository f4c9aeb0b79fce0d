"""Per-event GPU budgets: GPU-seconds per participant or group per day, refused with a sentence when spent."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

import sandbox
from exercises.models import Exercise
from grading import gpu_budget, services
from grading.api_auth import create_token
from grading.errors import GpuBudgetSpent
from grading.models import Submission
from grading.reports import event_grading_report
from hackathon.models import Event, Group, Registration
from tests.builders.events import make_event, open_exercise
from tests.builders.exercises import make_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import PASSWORD, make_organizer, make_participant

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]
WALL = 600


def gpu_event(budget: int | None = 1000, per: str = Event.GpuBudgetPer.PARTICIPANT):  # type: ignore[no-untyped-def]
    event = make_event(compute=Event.Compute.GPU, gpu_seconds_per_day=budget, gpu_budget_per=per)
    exercise = make_exercise()
    Exercise.objects.filter(pk=exercise.pk).update(device=Exercise.Device.GPU, wall_seconds=WALL)
    return open_exercise(event, Exercise.objects.get(pk=exercise.pk))


def submit(event_exercise, participant, kind=Submission.Kind.GRADED) -> Submission:  # type: ignore[no-untyped-def]
    with mock.patch("grading.services.enqueue"):
        return services.submit_notebook(
            participant=participant, event_exercise=event_exercise, raw=notebook_bytes(CONSTANT_SCORES), kind=kind
        )


def graded_with(submission: Submission, grading: services.Grading, seen: list[float] | None = None) -> Submission:
    """Run the worker's grading of the submission with the sandbox's result given; record the budget mid-run."""

    def run(*args, **kwargs):  # type: ignore[no-untyped-def]
        if seen is not None:
            event = submission.event_exercise.event
            seen.append(gpu_budget.gpu_budget(event=event, participant=submission.participant).used_s)
        return grading

    with (
        mock.patch("grading.services.dataset_for", return_value=("data", "answers")),
        mock.patch("grading.services.run_and_score", side_effect=run),
        mock.patch("grading.services.enqueue"),
    ):
        services.grade_submission(submission.pk)
    submission.refresh_from_db()
    return submission


def ran_for(seconds: float) -> services.Grading:
    """A run that used `seconds` and failed in the participant's code: charged like any other that ran."""
    result = sandbox.Result(outcome=sandbox.Outcome.ERROR, duration_s=seconds, message="The notebook raised.")
    return services.Grading(
        status=Submission.Status.FAILED, reason=Submission.Reason.EXCEPTION, message="It raised.", result=result
    )


def platform_failed() -> services.Grading:
    result = sandbox.Result(outcome=sandbox.Outcome.INFRASTRUCTURE, duration_s=3.0, message="no GPU answered")
    return services.Grading(
        status=Submission.Status.FAILED,
        reason=Submission.Reason.INFRASTRUCTURE,
        message=services.INFRASTRUCTURE_MESSAGE,
        result=result,
    )


def used(event_exercise, participant) -> float:  # type: ignore[no-untyped-def]
    return gpu_budget.gpu_budget(event=event_exercise.event, participant=participant).used_s


def test_a_run_the_budget_cannot_cover_is_refused_saying_when_it_renews():
    event_exercise = gpu_event(budget=1000)
    person = make_participant(event_exercise.event)
    submit(event_exercise, person)  # holds its 600 s while it waits
    with pytest.raises(GpuBudgetSpent) as refused:
        submit(event_exercise, person, kind=Submission.Kind.CHECK)
    message = refused.value.message
    assert "600 of 1000 GPU-seconds" in message and "may take 600 s" in message
    assert "renews at 00:00 on" in message and "submit again then" in message
    assert Submission.objects.filter(participant=person).count() == 1


def test_a_gpu_run_is_charged_its_time_limit_while_it_runs_and_the_time_it_used_when_it_ends():
    event_exercise = gpu_event(budget=1000)
    person = make_participant(event_exercise.event)
    seen: list[float] = []
    finished = graded_with(submit(event_exercise, person), ran_for(42.5), seen)
    assert seen == [WALL]  # charged the time limit while running
    assert finished.gpu_seconds == 42.5
    assert used(event_exercise, person) == 42.5
    submit(event_exercise, person)  # 42.5 + 600 fits in 1000 again


def test_a_run_the_platform_failed_is_not_charged():
    event_exercise = gpu_event(budget=1000)
    person = make_participant(event_exercise.event)
    retried = graded_with(submit(event_exercise, person), platform_failed())
    assert (retried.status, retried.gpu_seconds) == (Submission.Status.QUEUED, None)
    assert used(event_exercise, person) == WALL  # only its hold while queued again, not the failed run too


def test_a_run_failed_for_good_by_the_platform_costs_nothing(settings):
    settings.GRADING_MAX_ATTEMPTS = 1
    event_exercise = gpu_event(budget=1000)
    person = make_participant(event_exercise.event)
    final = graded_with(submit(event_exercise, person), platform_failed())
    assert (final.status, final.reason, final.gpu_seconds) == ("failed", "infrastructure", 0.0)
    assert used(event_exercise, person) == 0


def test_the_reaper_takes_back_the_charge_of_a_run_whose_worker_died(settings):
    event_exercise = gpu_event(budget=1000)
    person = make_participant(event_exercise.event)
    submission = submit(event_exercise, person)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Submission.objects.filter(pk=submission.pk).update(
        status="running", started_at=long_ago, heartbeat_at=long_ago, gpu_seconds=WALL
    )
    with mock.patch("grading.services.enqueue"):
        assert services.requeue_stuck_submissions() == [submission.pk]
    assert Submission.objects.get(pk=submission.pk).gpu_seconds is None
    assert used(event_exercise, person) == WALL  # queued again: held once, not twice


def test_the_budget_renews_each_day():
    event_exercise = gpu_event(budget=1000)
    person = make_participant(event_exercise.event)
    yesterday = timezone.now() - dt.timedelta(days=1)
    Submission.objects.create(
        event_exercise=event_exercise,
        participant=person,
        queue="gpu",
        status=Submission.Status.SCORED,
        started_at=yesterday,
        finished_at=yesterday,
        gpu_seconds=990,
    )
    budget = gpu_budget.gpu_budget(event=event_exercise.event, participant=person)
    assert budget.used_s == 0 and budget.remaining_s == 1000
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    assert budget.renews_at == midnight
    submit(event_exercise, person)
    # The same charge made today counts.
    Submission.objects.filter(gpu_seconds=990).update(started_at=timezone.now())
    assert used(event_exercise, person) == 990 + WALL


def test_a_group_budget_is_shared_by_its_members_and_a_member_without_a_group_has_their_own():
    event_exercise = gpu_event(budget=1000, per=Event.GpuBudgetPer.GROUP)
    event = event_exercise.event
    team = Group.objects.create(event=event, event_exercise=event_exercise, number=1)
    ada, bea, solo = (make_participant(event) for _ in range(3))
    Registration.objects.filter(event=event, user__in=[ada, bea]).update(group=team)
    submit(event_exercise, ada)
    with pytest.raises(GpuBudgetSpent, match="Your group's GPU time"):
        submit(event_exercise, bea)
    submit(event_exercise, solo)


def test_without_a_budget_or_on_a_cpu_exercise_nothing_is_refused():
    unlimited = gpu_event(budget=None)
    person = make_participant(unlimited.event)
    for _ in range(3):
        submit(unlimited, person)
    assert gpu_budget.gpu_budget(event=unlimited.event, participant=person) is None
    cpu_event = make_event(gpu_seconds_per_day=1)
    cpu_exercise = open_exercise(cpu_event)
    submit(cpu_exercise, make_participant(cpu_event))


def test_participants_see_their_gpu_time_on_the_exercise_page_and_in_the_api(client):
    event_exercise = gpu_event(budget=1000)
    person = make_participant(event_exercise.event)
    graded_with(submit(event_exercise, person), ran_for(100))
    client.login(username=person.username, password=PASSWORD)
    page = client.get(
        reverse("grading:event_exercise", args=[event_exercise.event.slug, event_exercise.exercise.slug])
    ).content.decode()
    assert 'id="gpu-budget"' in page and "<strong>900 s</strong> of 1000 s" in page and "renews at 00:00" in page
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {create_token(user=person, name='tests').secret}")
    body = api.get(f"/api/v1/events/{event_exercise.event.slug}/exercises/{event_exercise.exercise.slug}/").json()
    assert body["gpu_budget"]["limit_seconds"] == 1000
    assert body["gpu_budget"]["used_seconds"] == 100 and body["gpu_budget"]["remaining_seconds"] == 900
    assert body["gpu_budget"]["shared_with_group"] is False


def test_organizers_see_each_participant_s_gpu_time_today_in_the_report(client):
    event_exercise = gpu_event(budget=1000)
    event = event_exercise.event
    person = make_participant(event)
    graded_with(submit(event_exercise, person), ran_for(250))
    [use] = event_grading_report(event).gpu_today
    assert (use.who, use.used_s, use.limit_s) == (person.email, 250, 1000)
    organizer = make_organizer(event)
    client.login(username=organizer.username, password=PASSWORD)
    page = client.get(reverse("grading:event_report_grading", args=[event.slug])).content.decode()
    assert 'id="gpu-today"' in page and person.email in page and "<td>250</td>" in page


def test_organizers_set_the_daily_gpu_budget_in_the_event_form(client):
    from tests.builders.people import make_user
    from tests.events.test_event_pages import event_fields

    client.force_login(make_user(staff=True))
    client.post(reverse("hackathon:event_create"), event_fields(gpu_seconds_per_day="3600", gpu_budget_per="group"))
    event = Event.objects.get(slug="advanced-bari")
    assert (event.gpu_seconds_per_day, event.gpu_budget_per) == (3600, Event.GpuBudgetPer.GROUP)
    client.post(reverse("hackathon:event_create"), event_fields(slug="advanced-bari-2"))
    unlimited = Event.objects.get(slug="advanced-bari-2")
    assert (unlimited.gpu_seconds_per_day, unlimited.gpu_budget_per) == (None, Event.GpuBudgetPer.PARTICIPANT)
