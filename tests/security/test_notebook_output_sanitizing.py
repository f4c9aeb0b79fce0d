"""An executed notebook's outputs reach the page with nothing that runs script, loads from elsewhere or restyles it."""

from __future__ import annotations

import pytest

from exercises.notebook_html import notebook_html
from tests.security.hostile_outputs import HOSTILE_HTML, active_content, hostile_notebook


def _one_output(html: str) -> dict:
    output = {"output_type": "display_data", "data": {"text/html": html}, "metadata": {}}
    return {"cells": [{"cell_type": "code", "source": "show()", "outputs": [output]}]}


@pytest.mark.parametrize("html", HOSTILE_HTML)
def test_a_hostile_html_output_leaves_nothing_executable(html: str) -> None:
    rendered = str(notebook_html(_one_output(html)))
    assert active_content(rendered, notebook=True) == [], rendered


def test_a_whole_hostile_notebook_renders_without_active_content() -> None:
    rendered = str(notebook_html(hostile_notebook(), failed_cell=1))
    assert active_content(rendered, notebook=True) == []
    assert "alert(2)" not in rendered.replace("&lt;script&gt;alert(2)", "")  # the SVG's script is only in base64


def test_an_svg_output_is_shown_only_as_an_image_whose_script_cannot_run() -> None:
    rendered = str(notebook_html(hostile_notebook()))
    assert 'src="data:image/svg+xml;base64,' in rendered
    assert "<svg" not in rendered


def test_a_png_output_that_is_not_base64_is_left_out_with_a_note() -> None:
    rendered = str(notebook_html(hostile_notebook()))
    assert "an image that is not valid base64 was left out" in rendered


def test_the_scan_itself_finds_each_kind_of_active_content() -> None:
    # The scan must be able to fail: each raw attack, unsanitized, is reported.
    for html in HOSTILE_HTML:
        assert active_content(html, notebook=True), html
