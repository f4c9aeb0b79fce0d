"""`hackathon-submit`: reads its settings, uploads, follows the status to the score, and exits non-zero on failure."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from grading import client
from grading.api_auth import create_token
from grading.services import grade_submission
from tests.builders.events import open_event_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import participant_of

SCRIPT = Path(sys.executable).parent / "hackathon-submit"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# --- Settings, usage and display (no site needed) ---------------------------------------------------------


def test_the_environment_wins_over_the_config_file_and_the_event_flag_over_both(tmp_path):
    path = tmp_path / "hackathon-submit.toml"
    path.write_text('url = "https://file.example.org/"\ntoken = "from-file"\nevent = "file-event"\n')
    from_file = client.read_config({}, path=path)
    assert from_file == client.Config(url="https://file.example.org", token="from-file", event="file-event")
    env = {"HACKATHON_URL": "https://env.example.org", "HACKATHON_EVENT": "env-event"}
    assert client.read_config(env, path=path) == client.Config("https://env.example.org", "from-file", "env-event")
    assert client.read_config(env, path=path, event="flag-event").event == "flag-event"


def test_the_config_file_is_found_under_xdg_config_home(tmp_path):
    (tmp_path / "hackathon-submit.toml").write_text('url = "http://site"\ntoken = "t"\n')
    assert client.read_config({"XDG_CONFIG_HOME": str(tmp_path)}).url == "http://site"


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["ex", "missing.ipynb"], {"HACKATHON_URL": "http://x", "HACKATHON_TOKEN": "t"}, "is not a file"),
        (["ex", "{nb}"], {}, "Set HACKATHON_URL and HACKATHON_TOKEN"),
        (["ex", "{nb}"], {"HACKATHON_URL": "site.org", "HACKATHON_TOKEN": "t"}, "must start with https://"),
        (["ex", "{txt}"], {"HACKATHON_URL": "http://x", "HACKATHON_TOKEN": "t"}, "not an .ipynb notebook"),
    ],
)
def test_usage_and_configuration_errors_exit_2_with_a_sentence(tmp_path, capsys, argv, env, message):
    (tmp_path / "nb.ipynb").write_bytes(notebook_bytes("1"))
    (tmp_path / "notes.txt").write_text("hello")
    argv = [a.format(nb=tmp_path / "nb.ipynb", txt=tmp_path / "notes.txt") for a in argv]
    status = client.main(argv, env={"HOME": str(tmp_path), **env}, out=io.StringIO())
    assert status == client.EXIT_USAGE
    assert message in capsys.readouterr().err


def test_a_missing_argument_is_a_usage_error(capsys):
    assert client.main(["only-an-exercise"], env={}, out=io.StringIO()) == client.EXIT_USAGE
    assert "NOTEBOOK" in capsys.readouterr().err


def test_an_unreachable_site_exits_3(tmp_path, capsys):
    (tmp_path / "nb.ipynb").write_bytes(notebook_bytes("1"))
    env = {"HACKATHON_URL": "http://127.0.0.1:9", "HACKATHON_TOKEN": "t", "HOME": str(tmp_path)}
    assert client.main(["ex", str(tmp_path / "nb.ipynb")], env=env, out=io.StringIO()) == client.EXIT_HTTP
    assert "Cannot reach http://127.0.0.1:9" in capsys.readouterr().err


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class ScriptedApi:
    """Answers the polls with the given states in turn."""

    def __init__(self, *states: dict) -> None:
        self.states = list(states)

    def submission(self, uid: str) -> dict:
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


QUEUED = {"uid": "u1", "status": "queued", "is_final": False, "queue_position": 2, "estimated_wait_seconds": 40}
RUNNING = {"uid": "u1", "status": "running", "is_final": False}
SCORED = {"uid": "u1", "status": "scored", "is_final": True, "score": 0.91234, "metric": "roc_auc"}


def test_plain_output_prints_one_line_per_change_of_status():
    out = io.StringIO()
    api = ScriptedApi(QUEUED, RUNNING, RUNNING, SCORED)
    final = client.follow(api, QUEUED, out=out, interval=1, timeout=60, clock=FakeClock())
    assert final["status"] == "scored"
    assert out.getvalue().splitlines() == [
        "queued, place 2 in the queue, about 40 s",
        "running",
        "scored: roc_auc 0.9123 on the public part",
    ]


def test_a_terminal_gets_a_spinner_redrawn_in_place():
    out = Terminal()
    client.follow(ScriptedApi(RUNNING, SCORED), QUEUED, out=out, interval=1, timeout=60, clock=FakeClock())
    text = out.getvalue()
    assert "\r\033[K|" in text and "\r\033[K/" in text
    assert text.endswith("\r\033[Kscored: roc_auc 0.9123 on the public part\n")


def test_waiting_past_the_timeout_exits_4_and_says_how_to_follow_later():
    with pytest.raises(client.ClientError) as stop:
        client.follow(ScriptedApi(QUEUED), QUEUED, out=io.StringIO(), interval=1, timeout=5, clock=FakeClock())
    assert stop.value.exit_status == client.EXIT_TIMEOUT
    assert "hackathon-submit status u1" in stop.value.message


def test_the_client_imports_nothing_from_django():
    code = "import sys, grading.client; sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- End to end: the installed command against a live site, grading on bubblewrap in the server -------------


@pytest.fixture
def site(live_server, bwrap, transactional_db, tmp_path):  # type: ignore[no-untyped-def]
    """A live site whose queue grades each submission at once, in the server, on the bwrap sandbox."""
    event_exercise = open_event_exercise()
    person = participant_of(event_exercise)
    token = create_token(user=person, name="JupyterHub").secret
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "HACKATHON_URL": live_server.url,
        "HACKATHON_TOKEN": token,
    }
    with mock.patch("grading.services.enqueue", side_effect=lambda s, countdown=0: grade_submission(s.pk)):
        yield event_exercise, env, tmp_path


def run_command(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_a_good_notebook_is_sent_followed_to_its_score_and_exits_0(site):
    event_exercise, env, folder = site
    notebook = folder / "solution.ipynb"
    notebook.write_bytes(notebook_bytes(CONSTANT_SCORES))
    done = run_command(
        {**env, "HACKATHON_EVENT": event_exercise.event.slug}, "--interval", "0.2", "breast-cancer", str(notebook)
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Sent solution.ipynb to breast-cancer")
    assert "queued" in lines[1]
    assert "scored: roc_auc 0.5000 on the public part" in done.stdout
    assert "\r" not in done.stdout  # not a terminal: plain lines
    listed = run_command(env, "status")
    assert listed.returncode == 0 and "breast-cancer" in listed.stdout and "scored" in listed.stdout


@pytest.mark.slow
def test_a_failing_notebook_exits_1_with_the_failed_cell_and_traceback(site):
    _, env, folder = site
    notebook = folder / "broken.ipynb"
    notebook.write_bytes(notebook_bytes("x = 1", "raise ValueError('the model diverged')"))
    done = run_command(env, "--check", "--interval", "0.2", "breast-cancer", str(notebook))
    assert done.returncode == 1
    assert "failed (check on the public sample) (exception)" in done.stdout
    assert "ValueError" in done.stdout and "cell 1" in done.stdout
    uid = re.search(r"as check run ([0-9a-f-]{36})", done.stdout).group(1)
    assert run_command(env, "status", uid).returncode == 1


@pytest.mark.slow
def test_a_refused_token_exits_3_with_the_sites_message(site):
    _, env, folder = site
    notebook = folder / "solution.ipynb"
    notebook.write_bytes(notebook_bytes(CONSTANT_SCORES))
    done = run_command({**env, "HACKATHON_TOKEN": "hks_00000000_revoked"}, "breast-cancer", str(notebook))
    assert done.returncode == 3
    assert "Error 401" in done.stderr and "API tokens page" in done.stderr


def test_the_sites_refusal_is_printed_with_its_field_errors_and_the_quota_reset_time():
    import json

    import requests

    answer = requests.Response()
    answer.status_code = 429
    answer.headers["Retry-After"] = "5400"
    answer._content = json.dumps({"detail": "You have used all 10 submissions for today."}).encode()
    text = client.Api._error_text(answer, answer.json())
    assert text == ("Error 429: You have used all 10 submissions for today.\nThe quota starts again in 1 h 30 min.")
    bad = {"detail": "Some fields are not valid.", "errors": {"event": ["Name the event."]}}
    answer.status_code = 400
    assert client.Api._error_text(answer, bad) == "Error 400: Some fields are not valid.\n  event: Name the event."
