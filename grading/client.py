"""`hackathon-submit`: send a notebook to the hackathon site from a terminal and follow it until its score is in.

Plain Python and requests only: it runs in JupyterHub images that have none of the site's code.

    hackathon-submit EXERCISE notebook.ipynb        graded submission (counts toward the daily quota)
    hackathon-submit --check EXERCISE notebook.ipynb free run on the public sample
    hackathon-submit status [SUBMISSION]            your latest submissions, or one of them

The site and token come from HACKATHON_URL and HACKATHON_TOKEN, or from ~/.config/hackathon-submit.toml
(`url = "..."`, `token = "..."`, optionally `event = "..."`); the environment wins.
Exit status: 0 scored, 1 failed or invalid, 2 usage or configuration error, 3 refused by the site or unreachable,
4 still not final when --timeout ran out.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import requests

EXIT_SCORED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_HTTP = 3
EXIT_TIMEOUT = 4
FINAL = ("scored", "failed", "invalid")
SPINNER = "|/-\\"
USER_AGENT = "hackathon-submit/1"


class ClientError(Exception):
    """A problem to print as one sentence, ending the program with its exit status."""

    def __init__(self, message: str, exit_status: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_status = exit_status


@dataclass(frozen=True)
class Config:
    url: str
    token: str
    event: str


def config_path(env: dict[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "hackathon-submit.toml"


def read_config(env: dict[str, str], *, path: Path | None = None, event: str | None = None) -> Config:
    """Merge the config file and the environment (which wins), or raise ClientError saying what is missing."""
    path = path or config_path(env)
    stored: dict[str, Any] = {}
    if path.is_file():
        try:
            stored = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ClientError(f"{path} is not valid TOML ({error}). Fix or delete it.", EXIT_USAGE) from None
    url = env.get("HACKATHON_URL") or str(stored.get("url", ""))
    token = env.get("HACKATHON_TOKEN") or str(stored.get("token", ""))
    chosen_event = event or env.get("HACKATHON_EVENT") or str(stored.get("event", ""))
    missing = [name for name, value in (("HACKATHON_URL", url), ("HACKATHON_TOKEN", token)) if not value]
    if missing:
        raise ClientError(
            f"Set {' and '.join(missing)} (or url/token in {path}). Create a token on the site's API tokens page.",
            EXIT_USAGE,
        )
    if not url.startswith(("http://", "https://")):
        raise ClientError(f"HACKATHON_URL must start with https:// (got {url!r}).", EXIT_USAGE)
    return Config(url=url.rstrip("/"), token=token, event=chosen_event)


class Api:
    """The few calls the client makes, each answering JSON or raising ClientError with the site's message."""

    def __init__(self, config: Config, *, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {config.token}", "User-Agent": USER_AGENT})

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = f"{self.config.url}/api/v1/{path}"
        try:
            response = self.session.request(method, url, timeout=60, **kwargs)
        except requests.RequestException as error:
            raise ClientError(f"Cannot reach {self.config.url}: {error}", EXIT_HTTP) from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            raise ClientError(self._error_text(response, body), EXIT_HTTP)
        if not isinstance(body, dict):
            raise ClientError(f"The site answered {url} with something other than JSON.", EXIT_HTTP)
        return body

    @staticmethod
    def _error_text(response: requests.Response, body: Any) -> str:
        detail = body.get("detail") if isinstance(body, dict) else None
        text = str(detail) if detail else f"The site answered HTTP {response.status_code}."
        fields = body.get("errors") if isinstance(body, dict) else None
        if isinstance(fields, dict):
            text += "".join(f"\n  {name}: {' '.join(map(str, msgs))}" for name, msgs in fields.items())
        if response.status_code == 401:
            text += "\nCheck HACKATHON_TOKEN, or create a new token on the site's API tokens page."
        retry = response.headers.get("Retry-After")
        if response.status_code == 429 and retry and retry.isdigit():
            hours, rest = divmod(int(retry), 3600)
            text += f"\nThe quota starts again in {hours} h {rest // 60} min."
        return f"Error {response.status_code}: {text}"

    def submit(self, exercise: str, notebook: Path, *, check: bool, share: bool = False) -> dict[str, Any]:
        fields = {"exercise": exercise, "kind": "check" if check else "graded"}
        if share:
            fields["share_notebook"] = "true"
        if self.config.event:
            fields["event"] = self.config.event
        with notebook.open("rb") as handle:
            files = {"notebook": (notebook.name, handle, "application/x-ipynb+json")}
            return self._call("POST", "submissions/", data=fields, files=files)

    def submission(self, uid: str) -> dict[str, Any]:
        return self._call("GET", f"submissions/{uid}/")

    def event_exercise(self, event: str, exercise: str) -> dict[str, Any]:
        return self._call("GET", f"events/{event}/exercises/{exercise}/")

    def my_submissions(self, limit: int = 10) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if self.config.event:
            params["event"] = self.config.event
        return list(self._call("GET", "submissions/", params=params).get("results", []))


def describe(submission: dict[str, Any]) -> str:
    """Say in one line where a submission stands."""
    status = submission.get("status", "?")
    kind = " (check on the public sample)" if submission.get("kind") == "check" else ""
    if status == "queued":
        place = submission.get("queue_position")
        wait = submission.get("estimated_wait_seconds")
        where = f", place {place} in the queue" if place else ""
        about = f", about {round(wait)} s" if wait else ""
        return f"queued{kind}{where}{about}"
    if status == "running":
        return f"running{kind}"
    if status == "scored":
        score = submission.get("score")
        shown = f"{score:.4f}" if isinstance(score, int | float) else "?"
        return f"scored{kind}: {submission.get('metric', 'score')} {shown} on the public part"
    reason = f" ({submission['reason']})" if submission.get("reason") else ""
    return f"{status}{kind}{reason}: {submission.get('message', '')}".rstrip(": ")


def result_details(submission: dict[str, Any]) -> list[str]:
    lines = []
    if submission.get("status") in ("failed", "invalid"):
        if submission.get("failed_cell") is not None:
            lines.append(f"The error is in cell {submission['failed_cell']}.")
        traceback = (submission.get("traceback") or "").strip().splitlines()
        if traceback:
            lines.append("Last lines of the traceback:")
            lines.extend(f"  {line}" for line in traceback[-8:])
    if submission.get("url"):
        lines.append(f"Details: {submission['url']}")
    return lines


def exit_status_of(submission: dict[str, Any]) -> int:
    return EXIT_SCORED if submission.get("status") == "scored" else EXIT_FAILED


class Progress:
    """Show a submission's state: a spinner redrawn in place on a terminal, one line per change otherwise."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.spinner: Iterator[str] = itertools.cycle(SPINNER)
        self.last = ""

    def show(self, line: str) -> None:
        if self.tty:
            self.out.write(f"\r\033[K{next(self.spinner)} {line}")
        elif line != self.last:
            self.out.write(f"{line}\n")
        self.out.flush()
        self.last = line

    def done(self, line: str) -> None:
        if self.tty:
            self.out.write(f"\r\033[K{line}\n")
        elif line != self.last:
            self.out.write(f"{line}\n")
        self.out.flush()


def follow(
    api: Api,
    submission: dict[str, Any],
    *,
    out: TextIO,
    interval: float,
    timeout: float,
    clock: Any = time,
) -> dict[str, Any]:
    """Poll the submission until its result is in or the timeout passes, showing each change."""
    progress = Progress(out)
    deadline = clock.monotonic() + timeout
    next_poll = clock.monotonic() + interval
    tick = min(0.2, interval) if progress.tty else interval  # the spinner turns between polls
    while not submission.get("is_final"):
        progress.show(describe(submission))
        if clock.monotonic() >= deadline:
            progress.done(describe(submission))
            raise ClientError(
                f"Still {submission.get('status')} after {timeout:.0f} s. Follow it later with "
                f"`hackathon-submit status {submission.get('uid')}`.",
                EXIT_TIMEOUT,
            )
        clock.sleep(tick)
        if clock.monotonic() >= next_poll:
            submission = api.submission(str(submission["uid"]))
            next_poll = clock.monotonic() + interval
    progress.done(describe(submission))
    return submission


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hackathon-submit",
        description="Send a notebook to the ML_INFN hackathon site and wait for its score. "
        "`hackathon-submit status [SUBMISSION]` shows your latest submissions or one of them.",
        epilog="Exit status: 0 scored, 1 failed or invalid, 2 usage or configuration, 3 refused by the site or "
        "unreachable, 4 timed out.",
    )
    p.add_argument("exercise", metavar="EXERCISE", help="the exercise's name (slug), e.g. breast-cancer")
    p.add_argument("notebook", metavar="NOTEBOOK", type=Path, help="the .ipynb file to send")
    _common(p)
    p.add_argument("--check", action="store_true", help="a free run on the public sample; no quota is used")
    p.add_argument(
        "--share",
        action="store_true",
        help="agree that after the deadline the organizers may show this notebook, with your name, to the event's "
        "participants",
    )
    p.add_argument("--no-wait", action="store_true", help="send it and exit without waiting for the result")
    return p


def status_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hackathon-submit status", description="Show your latest submissions, or one submission's result."
    )
    p.add_argument("submission", metavar="SUBMISSION", nargs="?", help="a submission's id (uid)")
    _common(p)
    p.add_argument("--wait", action="store_true", help="wait for the submission's result")
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--event", metavar="SLUG", help="the event (default: HACKATHON_EVENT, or your only event)")
    p.add_argument("--config", metavar="FILE", type=Path, help="config file (default ~/.config/hackathon-submit.toml)")
    p.add_argument("--interval", type=float, default=3.0, help="seconds between status checks (default 3)")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait at most (default 3600)")


def run_submit(args: argparse.Namespace, env: dict[str, str], out: TextIO) -> int:
    notebook: Path = args.notebook
    if not notebook.is_file():
        raise ClientError(f"{notebook} is not a file. Give the path of your .ipynb notebook.", EXIT_USAGE)
    if notebook.suffix != ".ipynb":
        raise ClientError(f"{notebook} is not an .ipynb notebook. Save your notebook from Jupyter first.", EXIT_USAGE)
    api = Api(read_config(env, path=args.config, event=args.event))
    submission = api.submit(args.exercise, notebook, check=args.check, share=args.share)
    what = "check run" if args.check else "submission"
    out.write(
        f"Sent {notebook.name} to {submission.get('exercise')} ({submission.get('event')}) as {what} "
        f"{submission.get('uid')}.\n"
    )
    if args.no_wait:
        out.write(f"{describe(submission)}\nFollow it with `hackathon-submit status {submission.get('uid')}`.\n")
        write_deadline(api, submission, out)
        return EXIT_SCORED
    final = follow(api, submission, out=out, interval=args.interval, timeout=args.timeout)
    for line in result_details(final):
        out.write(f"{line}\n")
    write_deadline(api, submission, out)
    return exit_status_of(final)


def write_deadline(api: Api, submission: dict[str, Any], out: TextIO) -> None:
    """Say when submissions to the exercise close for the person, in their time zone (a countdown in the last
    hour), as the site words it; say nothing when the site cannot tell."""
    event, exercise = submission.get("event"), submission.get("exercise")
    if not (isinstance(event, str) and isinstance(exercise, str)):
        return
    try:
        deadline = api.event_exercise(event, exercise).get("deadline")
    except ClientError:
        return
    if deadline:
        out.write(f"{exercise}: {deadline}.\n")


def run_status(args: argparse.Namespace, env: dict[str, str], out: TextIO) -> int:
    api = Api(read_config(env, path=args.config, event=args.event))
    if args.submission:
        submission = api.submission(args.submission)
        if args.wait:
            submission = follow(api, submission, out=out, interval=args.interval, timeout=args.timeout)
        else:
            out.write(f"{describe(submission)}\n")
        for line in result_details(submission):
            out.write(f"{line}\n")
        return exit_status_of(submission) if submission.get("is_final") else EXIT_SCORED
    submissions = api.my_submissions()
    if not submissions:
        out.write("You have no submissions yet.\n")
    for item in submissions:
        out.write(f"{item.get('uid')}  {item.get('created_at', '')[:16]}  {item.get('exercise')}  {describe(item)}\n")
    return EXIT_SCORED


def main(argv: Sequence[str] | None = None, *, env: dict[str, str] | None = None, out: TextIO | None = None) -> int:
    """Run the command; return its exit status (the console script passes it to the shell)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ if env is None else env)
    out = out or sys.stdout
    try:
        if argv[:1] == ["status"]:
            return run_status(status_parser().parse_args(argv[1:]), env, out)
        return run_submit(parser().parse_args(argv), env, out)
    except SystemExit as stop:  # argparse's usage errors and --help
        return int(stop.code or 0) if isinstance(stop.code, int) else EXIT_USAGE
    except ClientError as error:
        if out.isatty():
            out.write("\n")
        sys.stderr.write(f"hackathon-submit: {error.message}\n")
        return error.exit_status
    except KeyboardInterrupt:
        sys.stderr.write("\nhackathon-submit: stopped. The submission goes on; see `hackathon-submit status`.\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
