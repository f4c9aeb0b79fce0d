"""The container healthcheck reads *_FILE secrets itself, since Docker runs it apart from the entrypoint."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_healthcheck():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("healthcheck", ROOT / "deploy" / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_secret_given_as_a_file_reaches_the_ping_s_environment(tmp_path, monkeypatch):
    (tmp_path / "key").write_text("s3cret-from-a-file\n")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "key"))
    env = load_healthcheck().environment_with_secrets()
    assert env["SECRET_KEY"] == "s3cret-from-a-file"
    assert "SECRET_KEY_FILE" not in env


def test_a_secret_given_directly_is_kept(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/hackathon")
    monkeypatch.delenv("DATABASE_URL_FILE", raising=False)
    assert load_healthcheck().environment_with_secrets()["DATABASE_URL"] == "postgres://u@db/hackathon"
