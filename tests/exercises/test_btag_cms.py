"""The b-tagging exercise: deterministic b, c and light jets, no leaked flavours, cheats refused, targets met."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from exercises.bundles import Bundle, builtin_bundle
from exercises.errors import InvalidPredictions
from exercises.evaluation import evaluate
from exercises.metrics import light_rejection
from exercises.release import student_notebook
from tests.builders.bundles import Built, build_bundle, files_of, no_jobs, seed_cache
from tests.exercises.several_hidden_sets import run_over_hidden_sets

SLUG = "btag-cms"


def bundle() -> Bundle:
    return builtin_bundle(SLUG)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Built]:
    return seed_cache(SLUG, tmp_path_factory)


def jets_of(path: Path) -> dict[str, np.ndarray]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    return {name: np.array([float(row[name]) for row in rows]) for name in rows[0]}


def second_significance(data: Path, prefix: str) -> np.ndarray:
    jets = jets_of(data / f"{prefix}_jets.csv")
    tracks = np.load(data / f"{prefix}_tracks.npy")
    real = np.arange(tracks.shape[1])[None, :] < jets["n_tracks"][:, None]
    return -np.sort(-np.where(real, tracks[:, :, 4], -50.0), axis=1)[:, 1]


def write_scores(output: Path, ids: np.ndarray, scores: np.ndarray) -> Path:
    output.mkdir(parents=True, exist_ok=True)
    with (output / "predictions.csv").open("w") as handle:
        handle.write("id,score\n")
        handle.writelines(f"{int(i)},{float(s)!r}\n" for i, s in zip(ids, scores, strict=True))
    return output


def score(output: Path, answers: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    return evaluate(bundle(), output, answers, run_job=no_jobs, work_dir=tmp_path / "work")


def test_the_same_secret_seed_builds_the_same_files_and_another_seed_other_hidden_jets(
    tmp_path: Path, built: Callable[[int], Built]
) -> None:
    first, other = built(7), built(8)
    again = build_bundle(SLUG, tmp_path, 7)
    for a_side, b_side in zip(first, again, strict=True):
        assert files_of(a_side) == files_of(b_side)
        for name in files_of(a_side):
            assert (a_side / name).read_bytes() == (b_side / name).read_bytes(), name
    hidden_a, hidden_b = first[1] / "data", other[1] / "data"
    assert (hidden_a / "test_tracks.npy").read_bytes() != (hidden_b / "test_tracks.npy").read_bytes()
    assert (hidden_a / "train_tracks.npy").read_bytes() == (hidden_b / "train_tracks.npy").read_bytes()
    for name in files_of(first[0]):  # the public side does not depend on the secret at all
        assert (first[0] / name).read_bytes() == (other[0] / name).read_bytes(), name


def test_the_files_have_the_documented_names_shapes_and_columns(built: Callable[[int], Built]) -> None:
    for root in built(7):
        data = root / "data"
        assert sorted(p.name for p in data.iterdir()) == [
            "features.txt",
            "test_jets.csv",
            "test_tracks.npy",
            "train_jets.csv",
            "train_tracks.npy",
        ]
        for prefix in ("train", "test"):
            tracks = np.load(data / f"{prefix}_tracks.npy")
            jets = jets_of(data / f"{prefix}_jets.csv")
            assert tracks.dtype == np.float32 and tracks.shape[1:] == (16, 7) and np.isfinite(tracks).all()
            assert len(jets["id"]) == tracks.shape[0]
            # rows beyond a jet's n_tracks are zeros; the rows before are real tracks
            real = np.arange(16)[None, :] < jets["n_tracks"][:, None]
            assert not tracks[~real].any() and (tracks[real][:, 0] > 0).all()
            assert ((jets["sv_mass"] == 0) == (jets["sv_n_tracks"] == 0)).all()
            assert jets["sv_mass"].max() <= 6.0
        assert "flavour" in jets_of(data / "train_jets.csv") and "flavour" not in jets_of(data / "test_jets.csv")
        answers = np.load(root / "answers.npz")
        assert answers["ids"].dtype == np.int64 and set(np.unique(answers["flavours"])) == {0, 4, 5}
        assert np.array_equal(answers["ids"], jets_of(data / "test_jets.csv")["id"].astype(np.int64))


def test_b_c_and_light_jets_differ_as_they_do_physically(built: Callable[[int], Built]) -> None:
    public, _ = built(7)
    data = public / "data"
    jets = jets_of(data / "train_jets.csv")
    flavour = jets["flavour"]
    tracks = np.load(data / "train_tracks.npy")
    real = np.arange(16)[None, :] < jets["n_tracks"][:, None]
    second = second_significance(data, "train")
    median = {f: float(np.median(second[flavour == f])) for f in (5, 4, 0)}
    assert median[5] > median[4] > median[0]  # displaced tracks: b most, charm in between
    assert jets["n_tracks"][flavour == 5].mean() > jets["n_tracks"][flavour == 0].mean()
    with_vertex = jets["sv_mass"] > 0
    assert with_vertex[flavour == 5].mean() > with_vertex[flavour == 4].mean() > with_vertex[flavour == 0].mean()
    b_mass, c_mass = (np.median(jets["sv_mass"][with_vertex & (flavour == f)]) for f in (5, 4))
    assert b_mass > 1.5 * c_mass and jets["sv_mass"][flavour == 5].max() > 4.0
    # light jets' significances are resolution: about as many negative as positive; b-jets' lean positive
    light_sig = tracks[real & (flavour == 0)[:, None], 4]
    b_sig = tracks[real & (flavour == 5)[:, None], 4]
    assert abs((light_sig > 3).mean() - (light_sig < -3).mean()) < 0.01
    assert (b_sig > 3).mean() > 3 * (b_sig < -3).mean()


def test_public_files_hold_no_hidden_flavours_and_ids_say_nothing_about_flavour(built: Callable[[int], Built]) -> None:
    public, hidden = built(7)
    for side in (public, hidden):
        assert not any(p.suffix == ".npz" for p in (side / "data").rglob("*"))
    answers = np.load(hidden / "answers.npz")
    sample_ids = np.load(public / "answers.npz")["ids"]
    train_ids = jets_of(public / "data" / "train_jets.csv")["id"].astype(np.int64)
    assert np.intersect1d(answers["ids"], sample_ids).size == 0 and np.intersect1d(answers["ids"], train_ids).size == 0
    # ids are drawn at random: ordering the jets by id ranks b-jets like a coin
    is_b = answers["flavours"] == 5
    assert abs(roc_auc_score(is_b, answers["ids"]) - 0.5) < 0.03


def test_each_part_of_the_hidden_set_holds_every_flavour_in_the_documented_mix(built: Callable[[int], Built]) -> None:
    answers = np.load(built(7)[1] / "answers.npz")
    flavours, public = answers["flavours"], answers["public"]
    for part in (public, ~public):
        shares = {f: float((flavours[part] == f).mean()) for f in (5, 4, 0)}
        assert shares == pytest.approx({5: 0.4, 4: 0.2, 0: 0.4}, abs=0.01)


def test_a_constant_score_rejects_like_chance_and_an_id_ordered_score_too(
    tmp_path: Path, built: Callable[[int], Built]
) -> None:
    _, hidden = built(7)
    ids = np.load(hidden / "answers.npz")["ids"]
    constant = score(write_scores(tmp_path / "constant", ids, np.zeros(ids.size)), hidden / "answers.npz", tmp_path)
    assert constant.public == pytest.approx(1 / 0.6) and constant.private == pytest.approx(1 / 0.6)
    by_id = score(write_scores(tmp_path / "by-id", ids, ids.astype(float)), hidden / "answers.npz", tmp_path)
    assert by_id.public < 2.5 and by_id.private < 2.5


def test_copying_the_public_sample_is_refused_at_grading(tmp_path: Path, built: Callable[[int], Built]) -> None:
    public, hidden = built(7)
    sample = np.load(public / "answers.npz")
    # the best a participant can do with the public sample: its ids, perfectly tagged
    output = write_scores(tmp_path / "copy", sample["ids"], (sample["flavours"] == 5).astype(float))
    with pytest.raises(InvalidPredictions, match="has no score for"):
        score(output, hidden / "answers.npz", tmp_path)


def test_the_baseline_cut_reaches_its_floor_on_several_hidden_sets(
    tmp_path: Path, built: Callable[[int], Built]
) -> None:
    """The baseline's cut computed here, as its notebook does, on three secret seeds."""
    for seed in (7, 8, 9):
        _, hidden = built(seed)
        answers = np.load(hidden / "answers.npz")
        second = second_significance(hidden / "data", "test")
        result = score(write_scores(tmp_path / f"cut-{seed}", answers["ids"], second), hidden / "answers.npz", tmp_path)
        for value in (result.public, result.private):
            assert 15.0 <= value <= 20.5, (seed, result)
        assert result.public == light_rejection(answers["flavours"][answers["public"]], second[answers["public"]])
        assert 1.0 < result.secondary["c_rejection"] < result.public
        assert 0.8 < result.secondary["b_light_auc"] < 0.95


