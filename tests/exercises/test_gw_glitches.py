"""The glitch exercise: deterministic spectrograms of seven families, no leaked classes, cheats at chance, on target."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from exercises.bundles import Bundle, builtin_bundle
from exercises.errors import InvalidPredictions
from exercises.evaluation import evaluate
from exercises.metrics import macro_f1
from exercises.release import student_notebook
from tests.builders.bundles import Built, build_bundle, files_of, no_jobs, seed_cache
from tests.exercises.several_hidden_sets import run_over_hidden_sets

SLUG = "gw-glitches"
CLASSES = [
    "blip",
    "whistle",
    "scattered_light",
    "koi_fish",
    "low_frequency_burst",
    "power_line",
    "none_of_the_above",
]


def bundle() -> Bundle:
    return builtin_bundle(SLUG)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Built]:
    return seed_cache(SLUG, tmp_path_factory)


def write_probabilities(output: Path, ids: np.ndarray, probabilities: np.ndarray) -> Path:
    output.mkdir(parents=True, exist_ok=True)
    with (output / "probabilities.csv").open("w") as handle:
        handle.write(",".join(["id", *CLASSES]) + "\n")
        for case, row in zip(ids, probabilities, strict=True):
            handle.write(",".join([str(int(case)), *(repr(float(v)) for v in row)]) + "\n")
    return output


def one_hot(classes: np.ndarray) -> np.ndarray:
    return np.eye(len(CLASSES))[classes]


def score(output: Path, answers: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    return evaluate(bundle(), output, answers, run_job=no_jobs, work_dir=tmp_path / "work")


def test_the_same_secret_seed_builds_the_same_files_and_another_seed_other_hidden_maps(
    tmp_path: Path, built: Callable[[int], Built]
) -> None:
    first, other = built(7), built(8)
    again = build_bundle(SLUG, tmp_path, 7)
    for a_side, b_side in zip(first, again, strict=True):
        assert files_of(a_side) == files_of(b_side)
        for name in files_of(a_side):
            assert (a_side / name).read_bytes() == (b_side / name).read_bytes(), name
    hidden_a, hidden_b = first[1] / "data", other[1] / "data"
    assert (hidden_a / "test_images.npy").read_bytes() != (hidden_b / "test_images.npy").read_bytes()
    assert (hidden_a / "train_images.npy").read_bytes() == (hidden_b / "train_images.npy").read_bytes()
    for name in files_of(first[0]):
        assert (first[0] / name).read_bytes() == (other[0] / name).read_bytes(), name


def test_the_files_have_the_documented_names_shapes_types_and_classes(built: Callable[[int], Built]) -> None:
    for root in built(7):
        data = root / "data"
        assert sorted(p.name for p in data.iterdir()) == [
            "classes.txt",
            "test_images.npy",
            "train_images.npy",
            "train_labels.npy",
        ]
        assert (data / "classes.txt").read_text().split() == CLASSES
        train, labels = np.load(data / "train_images.npy"), np.load(data / "train_labels.npy")
        test = np.load(data / "test_images.npy")
        for images in (train, test):
            assert images.dtype == np.float32 and images.shape[1:] == (32, 32)
            assert np.isfinite(images).all() and images.min() >= 0.0
        assert labels.dtype == np.int64 and np.bincount(labels).tolist() == [len(train) // 7] * 7
        answers = np.load(root / "answers.npz")
        assert answers["classes"].tolist() == CLASSES
        assert np.array_equal(answers["ids"], np.arange(len(test)))


def test_each_family_has_its_characteristic_shape(built: Callable[[int], Built]) -> None:
    """Without learning, where the energy sits already tells families apart: the labels match the maps."""
    data = built(7)[0] / "data"
    images, labels = np.load(data / "train_images.npy"), np.load(data / "train_labels.npy")
    excess = images - 1.0  # the whitened noise averages 1
    low_rows = np.clip(excess, 0, None)[:, :10].sum(axis=(1, 2)) / (np.clip(excess, 0, None).sum(axis=(1, 2)) + 1e-9)
    along_time = excess.mean(axis=2).max(axis=1)  # a row lit across the window
    along_frequency = excess.mean(axis=1).max(axis=1)  # a column lit across the band
    family = {name: labels == i for i, name in enumerate(CLASSES)}
    # power lines are horizontal, blips vertical
    assert np.median((along_time / along_frequency)[family["power_line"]]) > 3
    assert np.median((along_time / along_frequency)[family["blip"]]) < 0.5
    # low-frequency bursts and scattered light sit low, whistles high
    low = {name: float(np.median(low_rows[rows])) for name, rows in family.items()}
    assert low["low_frequency_burst"] > 2 * low["whistle"] and low["scattered_light"] > 1.5 * low["whistle"]
    # koi fish are the loudest
    loudest = images.max(axis=(1, 2))
    assert np.median(loudest[family["koi_fish"]]) > np.median(loudest[family["blip"]])


def test_the_hidden_set_is_balanced_with_every_class_in_each_part(built: Callable[[int], Built]) -> None:
    public, hidden = built(7)
    answers = np.load(hidden / "answers.npz")
    for part in (answers["public"], ~answers["public"]):
        assert np.bincount(answers["labels"][part], minlength=7).tolist() == [100] * 7
    for side in (public, hidden):
        assert not any(p.suffix == ".npz" for p in (side / "data").rglob("*"))


def test_equal_probabilities_score_exactly_one_in_28_and_ids_carry_no_class(
    tmp_path: Path, built: Callable[[int], Built]
) -> None:
    _, hidden = built(7)
    answers = np.load(hidden / "answers.npz")
    ids = answers["ids"]
    equal = score(
        write_probabilities(tmp_path / "equal", ids, np.full((ids.size, 7), 1 / 7)), hidden / "answers.npz", tmp_path
    )
    assert equal.public == equal.private == pytest.approx(1 / 28)
    assert equal.public == pytest.approx(bundle().manifest.target.baseline, abs=1e-4)
    # the id is the row: any rule on it (here the id modulo 7) classifies like a die
    by_id = score(write_probabilities(tmp_path / "by-id", ids, one_hot(ids % 7)), hidden / "answers.npz", tmp_path)
    assert by_id.public < 0.25 and by_id.private < 0.25
    # and so does copying the training labels in their order
    train_labels = np.load(hidden / "data" / "train_labels.npy")[: ids.size]
    copied = score(
        write_probabilities(tmp_path / "copied", ids, one_hot(train_labels)), hidden / "answers.npz", tmp_path
    )
    assert copied.public < 0.25


def test_copying_the_public_sample_is_refused_at_grading(tmp_path: Path, built: Callable[[int], Built]) -> None:
    public, hidden = built(7)
    sample = np.load(public / "answers.npz")
    output = write_probabilities(tmp_path / "copy", sample["ids"], one_hot(sample["labels"]))
    with pytest.raises(InvalidPredictions, match="has no score for"):
        score(output, hidden / "answers.npz", tmp_path)


def test_perfect_probabilities_score_one_with_every_recall_one(tmp_path: Path, built: Callable[[int], Built]) -> None:
    _, hidden = built(7)
    answers = np.load(hidden / "answers.npz")
    result = score(
        write_probabilities(tmp_path / "perfect", answers["ids"], one_hot(answers["labels"])),
        hidden / "answers.npz",
        tmp_path,
    )
    assert result.public == result.private == 1.0
    assert all(result.secondary[f"recall_{name}"] == 1.0 for name in CLASSES)
    confusion = result.figures["confusion"]
    assert confusion["classes"] == CLASSES and np.array_equal(np.array(confusion["counts"]), 100 * np.eye(7))


def test_the_released_notebook_hides_the_network_and_keeps_the_scaffolding() -> None:
    text = "\n".join(cell.source for cell in student_notebook(bundle().source_notebook).cells)
    assert "Conv2D(" not in text and "model.fit" not in text and "BEGIN HIDDEN TESTS" not in text
    assert text.count("raise NotImplementedError()") >= 5
    assert "def build_model() -> keras.Model:" in text and 'OUTPUT / "probabilities.csv"' in text


SEEDS = (7, 8, 9)


def run_over(notebook: Path, hidden: list[Path], tmp_path: Path) -> list[Path]:
    return run_over_hidden_sets(
        notebook,
        hidden,
        tmp_path,
        table="",
        arrays=["test_images.npy"],
        output_name="probabilities.csv",
        counts=[len(np.load(root / "answers.npz")["ids"]) for root in hidden],
    )


@pytest.mark.slow
def test_the_reference_cnn_reaches_its_documented_target_on_both_parts_of_several_hidden_sets(
    tmp_path: Path, built: Callable[[int], Built]
) -> None:
    hidden = [built(seed)[1] for seed in SEEDS]
    target = bundle().manifest.target.reference
    for seed, root, output in zip(SEEDS, hidden, run_over(bundle().source_notebook, hidden, tmp_path), strict=True):
        result = score(output, root / "answers.npz", tmp_path / str(seed))
        assert result.public >= target and result.private >= target, (seed, result.public, result.private)
        assert min(result.secondary[f"recall_{name}"] for name in CLASSES) > 0.5, result.secondary


@pytest.mark.slow
def test_the_equal_probabilities_baseline_notebook_scores_its_documented_value_on_several_hidden_sets(
    tmp_path: Path, built: Callable[[int], Built]
) -> None:
    hidden = [built(seed)[1] for seed in SEEDS]
    for seed, root, output in zip(SEEDS, hidden, run_over(bundle().baseline_notebook, hidden, tmp_path), strict=True):
        result = score(output, root / "answers.npz", tmp_path / str(seed))
        assert result.public == result.private == pytest.approx(1 / 28), seed
        labels = np.load(root / "answers.npz")["labels"]
        assert result.public == pytest.approx(macro_f1(labels, np.full((labels.size, 7), 1 / 7)))
