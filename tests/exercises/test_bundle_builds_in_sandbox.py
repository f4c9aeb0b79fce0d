"""An uploaded bundle's data.py runs only in the sandbox on a worker: reaching for secrets or the network fails."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from exercises.models import Exercise
from exercises.selectors import catalog
from grading import bundle_builds
from tests.builders.events import make_event
from tests.builders.people import make_organizer
from tests.exercises.test_bundle_upload import SOURCE, bundle_zip, upload

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

SECRET_KEY_FILE = Path(django_settings.VAR_DIR) / "secret_key"
SETTINGS_FILE = Path(importlib.import_module(django_settings.SETTINGS_MODULE).__file__)  # the platform's own code


def hostile(reach: str) -> bytes:
    """Return breast-cancer's data.py whose build() first reaches for something of the platform's."""
    reach = "".join(f"    {line}\n" for line in reach.splitlines())
    return (
        (SOURCE / "data.py").read_text()
        + "\n\n_original_build = build\n\n"
        + "def build(public_dir, hidden_dir, secret_seed):\n"
        + reach
        + "    _original_build(public_dir, hidden_dir, secret_seed)\n"
    ).encode()


@pytest.fixture
def organizer_client(client):
    client.force_login(make_organizer(make_event()))
    return client


@pytest.mark.slow
@pytest.mark.parametrize(
    ("reach", "error"),
    [
        (f"open({str(SECRET_KEY_FILE)!r}).read()", "FileNotFoundError"),
        (f"open({str(SETTINGS_FILE)!r}).read()", "FileNotFoundError"),
        ("import os\nos.environ['SECRET_KEY']", "KeyError"),
        ("import os\nos.environ['DATABASE_URL']", "KeyError"),
        (f"open({str(Path(django_settings.VAR_DIR) / 'db.sqlite3')!r}, 'rb').read()", "FileNotFoundError"),
        ("import socket\nsocket.create_connection(('127.0.0.1', 5432), timeout=5)", "OSError"),
    ],
    ids=["secret-key-file", "settings-file", "secret-key-variable", "database-variable", "database-file", "network"],
)
def test_a_data_py_that_reaches_for_the_platform_s_secrets_fails_in_the_sandbox_with_a_clear_message(
    organizer_client, bwrap, monkeypatch, reach, error
):
    assert SETTINGS_FILE.is_file()  # the platform's own files are there, outside the sandbox
    # The worker's own environment holds secrets, as in production; none of it may reach the job.
    monkeypatch.setenv("SECRET_KEY", "the-worker-s-secret")
    monkeypatch.setenv("DATABASE_URL", "postgres://hackathon:secret@127.0.0.1:5432/hackathon")
    response = upload(organizer_client, bundle_zip(replace={"data.py": hostile(reach)}))
    assert response.status_code == 302
    exercise = bundle_builds.check_uploaded_bundle(Exercise.objects.get(slug="my-cancer-study").pk)
    assert exercise.build_status == Exercise.Build.FAILED and not exercise.published
    assert "failed in the sandbox, where it runs with no network" in exercise.build_message
    assert error in exercise.build_message or "Errno" in exercise.build_message, exercise.build_message
    page = organizer_client.get(response["Location"]).content.decode()
    assert "Its data could not be built" in page and "upload the bundle again" in page
    assert exercise not in catalog()


def test_uploading_never_runs_data_py_in_the_web_process(organizer_client, tmp_path):
    marker = tmp_path / "ran-in-the-web-process"
    response = upload(organizer_client, bundle_zip(replace={"data.py": hostile(f"open({str(marker)!r}, 'w')")}))
    assert response.status_code == 302
    assert not marker.exists()
    assert Exercise.objects.get(slug="my-cancer-study").build_status == Exercise.Build.CHECKING


@pytest.mark.slow
def test_a_data_py_that_writes_a_link_is_refused(organizer_client, bwrap):
    linking = (SOURCE / "data.py").read_text() + (
        "\n\n_original_build = build\n\n"
        "def build(public_dir, hidden_dir, secret_seed):\n"
        "    import os\n"
        "    _original_build(public_dir, hidden_dir, secret_seed)\n"
        "    os.symlink('/etc/passwd', public_dir / 'data' / 'passwd')\n"
    )
    upload(organizer_client, bundle_zip(replace={"data.py": linking.encode()}))
    exercise = bundle_builds.check_uploaded_bundle(Exercise.objects.get(slug="my-cancer-study").pk)
    assert exercise.build_status == Exercise.Build.FAILED
    assert "public/data/passwd, which is a link or special file" in exercise.build_message