def test_the_released_notebook_hides_the_network_and_keeps_the_scaffolding() -> None:
    text = "\n".join(cell.source for cell in student_notebook(bundle().source_notebook).cells)
    assert "GlobalAveragePooling1D" not in text and "model.fit" not in text and "BEGIN HIDDEN TESTS" not in text
    assert text.count("raise NotImplementedError()") >= 5
    assert "def build_model() -> keras.Model:" in text and 'OUTPUT / "predictions.csv"' in text


SEEDS = (7, 8, 9)


@pytest.mark.slow
def test_the_reference_network_reaches_its_documented_target_on_both_parts_of_several_hidden_sets(
    tmp_path: Path, built: Callable[[int], Built]
) -> None:
    hidden = [built(seed)[1] for seed in SEEDS]
    outputs = run_over_hidden_sets(
        bundle().source_notebook,
        hidden,
        tmp_path,
        table="test_jets.csv",
        arrays=["test_tracks.npy"],
        output_name="predictions.csv",
        counts=[len(np.load(root / "answers.npz")["ids"]) for root in hidden],
    )
    target = bundle().manifest.target.reference
    for seed, root, output in zip(SEEDS, hidden, outputs, strict=True):
        result = score(output, root / "answers.npz", tmp_path / str(seed))
        assert result.public >= target and result.private >= target, (seed, result.public, result.private)
        assert result.secondary["b_light_auc"] > 0.98 and result.secondary["c_rejection"] > 5


@pytest.mark.slow
def test_the_baseline_notebook_scores_about_its_documented_value_on_several_hidden_sets(
    tmp_path: Path, built: Callable[[int], Built]
) -> None:
    hidden = [built(seed)[1] for seed in SEEDS]
    outputs = run_over_hidden_sets(
        bundle().baseline_notebook,
        hidden,
        tmp_path,
        table="test_jets.csv",
        arrays=["test_tracks.npy"],
        output_name="predictions.csv",
        counts=[len(np.load(root / "answers.npz")["ids"]) for root in hidden],
    )
    for seed, root, output in zip(SEEDS, hidden, outputs, strict=True):
        result = score(output, root / "answers.npz", tmp_path / str(seed))
        assert result.public == pytest.approx(bundle().manifest.target.baseline, rel=0.15), seed
        # the notebook's cut is the one the fast test above computes
        answers = np.load(root / "answers.npz")
        second = second_significance(root / "data", "test")
        assert result.public == light_rejection(answers["flavours"][answers["public"]], second[answers["public"]])
