"""Render a board's rows once per computed board, so a room of browsers polling it costs one rendering."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django import template
from django.template.loader import get_template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from grading.boards.ranking import Board

register = template.Library()

ROW_TEMPLATE = "grading/boards/_board_row.html"
# Rendered rows of the boards this process served lately; a board's key changes whenever it is computed again.
_RENDERED: OrderedDict[tuple[Any, ...], tuple[str, ...]] = OrderedDict()
_KEEP = 64


def rendered_rows(board: Board, *, is_organizer: bool) -> tuple[str, ...]:
    """Return each row of the board as HTML, none marked as the viewer's, rendering each board only once."""
    key = (board.event_exercise_id, board.audience, board.part, board.ranking, board.generated_at, is_organizer)
    rows = _RENDERED.get(key)
    if rows is None:
        row_template = get_template(ROW_TEMPLATE)
        rows = tuple(row_template.render({"row": row, "is_organizer": is_organizer}) for row in board.rows)
        _RENDERED[key] = rows
        while len(_RENDERED) > _KEEP:
            _RENDERED.popitem(last=False)
    return rows


@register.simple_tag(takes_context=True)
def board_rows(context: template.Context, board: Board, is_organizer: bool = False) -> SafeString:
    """Render the board's rows, marking the viewer's own (aria-current and "(you)")."""
    user = context.get("user")
    viewer_id = user.pk if user is not None and user.is_authenticated else None
    rows = list(rendered_rows(board, is_organizer=bool(is_organizer)))
    for index, row in enumerate(board.rows):
        if viewer_id is not None and row.rank is not None and row.participant_id == viewer_id:
            rows[index] = get_template(ROW_TEMPLATE).render({"row": row, "is_organizer": is_organizer, "you": True})
    return format_html_join("", "{}", ((row,) for row in rows))  # rendered rows are safe strings: kept as they are
