"""The server extension's endpoints: the panel's JSON API under hackathon/api/ and the hub's `hackathon/open` link.

Each endpoint reads the person's files under the server's root folder and talks to the platform with their token;
the token never reaches the browser.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from hackathon_jupyter import platform, workspace
from hackathon_jupyter.platform import Platform, PlatformError

Handler = Callable[..., Awaitable[None]]


def answers_refusals(method: Handler) -> Handler:
    """Turn a PlatformError into its status and `{"message": sentence}`, as the panel shows it."""

    @functools.wraps(method)
    async def wrapper(self: APIHandler, *args: Any, **kwargs: Any) -> None:
        try:
            await method(self, *args, **kwargs)
        except PlatformError as error:
            self.set_status(error.status)
            self.finish(json.dumps({"message": error.message}))

    return wrapper


async def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a blocking call to the platform off the server's event loop."""
    return await asyncio.to_thread(function, *args, **kwargs)


def site() -> Platform:
    return Platform(platform.require_config())


def root_of(handler: JupyterHandler) -> Path:
    """Return the server's root folder (the home folder on a hub), under which hackathon/ lives."""
    return Path(handler.settings["server_root_dir"]).expanduser().resolve()


async def fetch_into(root: Path, event: str, exercise: str) -> workspace.FetchResult:
    folder = workspace.exercise_folder(root, event, exercise)
    payload = await call(site().exercise_zip, event, exercise)
    return workspace.unpack(payload, folder, event=event, exercise=exercise)


class HackathonHandler(APIHandler):
    @property
    def root(self) -> Path:
        return root_of(self)

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise PlatformError("The request is not JSON.", 400) from None
        if not isinstance(body, dict):
            raise PlatformError("The request must be a JSON object.", 400)
        return body


class ConfigHandler(HackathonHandler):
    @web.authenticated
    @answers_refusals
    async def get(self) -> None:
        config = platform.read_config()
        self.finish(
            {
                "configured": config is not None,
                "url": config.url if config else "",
                "from_environment": bool(config and config.source == "environment"),
            }
        )

    @web.authenticated
    @answers_refusals
    async def post(self) -> None:
        body = self.body()
        url, token = str(body.get("url", "")), str(body.get("token", ""))
        if not url or not token:
            raise PlatformError("Give the site's address and the token from its API tokens page.", 400)
        candidate = platform.Config(url=url.rstrip("/"), token=token.strip(), source="pasted")
        await call(Platform(candidate).registrations)  # a refused token is said now, not at the first submit
        config = platform.store_config(url, token)
        self.finish({"configured": True, "url": config.url, "from_environment": False})


class ExercisesHandler(HackathonHandler):
    @web.authenticated
    @answers_refusals
    async def get(self) -> None:
        remote = site()
        events = []
        for registration in await call(remote.registrations):
            entry: dict[str, Any] = {
                "slug": registration["event"],
                "title": registration.get("event_title", registration["event"]),
                "registration": registration.get("status", ""),
                "exercises": [],
            }
            if registration.get("status") == "confirmed":
                for row in await call(remote.event_exercises, registration["event"]):
                    folder = workspace.exercise_folder(self.root, registration["event"], row["exercise"])
                    notebook = folder / f"{row['exercise']}.ipynb"
                    row["notebook"] = self.relative(notebook) if notebook.is_file() else None
                    entry["exercises"].append(row)
            events.append(entry)
        self.finish({"events": events})


class FetchHandler(HackathonHandler):
    @web.authenticated
    @answers_refusals
    async def post(self) -> None:
        body = self.body()
        result = await fetch_into(self.root, str(body.get("event", "")), str(body.get("exercise", "")))
        self.finish(
            {
                "folder": self.relative(result.folder),
                "notebook": self.relative(result.notebook) if result.notebook else None,
                "written": result.written,
                "unchanged": result.unchanged,
                "kept": [{"yours": mine, "released": released} for mine, released in result.kept],
                "message": result.message(),
            }
        )


def with_description(submission: dict[str, Any]) -> dict[str, Any]:
    return {**submission, "description": platform.describe(submission)}


class SubmissionsHandler(HackathonHandler):
    @web.authenticated
    @answers_refusals
    async def post(self) -> None:
        body = self.body()
        kind = str(body.get("kind", "check"))
        if kind not in ("check", "graded"):
            raise PlatformError("kind must be check (a free run on the public sample) or graded.", 400)
        share = body.get("share_notebook", False)
        if not isinstance(share, bool):
            raise PlatformError("share_notebook must be true (share the notebook after the deadline) or false.", 400)
        notebook = (self.root / str(body.get("path", ""))).resolve()
        if not notebook.is_relative_to(self.root) or notebook.suffix != ".ipynb" or not notebook.is_file():
            raise PlatformError(f"{body.get('path')!r} is not a notebook in your files. Open the notebook first.", 400)
        event, exercise = workspace.exercise_of(notebook, self.root)
        sent = await call(
            site().submit,
            event=event,
            exercise=exercise,
            name=notebook.name,
            notebook=notebook.read_bytes(),
            kind=kind,
            share=share,
        )
        self.set_status(201)
        self.finish(with_description(sent))


class SubmissionHandler(HackathonHandler):
    @web.authenticated
    @answers_refusals
    async def get(self, uid: str) -> None:
        self.finish(with_description(await call(site().submission, uid)))


class AnnouncementsHandler(HackathonHandler):
    """The person's unread announcements (GET), and marking some read (POST {"ids": [...]})."""

    @web.authenticated
    @answers_refusals
    async def get(self) -> None:
        rows = await call(site().announcements)
        keys = ("id", "event", "event_title", "title", "body", "sent_at")
        self.finish({"announcements": [{key: row.get(key) for key in keys} for row in rows]})

    @web.authenticated
    @answers_refusals
    async def post(self) -> None:
        ids = self.body().get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise PlatformError("ids must be a list of announcement ids.", 400)
        await call(site().mark_read, ids)
        self.finish({"ids": ids})


class OpenHandler(JupyterHandler):
    """`hackathon/open?event=E&exercise=X`: fetch the exercise into the person's files and open its notebook in Lab.

    The hub's `/hub/user-redirect/hackathon/open?...` (the link on each exercise page) lands here.
    """

    @web.authenticated
    async def get(self) -> None:
        root = root_of(self)
        try:
            result = await fetch_into(root, self.get_argument("event", ""), self.get_argument("exercise", ""))
        except PlatformError as error:
            self.set_status(error.status)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(f"The exercise could not be fetched: {error.message}\n")
            return
        opened = result.notebook or result.folder
        target = url_path_join(self.base_url, "lab", "tree", quote(opened.relative_to(root).as_posix()))
        self.redirect(target)


def setup_handlers(web_app: web.Application) -> None:
    base = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "hackathon", "api", "config"), ConfigHandler),
            (url_path_join(base, "hackathon", "api", "exercises"), ExercisesHandler),
            (url_path_join(base, "hackathon", "api", "fetch"), FetchHandler),
            (url_path_join(base, "hackathon", "api", "submissions"), SubmissionsHandler),
            (url_path_join(base, "hackathon", "api", "submissions", r"([-0-9a-fA-F]{36})"), SubmissionHandler),
            (url_path_join(base, "hackathon", "api", "announcements"), AnnouncementsHandler),
            (url_path_join(base, "hackathon", "open"), OpenHandler),
        ],
    )
