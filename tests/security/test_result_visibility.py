"""What each person sees of a result is decided once (grading.permissions.visible_result) and every output agrees.

The submission of participant_a gets a private score and a secondary metric on the private part; the API, the
submission page, its status fragment and every other page, fragment, JSON answer and CSV export the eight people of
the authorization table may open are compared with the policy: only event A's organizers and staff see them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction
from django.test import Client

from exercises.metrics import value_label
from grading.models import Submission
from grading.permissions import visible_result
from tests.builders.world import World
from tests.security.test_authorization_matrix import ROLES, read, readable_outputs

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

SECONDARY = {"anomaly_auc": 0.6180339, "anomaly_auc_private": 0.2718281}
PRIVATE_SCORE = 0.3141592
# How the private values would show anywhere: the key, and the numbers as JSON, CSV or a page would print them.
PRIVATE_TRACES = ("anomaly_auc_private", "0.2718", "0.314")
SEES_PRIVATE = {"organizer_a", "staff"}


@pytest.fixture
def private_parts(world: World) -> Iterator[Submission]:
    """Give participant_a's submission a private score and a private secondary metric, for this test only."""
    with transaction.atomic():
        Submission.objects.filter(pk=world.submission_a.pk).update(secondary=SECONDARY, private_score=PRIVATE_SCORE)
        yield Submission.objects.select_related("event_exercise__event").get(pk=world.submission_a.pk)
        transaction.set_rollback(True)


@pytest.mark.parametrize("role", ROLES)
def test_the_policy_shows_the_private_part_only_to_the_events_organizers_and_staff(
    world: World, private_parts: Submission, role: str
) -> None:
    from django.contrib.auth.models import AnonymousUser

    result = visible_result(private_parts, world.people[role] or AnonymousUser())
    if role in SEES_PRIVATE:
        assert (result.private_score, result.secondary) == (PRIVATE_SCORE, SECONDARY)
    else:
        assert (result.private_score, result.secondary) == (None, {"anomaly_auc": 0.6180339})
    assert result.score == private_parts.score


@pytest.mark.parametrize("role", ["participant_a", "tutor_x", "organizer_a", "staff"])
def test_the_api_shows_of_a_submission_exactly_what_the_policy_allows(
    world: World, clients: dict[str, Client], private_parts: Submission, role: str
) -> None:
    result = visible_result(private_parts, world.people[role])
    body = clients[role].get(f"/api/v1/submissions/{private_parts.uid}/").json()
    assert body["score"] == result.score
    assert body["private_score"] == result.private_score
    assert body["secondary"] == result.secondary


def test_the_api_list_of_my_submissions_holds_no_private_part(
    clients: dict[str, Client], private_parts: Submission
) -> None:
    listed = clients["participant_a"].get("/api/v1/submissions/").json()["results"]
    mine = next(row for row in listed if row["uid"] == str(private_parts.uid))
    assert mine["private_score"] is None
    assert mine["secondary"] == {"anomaly_auc": 0.6180339}


@pytest.mark.parametrize("role", ["participant_a", "tutor_x", "organizer_a", "staff"])
def test_the_submission_page_and_its_status_fragment_show_what_the_policy_allows(
    world: World, clients: dict[str, Client], private_parts: Submission, role: str
) -> None:
    result = visible_result(private_parts, world.people[role])
    for path in (f"/submissions/{private_parts.uid}/", f"/submissions/{private_parts.uid}/status/"):
        page = clients[role].get(path).content.decode()
        for name in SECONDARY:
            shown = f"<p>{value_label(name)}: " in page
            assert shown == (name in result.secondary), f"{path} as {role}: {name}"
        assert ("private score: 0.3142" in page) == (result.private_score is not None), f"{path} as {role}"


@pytest.mark.parametrize("role", [r for r in ROLES if r not in SEES_PRIVATE])
def test_no_output_shows_the_private_part_to_anyone_but_the_organizers_before_the_reveal(
    world: World, clients: dict[str, Client], private_parts: Submission, role: str
) -> None:
    paths = readable_outputs(world, role)
    assert paths or role == "anonymous"
    leaks = {}
    for path in paths:
        text = read(clients[role], path)
        found = [trace for trace in PRIVATE_TRACES if trace in text]
        if found:
            leaks[path] = found
    assert not leaks, f"The private part reaches {role}: {leaks}"


def test_the_organizers_outputs_do_show_the_private_part(
    world: World, clients: dict[str, Client], private_parts: Submission
) -> None:
    # The scan above would pass on outputs that show nothing at all: the organizers' own do show the values.
    page = clients["organizer_a"].get(f"/submissions/{private_parts.uid}/").content.decode()
    api = clients["organizer_a"].get(f"/api/v1/submissions/{private_parts.uid}/").content.decode()
    assert all(trace in page + api for trace in PRIVATE_TRACES)
