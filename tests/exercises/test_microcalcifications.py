"""The microcalcifications exercise: no leaked labels, reference and baseline on target.

What every exercise holds (reproducible data, nbgrader markers, the reference's target) is in test_builtin_bundles.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions
from scipy import ndimage
from sklearn.metrics import roc_auc_score

from exercises.bundles import Bundle, builtin_bundle
from exercises.evaluation import evaluate
from tests.builders.bundles import Built, build_bundle, files_of, no_jobs, run_notebook, seed_cache

SLUG = "microcalcifications"


def bundle() -> Bundle:
    return builtin_bundle(SLUG)


def build(root: Path, seed: int) -> Built:
    return build_bundle(SLUG, root, seed)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Built]:
    return seed_cache(SLUG, tmp_path_factory)


def test_different_secret_seeds_give_different_hidden_sets_and_the_same_training_set(
    built: Callable[[int], Built],
) -> None:
    (public_a, hidden_a), (public_b, hidden_b) = built(7), built(8)
    test_a = np.load(hidden_a / "data" / "test_images.npy")
    test_b = np.load(hidden_b / "data" / "test_images.npy")
    assert not np.array_equal(test_a, test_b)
    assert not np.array_equal(np.load(hidden_a / "answers.npz")["labels"], np.load(hidden_b / "answers.npz")["labels"])
    for name in ("train_images.npy", "train_labels.npy"):
        assert (hidden_a / "data" / name).read_bytes() == (hidden_b / "data" / name).read_bytes()
    # the public side does not depend on the secret at all
    for name in files_of(public_a):
        assert (public_a / name).read_bytes() == (public_b / name).read_bytes(), name


def test_the_files_have_the_documented_names_shapes_types_and_ranges(built: Callable[[int], Built]) -> None:
    public, hidden = built(7)
    for root in (public, hidden):
        assert sorted(p.name for p in (root / "data").iterdir()) == [
            "test_images.npy",
            "train_images.npy",
            "train_labels.npy",
        ]
        train = np.load(root / "data" / "train_images.npy")
        labels = np.load(root / "data" / "train_labels.npy")
        test = np.load(root / "data" / "test_images.npy")
        assert train.dtype == np.float32 and train.ndim == 3 and train.shape[1:] == (64, 64)
        assert 1000 <= len(train) <= 2000
        assert labels.dtype == np.uint8 and labels.shape == (len(train),) and set(np.unique(labels)) == {0, 1}
        assert test.dtype == np.float32 and test.shape[1:] == (64, 64)
        for images in (train, test):
            assert images.min() >= 0.0 and images.max() <= 1.0 and np.isfinite(images).all()
            # a texture, not flat patches: every patch varies
            assert (images.std(axis=(1, 2)) > 0.01).all()
        answers = np.load(root / "answers.npz")
        assert answers["ids"].dtype == np.int64 and np.array_equal(answers["ids"], np.arange(len(test)))
        assert answers["labels"].dtype == np.uint8 and answers["labels"].shape == (len(test),)
        assert answers["public"].dtype == np.bool_ and answers["public"].shape == (len(test),)
    assert np.load(public / "answers.npz")["public"].all()


def test_public_data_holds_no_hidden_labels_or_images(built: Callable[[int], Built]) -> None:
    public, hidden = built(7)
    hidden_test = np.load(hidden / "data" / "test_images.npy")
    public_test = np.load(public / "data" / "test_images.npy")
    train = np.load(public / "data" / "train_images.npy")
    hidden_rows = {image.tobytes() for image in hidden_test}
    assert hidden_rows.isdisjoint(image.tobytes() for image in public_test)
    assert hidden_rows.isdisjoint(image.tobytes() for image in train)
    # the hidden folder is what a sandbox sees: training data and test inputs, no answers
    assert not any(p.suffix == ".npz" for p in (hidden / "data").rglob("*"))
    assert not any(p.suffix == ".npz" for p in (public / "data").rglob("*"))
    for name in ("train_images.npy", "train_labels.npy"):
        assert (hidden / "data" / name).read_bytes() == (public / "data" / name).read_bytes()


def test_both_classes_are_balanced_in_training_and_in_each_part_of_the_hidden_set(
    built: Callable[[int], Built],
) -> None:
    public, hidden = built(7)
    assert 0.45 <= np.load(public / "data" / "train_labels.npy").mean() <= 0.55
    answers = np.load(hidden / "answers.npz")
    labels, part = answers["labels"], answers["public"]
    assert abs(int(part.sum()) - int((~part).sum())) <= 1
    for rows in (part, ~part):
        assert 0.4 <= labels[rows].mean() <= 0.6


def test_patches_labelled_as_clusters_hold_brighter_spots(built: Callable[[int], Built]) -> None:
    """Without any learning, a spot filter already ranks the classes: the labels match the images."""
    public, _ = built(7)
    images = np.load(public / "data" / "train_images.npy")
    labels = np.load(public / "data" / "train_labels.npy")
    # difference of Gaussians: keeps 1-3 px spots, removes the tissue background
    spots = ndimage.gaussian_filter(images, (0, 0.7, 0.7)) - ndimage.gaussian_filter(images, (0, 3, 3))
    assert roc_auc_score(labels, spots.max(axis=(1, 2))) > 0.7
    # ... yet the brightest pixel alone says little: the tissue, not the spots, sets the brightness
    assert roc_auc_score(labels, images.max(axis=(1, 2))) < 0.7


def test_the_source_notebook_asks_for_four_solutions_or_more() -> None:
    source = nbformat.read(bundle().source_notebook, as_version=4)
    assert len([c for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")]) >= 4


def test_the_released_notebook_hides_the_solutions_and_the_hidden_tests() -> None:
    notebook = nbformat.read(bundle().source_notebook, as_version=4)
    resources: dict = {}
    for preprocessor in (ClearSolutions(), ClearHiddenTests(), ClearOutput()):
        notebook, resources = preprocessor.preprocess(notebook, resources)
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert "model.fit" not in text and "Conv2D(" not in text
    assert text.count("raise NotImplementedError()") >= 4
    # the scaffolding a participant builds on stays
    assert "def build_model() -> keras.Model:" in text and 'OUTPUT / "predictions.csv"' in text


@pytest.mark.slow
def test_the_constant_baseline_scores_exactly_one_half(tmp_path: Path, built: Callable[[int], Built]) -> None:
    _, hidden = built(7)
    output = run_notebook(bundle().baseline_notebook, hidden / "data", tmp_path / "run")
    scores = evaluate(bundle(), output, hidden / "answers.npz", run_job=no_jobs, work_dir=tmp_path / "work")
    assert scores.public == scores.private == bundle().manifest.target.baseline == 0.5
    assert scores.figures["roc"] == {"fpr": [0.0, 1.0], "tpr": [0.0, 1.0]}
