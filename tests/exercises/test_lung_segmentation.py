"""The lung-segmentation exercise: no leaked masks, reference and baseline on target.

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

from exercises.bundles import Bundle, builtin_bundle
from exercises.evaluation import evaluate
from tests.builders.bundles import Built, build_bundle, files_of, no_jobs, run_notebook, seed_cache

SLUG = "lung-segmentation"


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
    assert not np.array_equal(np.load(hidden_a / "answers.npz")["masks"], np.load(hidden_b / "answers.npz")["masks"])
    for name in ("train_images.npy", "train_masks.npy"):
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
            "train_masks.npy",
        ]
        train = np.load(root / "data" / "train_images.npy")
        masks = np.load(root / "data" / "train_masks.npy")
        test = np.load(root / "data" / "test_images.npy")
        answers = np.load(root / "answers.npz")
        assert train.dtype == np.float32 and train.ndim == 3 and train.shape[1:] == (128, 128)
        assert 200 <= len(train) <= 400
        assert test.dtype == np.float32 and test.shape[1:] == (128, 128)
        for images in (train, test):
            assert images.min() >= 0.0 and images.max() <= 1.0 and np.isfinite(images).all()
        assert answers["masks"].shape == test.shape
        assert answers["public"].dtype == np.bool_ and answers["public"].shape == (len(test),)
        for truth in (masks, answers["masks"]):
            assert truth.dtype == np.uint8 and set(np.unique(truth)) == {0, 1}
            # every radiograph shows lungs, so the empty-mask baseline scores exactly 0
            assert (truth.sum(axis=(1, 2)) > 0).all()
    assert masks.shape == train.shape
    assert np.load(public / "answers.npz")["public"].all()
    hidden_part = np.load(hidden / "answers.npz")["public"]
    assert abs(int(hidden_part.sum()) - int((~hidden_part).sum())) <= 1


def test_public_data_holds_no_hidden_masks_or_images(built: Callable[[int], Built]) -> None:
    public, hidden = built(7)
    hidden_test = np.load(hidden / "data" / "test_images.npy")
    public_test = np.load(public / "data" / "test_images.npy")
    train = np.load(public / "data" / "train_images.npy")
    hidden_rows = {image.tobytes() for image in hidden_test}
    assert hidden_rows.isdisjoint(image.tobytes() for image in public_test)
    assert hidden_rows.isdisjoint(image.tobytes() for image in train)
    hidden_masks = {mask.tobytes() for mask in np.load(hidden / "answers.npz")["masks"]}
    assert hidden_masks.isdisjoint(mask.tobytes() for mask in np.load(public / "data" / "train_masks.npy"))
    # the hidden folder is what a sandbox sees: training data and test inputs, no answers
    assert not any(p.suffix == ".npz" for p in (hidden / "data").rglob("*"))
    assert not any(p.suffix == ".npz" for p in (public / "data").rglob("*"))
    for name in ("train_images.npy", "train_masks.npy"):
        assert (hidden / "data" / name).read_bytes() == (public / "data" / name).read_bytes()


def test_every_mask_holds_two_lungs_of_plausible_size_that_vary_between_images(
    built: Callable[[int], Built],
) -> None:
    public, _ = built(7)
    masks = np.load(public / "data" / "train_masks.npy").astype(bool)
    fraction = masks.mean(axis=(1, 2))
    assert fraction.min() > 0.08 and fraction.max() < 0.35
    # one lung on each side of the spine
    assert masks[:, :, :64].any(axis=(1, 2)).all() and masks[:, :, 64:].any(axis=(1, 2)).all()
    # shapes differ: no mask is a copy of another, and the lungs move around
    assert len({mask.tobytes() for mask in masks}) == len(masks)
    tops = np.array([np.flatnonzero(mask.any(axis=1))[0] for mask in masks])
    assert tops.max() - tops.min() >= 8


def test_the_lung_fields_are_darker_than_the_tissue_around_them(built: Callable[[int], Built]) -> None:
    """The masks sit on the images' dark lung fields: labels and images agree."""
    public, _ = built(7)
    images = np.load(public / "data" / "train_images.npy")
    masks = np.load(public / "data" / "train_masks.npy").astype(bool)
    for image, mask in zip(images[:50], masks[:50], strict=True):
        ring = ndimage.binary_dilation(mask, iterations=6) & ~mask
        assert image[mask].mean() < image[ring].mean() - 0.03
    # ... yet one threshold does not segment them: ribs, noise and exposure get in the way
    threshold = np.median(images[:50], axis=(1, 2), keepdims=True) * 0.8
    overlap = ((images[:50] < threshold) & masks[:50]).sum(axis=(1, 2))
    sizes = (images[:50] < threshold).sum(axis=(1, 2)) + masks[:50].sum(axis=(1, 2))
    assert (2 * overlap / sizes).mean() < 0.85


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
    assert "unet.fit" not in text and "Conv2DTranspose(" not in text
    assert text.count("raise NotImplementedError()") >= 4
    # the scaffolding a participant builds on stays
    assert "def build_unet() -> keras.Model:" in text and 'OUTPUT / "masks.npy"' in text


@pytest.mark.slow
def test_the_empty_mask_baseline_scores_exactly_zero(tmp_path: Path, built: Callable[[int], Built]) -> None:
    _, hidden = built(7)
    output = run_notebook(bundle().baseline_notebook, hidden / "data", tmp_path / "run")
    scores = evaluate(bundle(), output, hidden / "answers.npz", run_job=no_jobs, work_dir=tmp_path / "work")
    assert scores.public == scores.private == bundle().manifest.target.baseline == 0.0
    assert scores.figures["dice_histogram"]["counts"][0] == int(np.load(hidden / "answers.npz")["public"].sum())
