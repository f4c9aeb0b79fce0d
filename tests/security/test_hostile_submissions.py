"""Hostile notebooks uploaded through the site and the API, graded on bubblewrap: each ends failed or invalid with
the right reason and a clear message, no secret or hidden label leaks, and the next honest notebook still scores."""

from __future__ import annotations

import json
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from grading import services
from grading.models import Submission
from hackathon.models import EventExercise
from tests.api.conftest import client_of
from tests.builders.events import open_event_exercise
from tests.builders.exercises import breast_cancer_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import make_participant

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

Status, Reason = Submission.Status, Submission.Reason


@dataclass(frozen=True)
class Stage:
    """An open breast-cancer exercise with small limits, a participant, and where its hidden answers lie."""

    event_exercise: EventExercise
    participant: Any
    answers: Path


@pytest.fixture
def stage(bwrap, settings) -> Stage:  # type: ignore[no-untyped-def]
    settings.SUBMISSIONS_PER_DAY = 100
    # /tmp is a tmpfs charged to the job's memory: memory sits above the 512 MiB disk limit so that filling /tmp
    # meets the disk limit first, as it would with the exercises' own limits.
    exercise = breast_cancer_exercise(wall_seconds=20, memory_mb=800, processes=64)
    event_exercise = open_event_exercise(exercise)
    _, answers = services.dataset_for(
        Submission(event_exercise=event_exercise, kind=Submission.Kind.GRADED)  # a row is not needed to find the set
    )
    return Stage(event_exercise=event_exercise, participant=make_participant(event_exercise.event), answers=answers)


def upload_through_the_site(stage: Stage, raw: bytes) -> Submission:
    client = Client()
    client.force_login(stage.participant)
    event, exercise = stage.event_exercise.event, stage.event_exercise.exercise
    url = reverse("grading:submit", kwargs={"slug": event.slug, "exercise_slug": exercise.slug})
    before = set(Submission.objects.values_list("pk", flat=True))
    with mock.patch("grading.services.enqueue"):
        response = client.post(url, {"notebook": SimpleUploadedFile("mine.ipynb", raw), "kind": "graded"})
    assert response.status_code == 302
    (created,) = Submission.objects.exclude(pk__in=before)
    return created


def upload_through_the_api(stage: Stage, raw: bytes) -> Submission:
    body = {
        "exercise": stage.event_exercise.exercise.slug,
        "event": stage.event_exercise.event.slug,
        "notebook": SimpleUploadedFile("mine.ipynb", raw),
    }
    with mock.patch("grading.services.enqueue"):
        response = client_of(stage.participant).post("/api/v1/submissions/", body, format="multipart")
    assert response.status_code == 201, response.content
    return Submission.objects.get(uid=response.json()["uid"])


UPLOADS = {"site": upload_through_the_site, "api": upload_through_the_api}


def graded(submission: Submission) -> Submission:
    """Run the grading a worker would run for the message, then read the row again."""
    with mock.patch("grading.services.enqueue"):
        services.grade_submission(submission.pk)
    submission.refresh_from_db()
    return submission


def assert_the_next_honest_notebook_scores(stage: Stage) -> None:
    honest = graded(upload_through_the_api(stage, notebook_bytes(CONSTANT_SCORES)))
    assert honest.status == Status.SCORED, honest.message
    assert honest.score == 0.5


