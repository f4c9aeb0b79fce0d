"""Every CSV export is data: text that a spreadsheet would run as a formula arrives as plain text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from django.db import transaction
from django.test import Client

from hackathon.models import Registration
from hackathon.spreadsheets import FORMULA_STARTS, as_text
from tests.builders.world import World

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

HOSTILE = '=HYPERLINK("http://evil.example","Click")'


@pytest.fixture
def hostile_participant(world: World) -> Iterator[World]:
    """Give participant_a a name and affiliation that are formulas, and an odd structure code, for one test."""
    with transaction.atomic():
        person = world.people["participant_a"]
        person.first_name, person.last_name = "=1+2", "@SUM(A1)"
        person.save(update_fields=["first_name", "last_name"])
        Registration.objects.filter(event=world.event_a, user=person).update(
            affiliation="-2+3", affiliation_other=HOSTILE
        )
        yield world
        transaction.set_rollback(True)


def _cells(client: Client, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]


def _formulas(cells: list[str]) -> list[str]:
    return [cell for cell in cells if cell.startswith(FORMULA_STARTS) and not _is_number(cell)]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_the_registrations_export_writes_a_registrants_formula_as_text(
    hostile_participant: World, clients: dict[str, Client]
) -> None:
    # The found case: free text starting with "=" went out as a live formula.
    cells = _cells(clients["organizer_a"], f"/events/{hostile_participant.event_a.slug}/registrations.csv")
    assert not _formulas(cells), _formulas(cells)
    assert "'=1+2 @SUM(A1)" in cells


def test_the_boards_export_writes_a_participants_formula_name_as_text(
    hostile_participant: World, clients: dict[str, Client]
) -> None:
    cells = _cells(clients["organizer_a"], f"/events/{hostile_participant.event_a.slug}/boards.csv")
    assert not _formulas(cells), _formulas(cells)
    assert "'=1+2 @SUM(A1)" in cells


def test_the_report_export_writes_a_formula_label_as_text(
    hostile_participant: World, clients: dict[str, Client]
) -> None:
    cells = _cells(clients["organizer_a"], f"/events/{hostile_participant.event_a.slug}/report.csv")
    assert not _formulas(cells), _formulas(cells)
    assert "'-2+3" in cells


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_text_starting_a_formula_gets_an_apostrophe_and_numbers_stay_numbers(start: str) -> None:
    assert as_text(f"{start}cmd|' /C calc'!A0") == f"'{start}cmd|' /C calc'!A0"
    assert as_text("Ada Rossi") == "Ada Rossi"
    assert as_text(-0.25) == -0.25  # a negative score is data


def test_no_export_writes_csv_around_the_safe_writer() -> None:
    # A new export that calls csv.writer itself would skip the neutralizing; the bundles' data generators write
    # data files for notebooks, not exports for people.
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    writers = [
        str(path.relative_to(root))
        for app in ("hackathon", "grading", "exercises")
        for path in (root / app).rglob("*.py")
        if "csv.writer(" in path.read_text() and "bundles" not in path.parts and path.name != "spreadsheets.py"
    ]
    assert not writers, f"Write CSV exports with hackathon.spreadsheets.csv_writer: {writers}"
