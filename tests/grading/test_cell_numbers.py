"""A failing cell is named by the same number everywhere: the page counts every cell it shows, from 1."""

from __future__ import annotations

import pytest
from django.urls import reverse

from exercises.notebook_html import notebook_html
from grading.models import Submission
from tests.builders.casts import make_setting
from tests.builders.submissions import submission

pytestmark = pytest.mark.django_db

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "source": "# Read the data"},
        {"cell_type": "code", "source": "rows = load()", "outputs": []},
        {"cell_type": "code", "source": "radii = [r['radius'] for r in rows]", "outputs": []},
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_the_page_numbers_every_cell_it_shows_from_one():
    html = notebook_html(NOTEBOOK, failed_cell=2)
    assert [f"Cell {n}" in html for n in (1, 2)] == [True, True]
    assert 'aria-label="Failing cell 3"' in html and ">Failing cell 3<" in html


def test_the_message_link_and_tutor_table_use_the_pages_numbers(client):
    setting = make_setting()
    failed = submission(
        setting.event_exercise,
        setting.ada,
        Submission.Status.FAILED,
        reason=Submission.Reason.EXCEPTION,
        message="Cell 2 raised KeyError: 'radius'",
        failed_cell=2,
        executed_notebook=NOTEBOOK,
    )
    client.force_login(setting.ada)
    page = client.get(reverse("grading:submission_detail", args=[failed.uid])).content.decode()
    assert "Cell 3 raised KeyError" in page and "Cell 2 raised" not in page
    assert "Go to the failing cell (cell 3)" in page and ">Failing cell 3<" in page
    client.force_login(setting.tutor)
    groups = client.get(reverse("grading:tutor_dashboard_groups", args=[setting.event.slug])).content.decode()
    assert "<td>3</td>" in groups