# (name, how it is uploaded, cells, final status, reason) — each writes honest predictions last where it can, so
# only the attack decides the outcome.
RUNAWAY = [
    ("fork bomb", "site", ["import os\nwhile True:\n    os.fork()"], Status.FAILED, Reason.PROCESSES),
    ("memory bomb", "api", ["x = []\nwhile True:\n    x.append(b'x' * (32 << 20))"], Status.FAILED, Reason.MEMORY),
    ("endless loop", "site", ["while True:\n    pass"], Status.FAILED, Reason.TIMEOUT),
    ("input()", "api", ["name = input('your name?')"], Status.FAILED, Reason.EXCEPTION),
    (
        "stdout flood",
        "site",
        ["import sys\nfor _ in range(2048):\n    sys.stdout.write('x' * (1 << 20))"],
        Status.FAILED,
        Reason.OUTPUT,
    ),
    (
        "filling /tmp",
        "api",
        ["with open('/tmp/fill', 'wb') as f:\n    for _ in range(4096):\n        f.write(b'x' * (1 << 20))"],
        Status.FAILED,
        Reason.DISK,
    ),
    (
        "filling output/",
        "site",
        ["with open('output/big', 'wb') as f:\n    for _ in range(4096):\n        f.write(b'x' * (1 << 20))"],
        Status.FAILED,
        Reason.DISK,
    ),
    (
        "many files",
        "api",
        ["for i in range(1_000_000):\n    open(f'output/{i}', 'w').close()"],
        Status.FAILED,
        Reason.DISK,
    ),
    ("os._exit", "site", ["x = 1", "import os; os._exit(1)"], Status.FAILED, Reason.EXCEPTION),
    ("segfault", "api", ["x = 1", "import ctypes; ctypes.string_at(0)"], Status.FAILED, Reason.EXCEPTION),
    (
        "writing into data/",
        "site",
        ["open('data/test.csv', 'a').write('999999,1\\n')", CONSTANT_SCORES],
        Status.FAILED,
        Reason.EXCEPTION,
    ),
]


@pytest.mark.parametrize(("name", "channel", "cells", "status", "reason"), RUNAWAY, ids=[r[0] for r in RUNAWAY])
def test_a_runaway_notebook_ends_with_its_reason_and_the_worker_serves_the_next(
    stage: Stage, name: str, channel: str, cells: list[str], status: str, reason: str
) -> None:
    submission = graded(UPLOADS[channel](stage, notebook_bytes(*cells)))
    assert (submission.status, submission.reason) == (status, reason), submission.message
    assert submission.message and submission.message[0].isupper()  # a sentence, not a code
    assert submission.score is None
    assert_the_next_honest_notebook_scores(stage)


def test_a_double_forked_daemon_dies_with_its_job_and_the_notebook_still_scores(stage: Stage) -> None:
    marker = uuid.uuid4().hex
    daemon = (
        "import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        f"        os.execvp('sleep', ['sleep', '600', '{marker}'])\n    os._exit(0)\nos.wait()"
    )
    submission = graded(upload_through_the_site(stage, notebook_bytes(daemon, CONSTANT_SCORES)))
    assert submission.status == Status.SCORED, submission.message
    survivors = [p for p in Path("/proc").glob("[0-9]*/cmdline") if marker in _read(p)]
    assert survivors == [], "the daemon outlived its job"


def _read(path: Path) -> str:
    try:
        return path.read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# --- What a compromised notebook can read ----------------------------------------------------------------------
PROBE = """
import json, os, socket
found = {}
def attempt(name, action):
    try:
        found[name] = repr(action())[:300]
    except BaseException as error:
        found[name] = "failed: " + type(error).__name__
attempt("pid1_environ", lambda: open("/proc/1/environ", "rb").read())
attempt("hidden_answers", lambda: open(ANSWERS, "rb").read(64))
attempt("private_root", lambda: os.listdir(PRIVATE))
attempt("secret_key_file", lambda: open(SECRET_FILE).read())
attempt("other_notebook", lambda: open(OTHER_NOTEBOOK).read())
attempt("home_file", lambda: open(HOME_FILE).read())
attempt("worker_port", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=2))
attempt("dns", lambda: socket.getaddrinfo("pypi.org", 443))
attempt("write_data", lambda: open("data/new.txt", "w").write("x"))
found["environ"] = json.dumps(dict(os.environ))
print("PROBE" + json.dumps(found))
"""


