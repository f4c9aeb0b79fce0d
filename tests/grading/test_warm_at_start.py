"""A worker warms its sandboxes when it starts, for the runtimes of the exercises open now, and grades warm.

The site, for its part, prepares what reading the first upload would otherwise wait for.
"""

from __future__ import annotations

import os
import subprocess
import sys
from unittest import mock

import pytest

from exercises.bundles import builtin_bundle
from exercises.services import save_exercise
from grading.models import Submission
from grading.sandboxing import probe_runtimes, runtime_of, sandbox_backend, sandbox_config, warm_up
from grading.tasks import warm_sandboxes_at_start
from tests.builders.events import open_event_exercise
from tests.builders.notebooks import CONSTANT_SCORES
from tests.grading.test_grading_runs import graded, submitted

pytestmark = [pytest.mark.django_db]


def test_each_exercise_runs_in_the_runtime_its_tools_need():
    lung = save_exercise(builtin_bundle("lung-segmentation"), builtin=True)
    breast = save_exercise(builtin_bundle("breast-cancer"), builtin=True)
    assert runtime_of(lung, gpu=False) == "keras"
    assert runtime_of(breast, gpu=False) == "cpu"
    assert runtime_of(breast, gpu=True) == "gpu"


def test_warm_sandboxes_are_on_by_default_outside_the_tests(settings):
    env = {key: value for key, value in os.environ.items() if key != "SANDBOX_WARM_POOL"}
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SANDBOX_WARM_POOL)"],
        env={**env, "DJANGO_SETTINGS_MODULE": "hackathon.config.settings"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1"


def test_a_worker_process_loads_the_drawing_library_at_start(settings, tmp_path):
    script = (
        "import sys, django; django.setup()\n"
        "from grading.tasks import warm_sandboxes_at_start\n"
        "before = 'matplotlib.figure' in sys.modules\n"
        "warm_sandboxes_at_start()\n"
        "print(before, 'matplotlib.figure' in sys.modules, 'matplotlib.backends.backend_agg' in sys.modules)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hackathon.config.settings", "VAR_DIR": str(tmp_path)}
    env.update({"SANDBOX_WARM_POOL": "0", "SANDBOX_ALLOW_PROCESS": "true"})
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True", "True"], out.stderr


def test_a_web_process_builds_the_notebook_validator_when_it_loads(settings, tmp_path):
    script = (
        "import nbformat.validator as v\n"
        "before = len(v.validators)\n"
        "import hackathon.config.wsgi\n"
        "print(before, len(v.validators))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hackathon.config.settings", "VAR_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["0", "1"], out.stderr


def test_nothing_is_warmed_when_the_pool_is_off(bwrap, settings):
    settings.SANDBOX_WARM_POOL = 0
    open_event_exercise()
    assert warm_up() == {}


def test_warming_at_start_also_fingerprints_the_runtimes_it_warms():
    open_event_exercise()  # breast-cancer, open now: the cpu runtime
    backend = mock.Mock(unavailable_reason=mock.Mock(return_value=None))
    backend.name = "bwrap"
    with (
        mock.patch("grading.sandboxing.sandbox_backend", return_value=backend),
        mock.patch("grading.sandboxing.probe_runtimes") as probe,
    ):
        warmed = warm_up()
    assert list(warmed) == ["cpu"]
    probe.assert_called_once_with("bwrap", ["cpu"])


def test_the_runtimes_interpreter_is_probed_once_in_the_background_so_the_first_score_need_not_wait():
    python = sandbox_config().runtime_python["cpu"]
    with mock.patch("grading.sandboxing.probe_python", return_value={}) as probe:
        thread = probe_runtimes("bwrap", ["cpu", "keras", "no-such-runtime"])
        assert thread is not None
        thread.join(10)
        assert probe_runtimes("docker", ["cpu"]) is None and probe_runtimes("kubernetes", ["cpu"]) is None
    assert not thread.is_alive() and thread.daemon  # never holds a starting worker process
    assert probe.call_args_list == [mock.call(python)]  # cpu and keras share one interpreter here


def test_a_probe_that_fails_at_start_is_only_logged(caplog):
    with mock.patch("grading.sandboxing.probe_python", side_effect=OSError("no such interpreter")):
        thread = probe_runtimes("process", ["cpu"])
        assert thread is not None
        thread.join(10)
    assert "Could not fingerprint the runtime" in caplog.text


@pytest.mark.slow
def test_a_worker_process_warms_at_start_and_the_first_submission_runs_warm(bwrap, settings):
    settings.SANDBOX_WARM_POOL = 1
    submission = submitted("import sys\nassert 'sklearn' in sys.modules, 'cold'", CONSTANT_SCORES)
    warm_sandboxes_at_start()  # what Celery's worker_process_init signal calls in each worker process
    backend = sandbox_backend()
    try:
        assert backend.warm_pool.wait_ready("cpu", 120), "the pool did not warm at start"
        final = graded(submission)
    finally:
        backend.close()
    assert final.status == Submission.Status.SCORED, final.message
