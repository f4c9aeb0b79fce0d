"""`%hackathon` in a real IPython shell against the live platform: fetch, check and submit the kernel's notebook."""

from __future__ import annotations

import re

import pytest
from hackathon_jupyter import magic
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from tests.e2e.site_data import BASE_SLUG, EXERCISE_SLUG, OTHER_MEMBER, broken_notebook, good_notebook

pytestmark = pytest.mark.slow


@pytest.fixture
def person(platform_site, tokens, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A participant's kernel: home folder, the hub's variables, and the notebook the kernel belongs to."""
    notebook = f"hackathon/{BASE_SLUG}/{EXERCISE_SLUG}/{EXERCISE_SLUG}.ipynb"
    env = {
        "HOME": str(tmp_path),
        "HACKATHON_URL": platform_site.url,
        "HACKATHON_TOKEN": tokens[OTHER_MEMBER[0]],
        "JPY_SESSION_NAME": notebook,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return tmp_path / notebook


@pytest.fixture
def shell():  # type: ignore[no-untyped-def]
    config = Config()
    config.HistoryManager.enabled = False  # no history database in the test's home folder
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "hackathon_jupyter")
    yield shell
    InteractiveShell.clear_instance()


def test_the_magic_fetches_then_checks_the_kernels_notebook_and_follows_it_to_the_score(person, monkeypatch):
    said: list[str] = []
    shown: list[str] = []
    magic.run(f"fetch {BASE_SLUG} {EXERCISE_SLUG}", show=shown.append, say=said.append, user_ns={})
    assert person.is_file() and "Fetched into breast-cancer/" in said[0]
    person.write_text(good_notebook())
    monkeypatch.chdir(person.parent)

    user_ns: dict = {}
    final = magic.run("check", show=shown.append, say=said.append, user_ns=user_ns, interval=0.5, timeout=240)
    assert final is not None and final["status"] == "scored"
    assert said[1].startswith(f"Sending {EXERCISE_SLUG}.ipynb as saved at ")
    assert shown[0].startswith("Queued (check on the public sample)")
    # The public sample is drawn per event (56 rows): the mean radius alone scored 0.85 to 1.0 on it, well above
    # the constant notebook's 0.5.
    scored = re.match(r"Scored \(check on the public sample\): roc_auc (\d\.\d+)", shown[-1])
    assert scored and float(scored.group(1)) >= 0.7, shown[-1]
    assert said[-1] == f"Full feedback: {final['url']}"
    status = magic.run("status", show=shown.append, say=said.append, user_ns=user_ns)
    assert status is not None and status["uid"] == final["uid"] == user_ns["_hackathon_last_uid"]


def test_percent_hackathon_submit_in_a_real_shell_shows_the_failing_cell_and_traceback(
    person, shell, monkeypatch, capsys
):
    shell.run_line_magic("hackathon", f"fetch {BASE_SLUG} {EXERCISE_SLUG}")
    person.write_text(broken_notebook())
    monkeypatch.chdir(person.parent)
    shell.run_cell("%hackathon submit")
    out = capsys.readouterr().out
    assert "Queued" in out
    assert "Failed (exception) in cell 1" in out and "KeyError" in out and "Full feedback: http" in out


def test_percent_hackathon_submit_share_sends_the_authors_consent_and_a_plain_submit_does_not(person, monkeypatch):
    said: list[str] = []
    magic.run(f"fetch {BASE_SLUG} {EXERCISE_SLUG}", show=said.append, say=said.append, user_ns={})
    person.write_text(good_notebook())
    monkeypatch.chdir(person.parent)

    # A zero timeout answers with the submission as queued: what the platform recorded is all this test needs.
    shared = magic.run("submit --share", show=said.append, say=said.append, user_ns={}, timeout=0)
    plain = magic.run(f"submit {person.name}", show=said.append, say=said.append, user_ns={}, timeout=0)

    assert shared is not None and shared["kind"] == "graded" and shared["share_notebook"] is True
    assert plain is not None and plain["share_notebook"] is False
    assert any(line.startswith("You agreed to share it after the deadline") for line in said)
    with pytest.raises(magic.PlatformError, match="Only graded submissions are shared"):
        magic.run("check --share", show=said.append, say=said.append, user_ns={})


def test_refusals_and_mistakes_are_one_sentence_not_a_traceback(person, shell, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.ipynb").write_text(good_notebook())
    (tmp_path / "b.ipynb").write_text(good_notebook())
    monkeypatch.delenv("JPY_SESSION_NAME")
    shell.run_cell("%hackathon check")
    assert "UsageError: Name the notebook to send" in capsys.readouterr().err
    shell.run_cell("%hackathon check a.ipynb")
    assert "a.ipynb is not in a fetched exercise's folder" in capsys.readouterr().err
    monkeypatch.setenv("HACKATHON_TOKEN", "hks_00000000_revoked")
    shell.run_cell(f"%hackathon fetch {BASE_SLUG} {EXERCISE_SLUG}")
    error = capsys.readouterr().err
    assert "UsageError:" in error and "Paste a new token" in error and "Traceback" not in error
    shell.run_cell("%hackathon frobnicate")
    assert "Unknown `%hackathon frobnicate`" in capsys.readouterr().err