def test_a_compromised_notebook_reaches_no_secret_no_hidden_label_and_no_network(
    stage: Stage, settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    canary = f"canary-{uuid.uuid4().hex}"
    monkeypatch.setenv("HACKATHON_CANARY", canary)
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(canary)
    home_file = Path.home() / f"hackathon-canary-{uuid.uuid4().hex}.txt"
    home_file.write_text(canary)
    # Another participant's notebook, graded first: dispatch is fair, so a message runs whoever waited longest.
    other = graded(
        upload_through_the_site(
            Stage(stage.event_exercise, make_participant(stage.event_exercise.event), stage.answers),
            notebook_bytes(f"# {canary}", CONSTANT_SCORES),
        )
    )
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    values = {
        "ANSWERS": repr(str(stage.answers)),
        "PRIVATE": repr(str(settings.PRIVATE_DATA_ROOT)),
        "SECRET_FILE": repr(str(secret_file)),
        "OTHER_NOTEBOOK": repr(other.notebook.path),
        "HOME_FILE": repr(str(home_file)),
        "PORT": str(server.getsockname()[1]),
    }
    cell = PROBE
    for name, value in values.items():
        cell = cell.replace(name, value)
    try:
        submission = graded(upload_through_the_api(stage, notebook_bytes(cell, CONSTANT_SCORES)))
    finally:
        server.close()
        home_file.unlink()
    assert submission.status == Status.SCORED, submission.message
    printed = json.dumps(submission.executed_notebook) + submission.log
    streams = "".join("".join(out.get("text", "")) for out in submission.executed_notebook["cells"][0]["outputs"])
    found = json.loads(streams[streams.index("PROBE") + len("PROBE") :])
    for name in ("pid1_environ", "hidden_answers", "private_root", "secret_key_file", "other_notebook", "home_file"):
        assert found[name].startswith("failed"), (name, found[name])
    for name in ("worker_port", "dns", "write_data"):
        assert found[name].startswith("failed"), (name, found[name])
    assert canary not in printed
    assert "HACKATHON_CANARY" not in found["environ"] and "SECRET_KEY" not in found["environ"]


# --- Prediction attacks ------------------------------------------------------------------------------------------
READ_IDS = 'import csv\nids = [row["id"] for row in csv.DictReader(open("data/test.csv"))]\n'


def _writes(body: str) -> str:
    return READ_IDS + f"with open('output/predictions.csv', 'w') as f:\n    f.write({body})"


PREDICTIONS = [
    ("NaN", _writes("'id,score\\n' + ''.join(f'{i},nan\\n' for i in ids)")),
    ("infinity", _writes("'id,score\\n' + ''.join(f'{i},inf\\n' for i in ids)")),
    ("negative infinity", _writes("'id,score\\n' + ''.join(f'{i},-inf\\n' for i in ids)")),
    ("wrong length", _writes("'id,score\\n' + ''.join(f'{i},0.5\\n' for i in ids[:-3])")),
    ("duplicate ids", _writes("'id,score\\n' + ''.join(f'{i},0.5\\n' for i in ids + ids[:2])")),
    ("missing ids", _writes("'id,score\\n' + ''.join(f'{i},0.5\\n' for i in ids[1:] + ['999999'])")),
    ("not numbers", _writes("'id,score\\n' + ''.join(f'{i},high\\n' for i in ids)")),
    ("a pickle instead of a table", "import pickle\npickle.dump({'id': [1]}, open('output/predictions.csv', 'wb'))"),
    ("binary garbage", "open('output/predictions.csv', 'wb').write(bytes(range(256)) * 64)"),
]


@pytest.mark.parametrize(("name", "cell"), PREDICTIONS, ids=[p[0] for p in PREDICTIONS])
def test_bad_predictions_are_invalid_with_a_message_naming_the_file(stage: Stage, name: str, cell: str) -> None:
    submission = graded(upload_through_the_api(stage, notebook_bytes(cell)))
    assert (submission.status, submission.reason) == (Status.INVALID, Reason.PREDICTIONS), submission.message
    assert "predictions.csv" in submission.message
    assert submission.score is None and submission.private_score is None


def test_a_symlink_to_the_hidden_answers_as_predictions_is_refused_unread(stage: Stage) -> None:
    # The link points at the answers' host path: the sandbox cannot see it, and grading must not follow it either.
    cell = f"import os\nos.symlink({str(stage.answers)!r}, 'output/predictions.csv')"
    submission = graded(upload_through_the_site(stage, notebook_bytes(cell)))
    assert (submission.status, submission.reason) == (Status.INVALID, Reason.PREDICTIONS), submission.message
    assert "predictions.csv" in submission.message
    assert submission.score is None


def test_a_symlink_to_a_host_file_as_predictions_is_refused_unread(stage: Stage) -> None:
    cell = "import os\nos.symlink('/etc/passwd', 'output/predictions.csv')"
    submission = graded(upload_through_the_api(stage, notebook_bytes(cell)))
    assert (submission.status, submission.reason) == (Status.INVALID, Reason.PREDICTIONS), submission.message
    assert "root:" not in submission.message


def test_a_five_gigabyte_sparse_file_as_predictions_is_refused_without_reading_it(stage: Stage) -> None:
    cell = "with open('output/predictions.csv', 'wb') as f:\n    f.truncate(5 * 2**30)"
    submission = graded(upload_through_the_site(stage, notebook_bytes(cell)))
    # Either the output quota stops the job or grading refuses the size before reading: both say why.
    assert (submission.status, submission.reason) in {
        (Status.INVALID, Reason.PREDICTIONS),
        (Status.FAILED, Reason.DISK),
    }, submission.message
    assert "predictions.csv" in submission.message or "disk" in submission.message.lower()
    assert_the_next_honest_notebook_scores(stage)


def test_a_file_that_is_not_a_notebook_is_refused_at_upload_with_a_message(stage: Stage) -> None:
    before = Submission.objects.count()
    body = {
        "exercise": stage.event_exercise.exercise.slug,
        "event": stage.event_exercise.event.slug,
        "notebook": SimpleUploadedFile("mine.ipynb", b"\x80\x04K\x01.", content_type="application/octet-stream"),
    }
    response = client_of(stage.participant).post("/api/v1/submissions/", body, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert Submission.objects.count() == before


def test_a_pickle_where_an_array_of_masks_is_expected_is_refused_unloaded(bwrap, settings) -> None:  # type: ignore[no-untyped-def]
    from exercises.bundles import builtin_bundle
    from exercises.models import Exercise
    from exercises.services import save_exercise

    settings.SUBMISSIONS_PER_DAY = 100
    exercise = save_exercise(builtin_bundle("lung-segmentation"), builtin=True)
    Exercise.objects.filter(pk=exercise.pk).update(wall_seconds=30, memory_mb=800, device="cpu", gpu_preferred=False)
    exercise.refresh_from_db()
    event_exercise = open_event_exercise(exercise)
    stage = Stage(event_exercise, make_participant(event_exercise.event), Path("/nonexistent"))
    # Loading this with allow_pickle would run os.system in the trusted grading process.
    cell = (
        "import numpy as np, os\n"
        "class Boom:\n    def __reduce__(self):\n        return (os.system, ('touch /tmp/pwned-by-pickle',))\n"
        "np.save('output/masks.npy', np.array([Boom()], dtype=object), allow_pickle=True)"
    )
    submission = graded(upload_through_the_api(stage, notebook_bytes(cell)))
    assert (submission.status, submission.reason) == (Status.INVALID, Reason.PREDICTIONS), submission.message
    assert "pickle" in submission.message
    assert not Path("/tmp/pwned-by-pickle").exists()


COPYING_AUTOENCODER = """
import os
os.environ["KERAS_BACKEND"] = "tensorflow"
import keras
inputs = keras.Input((20,))
encoder = keras.Model(inputs, keras.layers.Identity()(inputs))  # 20 "latent" numbers: the event itself
codes = keras.Input((20,))
decoder = keras.Model(codes, keras.layers.Identity()(codes))
encoder.save("output/encoder.keras")
decoder.save("output/decoder.keras")
"""


def test_a_met_anomaly_model_that_copies_its_input_is_invalid_end_to_end(bwrap, settings) -> None:  # type: ignore[no-untyped-def]
    from exercises.bundles import builtin_bundle
    from exercises.models import Exercise
    from exercises.services import save_exercise

    settings.SUBMISSIONS_PER_DAY = 100
    exercise = save_exercise(builtin_bundle("met-anomaly"), builtin=True)
    Exercise.objects.filter(pk=exercise.pk).update(wall_seconds=240, device="cpu", gpu_preferred=False)
    exercise.refresh_from_db()
    event_exercise = open_event_exercise(exercise)
    stage = Stage(event_exercise, make_participant(event_exercise.event), Path("/nonexistent"))
    submission = graded(upload_through_the_site(stage, notebook_bytes(COPYING_AUTOENCODER)))
    assert (submission.status, submission.reason) == (Status.INVALID, Reason.PREDICTIONS), submission.message
    assert "at most 8" in submission.message
    assert submission.score is None
