"""Fetch, check and submit hackathon exercises from JupyterLab: a server extension, a lab panel and an IPython magic."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "hackathon-jupyter"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "hackathon_jupyter"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Add the panel's endpoints and the hub's `hackathon/open` link to the running server."""
    from hackathon_jupyter.handlers import setup_handlers

    setup_handlers(server_app.web_app)
    server_app.log.info("hackathon_jupyter: the Hackathon panel's endpoints are at hackathon/api/")


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext hackathon_jupyter` registers `%hackathon`."""
    from hackathon_jupyter.magic import HackathonMagics

    ipython.register_magics(HackathonMagics)
