"""The settings module reads the environment with clear errors and refuses unsafe production set-ups."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from hackathon.config.env import cache_from_url, database_from_url, env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]


def load_settings(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter with exactly this environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "SECRET_", "CELERY_", "HACKATHON"))}
    clean.update({"VAR_DIR": str(tmp_path / "var"), **env})
    return subprocess.run(
        [sys.executable, "-c", "import hackathon.config.settings as s; print(s.DATABASES['default']['ENGINE'])"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_database_url_names_the_variable_and_the_accepted_forms():
    with pytest.raises(ImproperlyConfigured, match=r"DATABASE_URL='mysqlx://db' is not a database URL.*postgres://"):
        database_from_url("mysqlx://db")


def test_a_cache_url_is_redis_shared_by_every_process_or_locmem_and_nothing_else():
    shared = cache_from_url("redis://cache.example:6379/1")
    assert shared["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert shared["LOCATION"] == "redis://cache.example:6379/1"
    assert cache_from_url("locmem://")["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    with pytest.raises(ImproperlyConfigured, match=r"CACHE_URL='memcached://x'.*redis://host:6379/1"):
        cache_from_url("memcached://x")


def test_a_database_url_without_a_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured, match="not a database URL"):
        database_from_url("just-a-name")


def test_a_postgres_url_without_a_database_name_is_refused():
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        database_from_url("postgres://user@localhost:5432")


def test_a_postgres_url_becomes_a_postgresql_database():
    config = database_from_url("postgres://hack:pw@db.example:5433/hackathon")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "db.example",
        5433,
        "hackathon",
        "hack",
    )


def test_a_sqlite_url_becomes_a_sqlite_database_with_immediate_transactions():
    config = database_from_url("sqlite:////tmp/x.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/tmp/x.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_yes_no_values_are_read_strictly(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG") is True
    monkeypatch.setenv("FLAG", "0")
    assert env_bool("FLAG", default=True) is False
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG='maybe' is not a yes/no value"):
        env_bool("FLAG")


def test_numbers_and_lists_are_read_with_clear_errors(monkeypatch):
    monkeypatch.setenv("COUNT", "ten")
    with pytest.raises(ImproperlyConfigured, match="COUNT='ten' is not a whole number"):
        env_int("COUNT", 1)
    monkeypatch.setenv("COUNT", "-2")
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("COUNT", 1, minimum=0)
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    assert env_list("HOSTS") == ["a.example", "b.example"]


def test_development_defaults_need_no_server(tmp_path):
    done = load_settings({}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "django.db.backends.sqlite3"
    assert (tmp_path / "var" / "secret_key").exists()


def test_the_production_profile_refuses_to_start_without_a_secret_key(tmp_path):
    done = load_settings(
        {
            "HACKATHON_ENV": "production",
            "DATABASE_URL": "postgres://u@localhost/db",
            "CELERY_BROKER_URL": "redis://localhost:6379/0",
            "ALLOWED_HOSTS": "hack.example",
        },
        tmp_path,
    )
    assert done.returncode != 0
    assert "SECRET_KEY is required when HACKATHON_ENV=production" in done.stderr
    assert not (tmp_path / "var" / "secret_key").exists()


def test_the_production_profile_refuses_an_implicit_database(tmp_path):
    done = load_settings(
        {"HACKATHON_ENV": "production", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "hack.example"}, tmp_path
    )
    assert done.returncode != 0
    assert "DATABASE_URL is required" in done.stderr


def test_the_production_profile_starts_when_given_what_it_needs(tmp_path):
    done = load_settings(
        {
            "HACKATHON_ENV": "production",
            "SECRET_KEY": "x" * 50,
            "HIDDEN_SET_SECRET": "y" * 30,
            "DATABASE_URL": "postgres://u@localhost/db",
            "CELERY_BROKER_URL": "redis://localhost:6379/0",
            "ALLOWED_HOSTS": "hack.example",
        },
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "django.db.backends.postgresql"


def test_a_cache_in_the_brokers_redis_database_is_refused(tmp_path):
    broker = "redis://localhost:6379/0"
    done = load_settings({"CELERY_BROKER_URL": broker, "CACHE_URL": broker}, tmp_path)
    assert done.returncode != 0
    assert "CACHE_URL names the broker's Redis database" in done.stderr
    own_database = {"CELERY_BROKER_URL": broker, "CACHE_URL": "redis://localhost:6379/1"}
    assert load_settings(own_database, tmp_path).returncode == 0


def test_private_data_under_the_media_folder_is_refused(tmp_path):
    done = load_settings({"MEDIA_ROOT": str(tmp_path / "m"), "PRIVATE_DATA_ROOT": str(tmp_path / "m" / "p")}, tmp_path)
    assert done.returncode != 0
    assert "PRIVATE_DATA_ROOT must not lie under MEDIA_ROOT" in done.stderr


def test_an_unknown_profile_is_refused(tmp_path):
    done = load_settings({"HACKATHON_ENV": "staging"}, tmp_path)
    assert done.returncode != 0
    assert "HACKATHON_ENV='staging': use development or production" in done.stderr
