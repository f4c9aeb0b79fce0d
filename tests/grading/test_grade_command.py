"""`manage.py grade` grades one notebook outside any event and prints one JSON object."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from exercises.bundles import builtin_bundles
from exercises.metrics import light_rejection
from exercises.models import Exercise
from exercises.services import default_secret_seed, ensure_dataset
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]
KEYS = {
    "status",
    "reason",
    "exercise",
    "metric",
    "score",
    "private_score",
    "secondary",
    "failed_cell",
    "message",
    "duration_s",
}


def grade(slug: str, notebook: Path, *extra: str) -> dict:
    out = StringIO()
    call_command("grade", slug, str(notebook), "--json", *extra, stdout=out)
    return json.loads(out.getvalue())


def test_it_prints_one_json_object_with_every_documented_key(bwrap, tmp_path):
    path = tmp_path / "constant.ipynb"
    path.write_bytes(notebook_bytes(CONSTANT_SCORES))
    report = grade("breast-cancer", path, "--backend", "bwrap")
    assert set(report) == KEYS
    assert report["status"] == "scored" and report["reason"] is None
    assert report["exercise"] == "breast-cancer" and report["metric"] == "roc_auc"
    assert report["score"] == 0.5 and report["private_score"] == 0.5
    assert report["duration_s"] > 0


def test_a_failing_notebook_still_grades_with_status_failed(bwrap, tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(notebook_bytes("import definitely_not_a_module"))
    report = grade("breast-cancer", path)
    assert (report["status"], report["reason"], report["failed_cell"]) == ("failed", "exception", 0)
    assert report["score"] is None


def test_a_file_that_is_no_notebook_is_graded_invalid(tmp_path):
    path = tmp_path / "script.ipynb"
    path.write_text("print('hi')")
    report = grade("breast-cancer", path)
    assert (report["status"], report["reason"]) == ("invalid", "notebook")
    assert "not a Jupyter notebook" in report["message"]


def grade_refused(slug: str, notebook: Path) -> tuple[int, dict]:
    out = StringIO()
    with pytest.raises(SystemExit) as stopped:
        call_command("grade", slug, str(notebook), "--json", stdout=out)
    return stopped.value.code, json.loads(out.getvalue())


def test_an_unknown_exercise_or_missing_file_is_a_usage_error_in_json(tmp_path):
    path = tmp_path / "x.ipynb"
    path.write_bytes(notebook_bytes("1"))
    code, report = grade_refused("no-such", path)
    assert code == 2 and (report["status"], report["reason"]) == ("error", "usage")
    assert "There is no exercise 'no-such'. Known exercises: breast-cancer" in report["message"]
    code, report = grade_refused("breast-cancer", tmp_path / "missing.ipynb")
    assert code == 2 and "There is no notebook file" in report["message"]


def test_an_unknown_backend_is_a_usage_error(tmp_path):
    path = tmp_path / "x.ipynb"
    path.write_bytes(notebook_bytes("1"))
    with pytest.raises(CommandError, match="invalid choice: 'chroot'"):
        grade("breast-cancer", path, "--backend", "chroot")


BUNDLES = {bundle.slug: bundle for bundle in builtin_bundles()}


@pytest.mark.slow
@pytest.mark.parametrize("slug", sorted(BUNDLES))
def test_each_built_in_reference_reaches_its_target_and_each_baseline_scores_its_theory(bwrap, slug):
    bundle = BUNDLES[slug]
    target = bundle.manifest.target
    higher = bundle.manifest.metric.direction == "higher"
    reference = grade(slug, bundle.source_notebook)
    assert reference["status"] == "scored", reference["message"]
    for score in (reference["score"], reference["private_score"]):
        assert (score >= target.reference) if higher else (score <= target.reference), reference
    baseline = grade(slug, bundle.baseline_notebook)
    assert baseline["status"] == "scored", baseline["message"]
    assert baseline["score"] == pytest.approx(baseline_theory(slug, target.baseline), rel=0.05, abs=1e-3), baseline


def baseline_theory(slug: str, documented: float) -> float:
    """Return what the baseline must score on this checkout's hidden set.

    The mean-reconstruction baseline of met-anomaly scores the spread of the public normal events around the
    training mean, which depends on the draw: 0.99-1.04 over seeds 0-11, and 1.052 on one checkout's secret, past
    the documented 1.0's 5 %. So it is computed from the hidden set this command graded against.
    """
    if slug == "btag-cms":
        return btag_baseline_theory()
    if slug != "met-anomaly":
        return documented
    dataset = ensure_dataset(Exercise.objects.get(slug=slug), default_secret_seed(slug))
    train = np.load(dataset.hidden_data / "train.npy").astype(np.float64)
    answers = np.load(dataset.hidden_answers)
    normal = answers["public"] & ~answers["is_anomaly"].astype(bool)
    return float(((answers["events"][normal].astype(np.float64) - train.mean(axis=0)) ** 2).mean())


def btag_baseline_theory() -> float:
    """Return the light-jet rejection of the b-tagging baseline's cut on this checkout's hidden set.

    The cut (the second-highest d0 significance of a jet) is counted on a few hundred light jets, so its
    rejection spreads by about 5 % over hidden sets (15 to 20 for the documented 17.5): computed here as the
    baseline notebook computes it, from the hidden set this command graded against.
    """
    dataset = ensure_dataset(Exercise.objects.get(slug="btag-cms"), default_secret_seed("btag-cms"))
    tracks = np.load(dataset.hidden_data / "test_tracks.npy")
    with (dataset.hidden_data / "test_jets.csv").open() as handle:
        n_tracks = np.array([int(row["n_tracks"]) for row in csv.DictReader(handle)])
    real = np.arange(tracks.shape[1])[None, :] < n_tracks[:, None]
    second = -np.sort(-np.where(real, tracks[:, :, 4], -50.0), axis=1)[:, 1]
    answers = np.load(dataset.hidden_answers)
    public = answers["public"]
    return light_rejection(answers["flavours"][public], second[public])


def test_a_checkout_that_was_never_migrated_gets_a_sentence_in_json_not_a_traceback(tmp_path):
    path = tmp_path / "x.ipynb"
    path.write_bytes(notebook_bytes(CONSTANT_SCORES))
    root = Path(__file__).resolve().parents[2]
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "HACKATHON_ENV")},
        "VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "hackathon.config.settings",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "grade", "breast-cancer", str(path), "--json"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in done.stderr + done.stdout
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert (report["status"], report["reason"]) == ("error", "setup")
    assert "run `python manage.py migrate` first" in report["message"]
    assert done.returncode == 1
