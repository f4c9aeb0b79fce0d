"""Render a notebook as safe HTML: no script, style or event handler from any cell or output reaches the page."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import mistune
import nh3
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_TEXT_CHARS = 20_000
MAX_IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
_markdown = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])


def _text(value: Any) -> str:
    text = "".join(value) if isinstance(value, list) else str(value or "")
    text = ANSI_ESCAPE.sub("", text)
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + f"\n… ({len(text) - MAX_TEXT_CHARS} more characters not shown)"
    return text


def _pre(text: str, css: str = "") -> str:
    return str(format_html('<pre class="{}">{}</pre>', css, text))


def _image(mime: str, data: Any) -> str:
    raw = _text(data).strip() if mime != "image/svg+xml" else ""
    if mime == "image/svg+xml":
        # An SVG shown through <img> cannot run scripts; encode it ourselves.
        payload = base64.b64encode(_text(data).encode()).decode()
    else:
        try:
            decoded = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return _pre("[an image that is not valid base64 was left out]", "output-note")
        if len(decoded) > MAX_IMAGE_BYTES:
            return _pre("[an image over 2 MB was left out]", "output-note")
        payload = base64.b64encode(decoded).decode()
    return f'<img alt="Cell output image" src="data:{mime};base64,{payload}">'


def _output(output: dict[str, Any]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return _pre(_text(output.get("text")), f"stream-{escape(output.get('name', 'stdout'))}")
    if kind == "error":
        trace = "\n".join(_text(line) for line in output.get("traceback", []))
        return _pre(trace or f"{output.get('ename')}: {output.get('evalue')}", "error")
    data = output.get("data") or {}
    for mime in IMAGE_TYPES:
        if mime in data:
            return _image(mime, data[mime])
    if "text/html" in data:
        return '<div class="html-output">' + nh3.clean(_text(data["text/html"])) + "</div>"
    if "text/markdown" in data:
        return markdown_html(_text(data["text/markdown"]))
    if "text/plain" in data:
        return _pre(_text(data["text/plain"]))
    return ""


def markdown_html(text: str) -> SafeString:
    """Return Markdown text as sanitized HTML."""
    return mark_safe(nh3.clean(str(_markdown(text))))  # noqa: S308 - sanitized by nh3


def notebook_html(notebook: Any, *, failed_cell: int | None = None) -> SafeString:
    """Return the notebook's cells and outputs as HTML safe to show on the site's own pages."""
    parts = ['<div class="notebook">']
    for index, cell in enumerate(notebook.get("cells", [])):
        css = "cell failed-cell" if index == failed_cell else "cell"
        anchor = f' id="cell-{index}"'
        # Every cell shown is numbered from 1, markdown too, as people count them on the page; the grading
        # messages and the tutors' tables use the same numbers.
        label = f"{'Failing cell' if index == failed_cell else 'Cell'} {index + 1}"
        number = f'<p class="cell-number">{label}</p>'
        if cell.get("cell_type") == "markdown":
            parts.append(
                f'<section class="{css} markdown"{anchor} aria-label="{label}">{number}'
                f"{markdown_html(_text(cell.get('source')))}</section>"
            )
            continue
        if cell.get("cell_type") != "code":
            continue
        parts.append(f'<section class="{css} code"{anchor} aria-label="{label}">{number}')
        parts.append(_pre(_text(cell.get("source")), "source"))
        parts.extend(_output(output) for output in cell.get("outputs", []) if isinstance(output, dict))
        parts.append("</section>")
    parts.append("</div>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped or sanitized by nh3
