"""The breast-cancer exercise: no leaked labels, a stratified hidden set, reference and baseline on target.

What every exercise holds (reproducible data, nbgrader markers, the reference's target) is in test_builtin_bundles.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exercises.bundles import Bundle, builtin_bundle
from exercises.evaluation import evaluate
from tests.builders.bundles import Built, build_bundle, no_jobs, run_notebook

SLUG = "breast-cancer"


def bundle() -> Bundle:
    return builtin_bundle(SLUG)


def build(root: Path, seed: int) -> Built:
    return build_bundle(SLUG, root, seed)


def test_different_secret_seeds_give_different_hidden_sets(tmp_path: Path) -> None:
    _, hidden_a = build(tmp_path / "a", 1)
    _, hidden_b = build(tmp_path / "b", 2)
    ids_a = np.load(hidden_a / "answers.npz")["ids"]
    ids_b = np.load(hidden_b / "answers.npz")["ids"]
    rows_a = pd.read_csv(hidden_a / "data" / "test.csv").drop(columns="id")
    rows_b = pd.read_csv(hidden_b / "data" / "test.csv").drop(columns="id")
    assert set(ids_a) != set(ids_b)
    assert set(map(tuple, rows_a.to_numpy())) != set(map(tuple, rows_b.to_numpy()))


def test_public_data_holds_no_hidden_labels_or_ids(tmp_path: Path) -> None:
    public, hidden = build(tmp_path, 3)
    public_test = pd.read_csv(public / "data" / "test.csv")
    hidden_test = pd.read_csv(hidden / "data" / "test.csv")
    train = pd.read_csv(public / "data" / "train.csv")
    assert "label" not in public_test.columns and "label" not in hidden_test.columns
    assert list(hidden_test.columns) == list(public_test.columns)
    assert sorted(p.name for p in (public / "data").iterdir()) == ["test.csv", "train.csv"]
    hidden_rows = set(map(tuple, hidden_test.drop(columns="id").to_numpy()))
    assert hidden_rows.isdisjoint(map(tuple, train.drop(columns="label").to_numpy()))
    assert hidden_rows.isdisjoint(map(tuple, public_test.drop(columns="id").to_numpy()))
    assert set(hidden_test["id"]).isdisjoint(public_test["id"])
    assert (hidden / "data" / "train.csv").read_bytes() == (public / "data" / "train.csv").read_bytes()


def test_the_hidden_set_is_stratified_with_both_classes_in_each_part(tmp_path: Path) -> None:
    _, hidden = build(tmp_path, 4)
    answers = np.load(hidden / "answers.npz")
    labels, public = answers["labels"], answers["public"]
    assert answers["ids"].dtype == np.int64 and labels.dtype == np.uint8 and public.dtype == np.bool_
    for part in (public, ~public):
        assert 0.3 < labels[part].mean() < 0.45  # the data set is 37% malignant
    assert abs(int(public.sum()) - int((~public).sum())) <= 2


@pytest.mark.slow
@pytest.mark.parametrize("seed", [12])  # seed 11 is test_builtin_bundles.py's, which every exercise passes
def test_the_reference_solution_reaches_its_documented_target(tmp_path: Path, seed: int) -> None:
    _, hidden = build(tmp_path / "built", seed)
    output = run_notebook(bundle().source_notebook, hidden / "data", tmp_path / "run")
    scores = evaluate(bundle(), output, hidden / "answers.npz", run_job=no_jobs, work_dir=tmp_path / "work")
    target = bundle().manifest.target.reference
    assert scores.public >= target and scores.private >= target, scores


@pytest.mark.slow
def test_the_constant_baseline_scores_exactly_one_half(tmp_path: Path) -> None:
    public, hidden = build(tmp_path / "built", 5)
    output = run_notebook(bundle().baseline_notebook, hidden / "data", tmp_path / "run")
    scores = evaluate(bundle(), output, hidden / "answers.npz", run_job=no_jobs, work_dir=tmp_path / "work")
    assert scores.public == 0.5 and scores.private == 0.5
    assert scores.public == bundle().manifest.target.baseline
    assert scores.figures["roc"] == {"fpr": [0.0, 1.0], "tpr": [0.0, 1.0]}


@pytest.mark.slow
def test_the_reference_solution_also_scores_the_public_sample_for_check_runs(tmp_path: Path) -> None:
    public, _ = build(tmp_path / "built", 6)
    output = run_notebook(bundle().source_notebook, public / "data", tmp_path / "run")
    scores = evaluate(bundle(), output, public / "answers.npz", run_job=no_jobs, work_dir=tmp_path / "work")
    assert scores.public > 0.9 and scores.private > 0.9
