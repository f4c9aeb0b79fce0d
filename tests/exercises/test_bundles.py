"""Bundles: finding and loading them, building their data, and scoring each output kind through evaluate()."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from exercises.bundles import Bundle, build_data, builtin_bundle, builtin_bundles, load_bundle
from exercises.errors import InvalidBundle, InvalidManifest, InvalidPredictions
from exercises.evaluation import Scores, evaluate, load_answers
from sandbox.jobs import Job, Result

MINE = ("breast-cancer", "met-anomaly")


def no_jobs(job: Job) -> Result:
    raise AssertionError("only the autoencoder kind runs sandbox jobs")


def copy_of(slug: str, root: Path, name: str | None = None) -> Path:
    target = root / (name or slug)
    shutil.copytree(builtin_bundle(slug).path, target)
    return target


def test_the_shipped_exercises_are_found_and_valid() -> None:
    slugs = [bundle.slug for bundle in builtin_bundles()]
    assert set(MINE) <= set(slugs) and slugs == sorted(slugs)
    for slug in MINE:
        bundle = builtin_bundle(slug)
        assert bundle.path.name == slug and bundle.source_notebook.is_file() and bundle.baseline_notebook.is_file()


def test_an_unknown_builtin_exercise_is_refused_with_its_name() -> None:
    with pytest.raises(InvalidBundle, match="no built-in exercise called 'nope'"):
        builtin_bundle("nope")
    with pytest.raises(InvalidBundle):
        builtin_bundle("../exercises")


def test_a_folder_missing_files_is_refused_naming_them(tmp_path: Path) -> None:
    folder = copy_of("breast-cancer", tmp_path)
    (folder / "baseline.ipynb").unlink()
    (folder / "data.py").unlink()
    with pytest.raises(InvalidBundle, match="lacks data.py, baseline.ipynb"):
        load_bundle(folder)


def test_the_slug_must_equal_the_folder_name(tmp_path: Path) -> None:
    folder = copy_of("breast-cancer", tmp_path, name="renamed")
    with pytest.raises(InvalidManifest, match="slug: must equal the folder name 'renamed'"):
        load_bundle(folder)


def test_a_data_py_without_build_is_refused(tmp_path: Path) -> None:
    folder = copy_of("breast-cancer", tmp_path)
    (folder / "data.py").write_text('"""No builder here."""\n')
    with pytest.raises(InvalidBundle, match="must define build"):
        build_data(load_bundle(folder), tmp_path / "public", tmp_path / "hidden", 1)


@pytest.mark.parametrize("slug", MINE)
def test_building_writes_both_sides_in_seconds_without_pickles(tmp_path: Path, slug: str) -> None:
    bundle = builtin_bundle(slug)
    started = time.monotonic()
    build_data(bundle, tmp_path / "public", tmp_path / "hidden", 123)
    assert time.monotonic() - started < 10
    for side in ("public", "hidden"):
        answers = load_answers(bundle.manifest.output.kind, tmp_path / side / "answers.npz")
        assert answers["public"].any() and (~answers["public"]).any()
        assert any((tmp_path / side / "data").iterdir())


def masks_bundle(root: Path) -> Bundle:
    """A minimal masks_npy bundle: what the lung-segmentation exercise looks like to evaluate()."""
    folder = copy_of("breast-cancer", root, name="tiny-masks")
    manifest = (folder / "manifest.toml").read_text()
    manifest = manifest.replace('slug = "breast-cancer"', 'slug = "tiny-masks"')
    manifest = manifest.replace('name = "roc_auc"', 'name = "dice"').replace(
        'kind = "scores_csv"', 'kind = "masks_npy"'
    )
    manifest = manifest.replace("reference = 0.96", "reference = 0.8").replace("baseline = 0.5", "baseline = 0.2")
    (folder / "manifest.toml").write_text(manifest)
    return load_bundle(folder)


def test_masks_are_scored_by_dice_on_each_part_with_overlays_to_show(tmp_path: Path) -> None:
    truth = np.zeros((4, 8, 8), dtype=np.uint8)
    truth[0, :4, :4] = 1  # public, predicted exactly: dice 1
    truth[1, :4, :4] = 1  # public, predicted empty: dice 0
    truth[3, 2:6, 2:6] = 1  # private, half overlapped
    public = np.array([True, True, False, False])
    np.savez(tmp_path / "answers.npz", masks=truth, public=public)
    predicted = np.zeros((4, 8, 8), dtype=np.float32)
    predicted[0, :4, :4] = 0.9
    predicted[3, 2:6, 2:4] = 1.0  # 8 of 16 pixels: dice 2*8/(16+8) = 2/3
    output = tmp_path / "output"
    output.mkdir()
    np.save(output / "masks.npy", predicted)
    scores = evaluate(
        masks_bundle(tmp_path),
        output,
        tmp_path / "answers.npz",
        run_job=no_jobs,
        work_dir=tmp_path / "w",
        labels_known=True,  # overlays show single images: only where the participant has the answers
    )
    assert isinstance(scores, Scores)
    assert scores.public == pytest.approx(0.5)
    assert scores.private == pytest.approx((1.0 + 2 / 3) / 2)  # image 2: both empty
    assert {o["index"] for o in scores.figures["overlays"]} <= {0, 1}
    assert sum(scores.figures["dice_histogram"]["counts"]) == 2


def test_masks_of_the_wrong_count_are_refused_through_evaluate(tmp_path: Path) -> None:
    np.savez(tmp_path / "answers.npz", masks=np.zeros((4, 8, 8), dtype=np.uint8), public=np.ones(4, dtype=bool))
    (tmp_path / "output").mkdir()
    np.save(tmp_path / "output" / "masks.npy", np.zeros((3, 8, 8)))
    with pytest.raises(InvalidPredictions, match="one mask per test image, 4 in all"):
        evaluate(
            masks_bundle(tmp_path), tmp_path / "output", tmp_path / "answers.npz", run_job=no_jobs, work_dir=tmp_path
        )


def test_an_answers_file_with_a_single_class_in_a_part_is_refused_as_a_bad_hidden_set(tmp_path: Path) -> None:
    np.savez(
        tmp_path / "answers.npz",
        ids=np.array([1, 2, 3, 4], dtype=np.int64),
        labels=np.array([0, 1, 1, 1], dtype=np.uint8),
        public=np.array([True, True, False, False]),
    )
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "predictions.csv").write_text("id,score\n1,0.1\n2,0.2\n3,0.3\n4,0.4\n")
    with pytest.raises(InvalidBundle, match="single class"):
        evaluate(
            builtin_bundle("breast-cancer"),
            tmp_path / "output",
            tmp_path / "answers.npz",
            run_job=no_jobs,
            work_dir=tmp_path,
        )


def test_answers_saved_with_pickles_are_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / "answers.npz", ids=np.array([{"a": 1}], dtype=object), labels=np.zeros(1))
    with pytest.raises(InvalidBundle, match="cannot be read"):
        load_answers("scores_csv", tmp_path / "answers.npz")
