"""Two tutors taking one request at once, or two clicks raising one twice, leave one claim and one request."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from grading.errors import HelpRequestRefused
from grading.models import HelpRequest
from grading.tutoring import services as help_requests
from tests.builders.casts import make_setting
from tests.builders.people import make_tutor, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.production_profile]


def at_once(actions: list[Callable[[], object]]) -> list[str]:
    """Run the actions in threads released together; return 'ok' or the refusal's message for each."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = []

    def run(action: Callable[[], object]) -> None:
        barrier.wait()
        try:
            action()
            outcomes.append("ok")
        except HelpRequestRefused as refusal:
            outcomes.append(refusal.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL for concurrent writers; this run uses {connection.vendor}")


def test_tutors_claiming_one_request_at_once_leave_exactly_one_claim():
    needs_postgresql()
    setting = make_setting()
    tutors = [setting.tutor] + [make_tutor(setting.event, make_user()) for _ in range(4)]
    setting.group.tutors.add(*tutors)
    request = help_requests.raise_help_request(
        participant=setting.ada, event=setting.event, message="Everybody wants this one."
    )
    outcomes = at_once([lambda t=t: help_requests.claim_help_request(help_request=request, tutor=t) for t in tutors])
    assert outcomes.count("ok") == 1
    assert all("already taken" in o for o in outcomes if o != "ok")
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.CLAIMED and request.claimed_by in tutors


def test_raising_twice_at_once_records_one_request():
    needs_postgresql()
    setting = make_setting()
    outcomes = at_once(
        [
            lambda: help_requests.raise_help_request(
                participant=setting.ada, event=setting.event, message="Double click on Ask for help."
            )
            for _ in range(4)
        ]
    )
    assert outcomes.count("ok") == 1
    assert HelpRequest.objects.filter(participant=setting.ada).count() == 1
