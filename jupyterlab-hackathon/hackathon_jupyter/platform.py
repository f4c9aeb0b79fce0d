"""The hackathon platform's REST API as the Jupyter side uses it: where it is, the token, and the calls made."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

USER_AGENT = "hackathon-jupyter/1"
FINAL = ("scored", "failed", "invalid")
TIMEOUT_S = 60


class PlatformError(Exception):
    """A problem to show the person as it is: one or more sentences saying what to do next.

    `status` is the platform's HTTP status (401, 403, 404, 413, 429, ...), 400 for a local mistake, 502 when the
    platform cannot be reached, 503 when nothing is configured.
    """

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Config:
    url: str
    token: str
    source: str  # "environment" or the stored file's path


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """Return where a pasted token is kept: ~/.config/hackathon-jupyter.json (only the person may read it)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "hackathon-jupyter.json"


def _checked_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise PlatformError(f"The site's address must start with https:// (got {url!r}).", 400)
    return url


def read_config(env: Mapping[str, str] | None = None) -> Config | None:
    """Return the site and token: HACKATHON_URL and HACKATHON_TOKEN (a spawner sets them) win over the stored file."""
    env = os.environ if env is None else env
    if env.get("HACKATHON_URL") and env.get("HACKATHON_TOKEN"):
        return Config(url=_checked_url(env["HACKATHON_URL"]), token=env["HACKATHON_TOKEN"], source="environment")
    path = config_path(env)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        stored = {}
    except (OSError, ValueError):
        raise PlatformError(f"{path} cannot be read as JSON. Delete it and paste your token again.", 503) from None
    url = env.get("HACKATHON_URL") or str(stored.get("url", ""))
    token = str(stored.get("token", ""))
    if not (url and token):
        return None
    return Config(url=_checked_url(url), token=token, source=str(path))


def store_config(url: str, token: str, env: Mapping[str, str] | None = None) -> Config:
    """Keep a pasted token in the person's config folder, readable by them alone (mode 600), never in a notebook."""
    path = config_path(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = Config(url=_checked_url(url), token=token.strip(), source=str(path))
    if not config.token:
        raise PlatformError("Paste the token from the site's API tokens page.", 400)
    fresh = path.with_name(path.name + ".new")
    fresh.unlink(missing_ok=True)
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"url": config.url, "token": config.token}, handle)
    fresh.replace(path)
    return config


def require_config(env: Mapping[str, str] | None = None) -> Config:
    config = read_config(env)
    if config is None:
        raise PlatformError(
            "No hackathon site is configured. Paste your API token in the Hackathon panel (create one on the site's "
            "API tokens page), or ask the hub's administrators to set HACKATHON_URL and HACKATHON_TOKEN.",
            503,
        )
    return config


class Platform:
    """The calls the panel, the link handler and the magic make, each answering JSON or raising PlatformError."""

    def __init__(self, config: Config, *, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {config.token}", "User-Agent": USER_AGENT})

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = f"{self.config.url}/api/v1/{path}"
        try:
            response = self.session.request(method, url, timeout=TIMEOUT_S, **kwargs)
        except requests.RequestException as error:
            raise PlatformError(f"Cannot reach {self.config.url} ({error}). Try again in a minute.", 502) from None
        if response.status_code >= 400:
            raise PlatformError(refusal_text(response), response.status_code)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._send(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PlatformError(f"{self.config.url} did not answer as the hackathon site does. Check its address.", 502)
        return body

    def registrations(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "registrations/", params={"limit": 100}).get("results", []))

    def event(self, slug: str) -> dict[str, Any]:
        return self._json("GET", f"events/{slug}/")

    def event_exercises(self, event: str) -> list[dict[str, Any]]:
        return list(self._json("GET", f"events/{event}/exercises/", params={"limit": 100}).get("results", []))

    def exercise_zip(self, event: str, exercise: str) -> bytes:
        return self._send("GET", f"events/{event}/exercises/{exercise}/download/").content

    def submit(
        self, *, event: str, exercise: str, name: str, notebook: bytes, kind: str, share: bool = False
    ) -> dict[str, Any]:
        """Send the notebook; `share` gives the author's consent to show it to the event after the deadline."""
        fields = {"event": event, "exercise": exercise, "kind": kind}
        if share:  # sent only when given, as hackathon-submit --share does: the site's default is no consent
            fields["share_notebook"] = "true"
        files = {"notebook": (name, notebook, "application/x-ipynb+json")}
        return self._json("POST", "submissions/", data=fields, files=files)

    def submission(self, uid: str) -> dict[str, Any]:
        return self._json("GET", f"submissions/{uid}/")

    def announcements(self) -> list[dict[str, Any]]:
        """The person's unread announcements, newest first."""
        return list(self._json("GET", "announcements/", params={"unread": "1"}).get("results", []))

    def mark_read(self, ids: list[int]) -> dict[str, Any]:
        return self._json("POST", "announcements/read/", json={"ids": ids})


def refusal_text(response: requests.Response) -> str:
    """Return the platform's own sentence for a refusal, with its field errors and what to do about a bad token."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    text = str(detail) if detail else f"The site answered HTTP {response.status_code}."
    fields = body.get("errors") if isinstance(body, dict) else None
    if isinstance(fields, dict):
        text += "".join(f" {name}: {' '.join(map(str, msgs))}" for name, msgs in fields.items())
    if response.status_code == 401:
        text += " Paste a new token from the site's API tokens page in the Hackathon panel."
    retry = response.headers.get("Retry-After")
    if response.status_code == 429 and retry and retry.isdigit():
        hours, rest = divmod(int(retry), 3600)
        text += f" The quota starts again in {hours} h {rest // 60} min."
    return text


def describe(submission: Mapping[str, Any]) -> str:
    """Say in one line where a submission stands, as the panel and the magic show it."""
    status = submission.get("status", "?")
    kind = " (check on the public sample)" if submission.get("kind") == "check" else ""
    if status == "queued":
        place = submission.get("queue_position")
        wait = submission.get("estimated_wait_seconds")
        where = f", place {place} in the queue" if place else ""
        about = f", about {round(wait)} s" if wait else ""
        return f"Queued{kind}{where}{about}"
    if status == "running":
        return f"Running{kind}"
    if status == "scored":
        score = submission.get("score")
        shown = f"{score:.4f}" if isinstance(score, int | float) else "?"
        return f"Scored{kind}: {submission.get('metric', 'score')} {shown} on the public part"
    reason = f" ({submission['reason']})" if submission.get("reason") else ""
    cell = f" in cell {submission['failed_cell']}" if submission.get("failed_cell") is not None else ""
    message = submission.get("message") or ""
    return f"{str(status).capitalize()}{kind}{reason}{cell}: {message}".rstrip(": ")
