"""Access follows the live facts: a person who moves between groups, or loses a role or a place, is answered anew.

Each scenario changes the world the way the site's own services do, then visits every page and API operation of
the authorization table again as the people the move concerns; what they should now get is derived from the table
itself (a tutor who took over group Y answers as tutor_y did; an organizer who lost the role as organizer_b does).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client

from hackathon import services
from hackathon.models import EventRole, Registration
from tests.builders.world import World
from tests.security.test_authorization_matrix import EXPECTED, ROLES, Outcome, site_routes, visit

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

Expectation = Callable[[str, str, tuple[Outcome, ...]], dict[str, Outcome]]


def _names_participant_as_objects(route: str) -> bool:
    """Whether the route names participant_a's submission or help request."""
    return "<uuid:uid>" in route or "help/<int:pk>" in route


def _column(row: tuple[Outcome, ...], role: str) -> Outcome:
    return row[ROLES.index(role)]


def _participant_moves_to_group_y(world: World) -> None:
    registration = Registration.objects.get(event=world.event_a, user=world.people["participant_a"])
    services.move_participant(event=world.event_a, registration=registration, group=world.group_y)


def _after_participant_moves(route: str, method: str, row: tuple[Outcome, ...]) -> dict[str, Outcome]:
    if _names_participant_as_objects(route):  # group Y's tutor takes over what group X's tutor had
        return {"tutor_x": _column(row, "tutor_y"), "tutor_y": _column(row, "tutor_x")}
    if route == "events/<slug:slug>/groups/<int:number>/":  # group X is no longer theirs
        return {"participant_a": 404, "tutor_x": _column(row, "tutor_x"), "tutor_y": _column(row, "tutor_y")}
    return {role: _column(row, role) for role in ("participant_a", "tutor_x", "tutor_y")}


def _tutor_moves_to_group_y(world: World) -> None:
    services.move_tutor(
        event=world.event_a, tutor=world.people["tutor_x"], from_group=world.group_x, to_group=world.group_y
    )


def _after_tutor_moves(route: str, method: str, row: tuple[Outcome, ...]) -> dict[str, Outcome]:
    return {"tutor_x": _column(row, "tutor_y"), "tutor_y": _column(row, "tutor_y")}


def _organizer_loses_the_role(world: World) -> None:
    EventRole.objects.filter(
        event=world.event_a, user=world.people["organizer_a"], role=EventRole.Role.ORGANIZER
    ).delete()


def _after_organizer_leaves(route: str, method: str, row: tuple[Outcome, ...]) -> dict[str, Outcome]:
    # organizer_b still organizes event B; organizer_a now organizes nothing, so may neither compare nor upload
    if route in ("editions/", "exercises/upload/"):
        return {"organizer_a": 403}
    return {"organizer_a": _column(row, "organizer_b")}


def _participant_cancels(world: World) -> None:
    registration = Registration.objects.get(event=world.event_a, user=world.people["participant_a"])
    services.cancel_registration(registration=registration)


def _after_participant_cancels(route: str, method: str, row: tuple[Outcome, ...]) -> dict[str, Outcome]:
    # Group X's tutor no longer follows someone who left; the organizers still see what was sent.
    if _names_participant_as_objects(route):
        return {"tutor_x": _column(row, "tutor_y"), "organizer_a": _column(row, "organizer_a")}
    return {"tutor_x": _column(row, "tutor_x")}


SCENARIOS: dict[str, tuple[Callable[[World], None], Expectation]] = {
    "participant_a moves from group X to group Y": (_participant_moves_to_group_y, _after_participant_moves),
    "tutor_x moves from group X to group Y": (_tutor_moves_to_group_y, _after_tutor_moves),
    "organizer_a stops organizing event A": (_organizer_loses_the_role, _after_organizer_leaves),
    "participant_a cancels the registration": (_participant_cancels, _after_participant_cancels),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_after_a_move_every_page_and_api_answer_follows_the_new_facts(
    world: World, clients: dict[str, Client], figure_on_disk: Path, scenario: str
) -> None:
    change, expectation = SCENARIOS[scenario]
    wrong = []
    with transaction.atomic():
        change(world)
        for route in site_routes():
            if route.startswith("admin/"):
                continue
            for method, row in EXPECTED.get(route, {}).items():
                for role, want in expectation(route, method, row).items():
                    with transaction.atomic():
                        got = visit(world, clients[role], route, method)
                        transaction.set_rollback(True)
                    if got != want:
                        wrong.append(f"{method} /{route} as {role}: expected {want!r}, got {got!r}")
        transaction.set_rollback(True)
    assert not wrong, f"After '{scenario}':\n" + "\n".join(wrong)


def test_a_help_request_raised_in_group_x_goes_to_group_ys_tutor_after_the_move(
    world: World, clients: dict[str, Client]
) -> None:
    # The found case: the old tutor could still read and answer, the new one could not.
    path = f"/events/{world.event_a.slug}/help/{world.help_request_a.pk}/"
    with transaction.atomic():
        _participant_moves_to_group_y(world)
        old = clients["tutor_x"].get(path).status_code
        new = clients["tutor_y"].get(path).status_code
        old_answer = clients["tutor_x"].post(path + "answer/", {"text": "Try a smaller batch size."}).status_code
        queue = clients["tutor_y"].get(f"/events/{world.event_a.slug}/tutor/help/").content.decode()
        transaction.set_rollback(True)
    assert (old, new, old_answer) == (404, 200, 404)
    assert f'href="{path}"' in queue  # and it waits in the new tutor's queue
