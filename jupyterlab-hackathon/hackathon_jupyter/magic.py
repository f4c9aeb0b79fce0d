"""`%hackathon`: check, submit and follow the open notebook from any kernel (classic Notebook, VS Code, JupyterLab).

    %load_ext hackathon_jupyter
    %hackathon check [NOTEBOOK]        a free run on the public sample
    %hackathon submit [NOTEBOOK]       a graded submission (counts toward the daily quota)
    %hackathon submit --share [NB]     the same, agreeing that the organizers may show it, with your name, to the
                                       event's participants after the deadline (stop sharing on its page any time)
    %hackathon status [SUBMISSION]     one submission's state, or the last one sent from this kernel
    %hackathon fetch EVENT EXERCISE    put the exercise into ~/hackathon/EVENT/EXERCISE/

The notebook is sent as last saved: save it first (Ctrl-S). Without NOTEBOOK, the kernel's own notebook is sent.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from hackathon_jupyter import platform, workspace
from hackathon_jupyter.platform import FINAL, Platform, PlatformError

Show = Callable[[str], None]


def notebook_of_kernel(argument: str, user_ns: Mapping[str, Any], env: Mapping[str, str], cwd: Path) -> Path:
    """Return the notebook to send: the one named, else the kernel's own (as Jupyter or VS Code tell it)."""
    if argument:
        named = (cwd / argument).expanduser()
        if not named.is_file():
            raise PlatformError(f"{argument} is not a file here ({cwd}). Give the notebook's path.", 400)
        return named.resolve()
    hints = [str(user_ns.get("__vsc_ipynb_file__") or ""), str(user_ns.get("__session__") or "")]
    hints.append(env.get("JPY_SESSION_NAME", ""))
    for hint in filter(None, hints):
        for candidate in (Path(hint), cwd / Path(hint).name):
            if candidate.suffix == ".ipynb" and candidate.is_file():
                return candidate.resolve()
    found = sorted(cwd.glob("*.ipynb"))
    if len(found) == 1:
        return found[0].resolve()
    raise PlatformError("Name the notebook to send, e.g. `%hackathon submit breast-cancer.ipynb`.", 400)


def follow(
    remote: Platform, submission: dict[str, Any], show: Show, *, interval: float, timeout: float, clock: Any = time
) -> dict[str, Any]:
    """Poll until the result is in, showing each state in place; stop at the timeout saying how to look later."""
    deadline = clock.monotonic() + timeout
    show(platform.describe(submission))
    while submission.get("status") not in FINAL:
        if clock.monotonic() >= deadline:
            show(f"{platform.describe(submission)}. Still waiting: `%hackathon status {submission['uid']}` later.")
            return submission
        clock.sleep(interval)
        submission = remote.submission(str(submission["uid"]))
        show(platform.describe(submission))
    return submission


def details(submission: Mapping[str, Any]) -> str:
    lines = []
    if submission.get("status") in ("failed", "invalid"):
        traceback = (submission.get("traceback") or "").strip().splitlines()
        if traceback:
            lines.append("Last lines of the traceback:")
            lines.extend(f"  {line}" for line in traceback[-8:])
    if submission.get("url"):
        lines.append(f"Full feedback: {submission['url']}")
    return "\n".join(lines)


def run(
    line: str,
    *,
    show: Show,
    say: Show,
    user_ns: dict[str, Any],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    interval: float = 2.0,
    timeout: float = 1800.0,
    clock: Any = time,
) -> dict[str, Any] | None:
    """Do what one `%hackathon ...` line asks; `show` redraws the live status, `say` prints a line."""
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    words = shlex.split(line)
    command, rest = (words[0], words[1:]) if words else ("", [])
    share = "--share" in rest
    if share and command != "submit":
        raise PlatformError("Only graded submissions are shared: `%hackathon submit --share`.", 400)
    rest = [word for word in rest if word != "--share"]
    if command in ("check", "submit") and len(rest) <= 1:
        notebook = notebook_of_kernel(rest[0] if rest else "", user_ns, env, cwd)
        event, exercise = workspace.exercise_of(notebook, Path(notebook.anchor))
        remote = Platform(platform.require_config(env))
        saved = time.strftime("%H:%M:%S", time.localtime(notebook.stat().st_mtime))
        say(f"Sending {notebook.name} as saved at {saved} to {exercise} ({event}).")
        sent = remote.submit(
            event=event,
            exercise=exercise,
            name=notebook.name,
            notebook=notebook.read_bytes(),
            kind="check" if command == "check" else "graded",
            share=share,
        )
        if share:
            say("You agreed to share it after the deadline; stop sharing on its page on the site at any time.")
        user_ns["_hackathon_last_uid"] = sent["uid"]
        final = follow(remote, sent, show, interval=interval, timeout=timeout, clock=clock)
        if text := details(final):
            say(text)
        return final
    if command == "status" and len(rest) <= 1:
        uid = rest[0] if rest else user_ns.get("_hackathon_last_uid")
        if not uid:
            raise PlatformError("Nothing sent from this kernel yet: give the submission's id.", 400)
        submission = Platform(platform.require_config(env)).submission(str(uid))
        show(platform.describe(submission))
        if text := details(submission):
            say(text)
        return submission
    if command == "fetch" and len(rest) == 2:
        home = Path(env.get("HOME") or Path.home())
        folder = workspace.exercise_folder(home, rest[0], rest[1])
        payload = Platform(platform.require_config(env)).exercise_zip(rest[0], rest[1])
        result = workspace.unpack(payload, folder, event=rest[0], exercise=rest[1])
        say(f"{result.message()} Open {result.notebook or folder}.")
        return None
    raise PlatformError(f"Unknown `%hackathon {line.strip()}`.{__doc__}", 400)


@magics_class
class HackathonMagics(Magics):
    @line_magic
    def hackathon(self, line: str) -> None:
        """Check, submit or follow this notebook on the hackathon site: `%hackathon check|submit|status|fetch`."""
        from IPython.display import display

        handle: Any = None

        def show(text: str) -> None:
            nonlocal handle
            if handle is None:
                handle = display({"text/plain": text}, raw=True, display_id=True)
            else:
                handle.update({"text/plain": text}, raw=True)

        try:
            run(line, show=show, say=print, user_ns=self.shell.user_ns)
        except PlatformError as error:
            raise UsageError(error.message) from None
