"""The met-anomaly exercise: hidden events stay hidden, the bottleneck stays honest, targets hold.

What every exercise holds (reproducible data, nbgrader markers, the reference's target) is in test_builtin_bundles.py.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from exercises.bundles import Bundle, builtin_bundle
from exercises.errors import InvalidPredictions
from exercises.evaluation import evaluate
from exercises.kinds.autoencoder import MAX_LATENT_SIZE, prepare_latent_codes
from sandbox.jobs import Job
from tests.builders.bundles import Built, ProcessJobs, ReferenceRun, build_bundle, run_notebook

SLUG = "met-anomaly"
VENV_BIN = Path(sys.executable).parent


def bundle() -> Bundle:
    return builtin_bundle(SLUG)


def build(root: Path, seed: int) -> Built:
    return build_bundle(SLUG, root, seed)


def normal_hidden_events(hidden: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    answers = np.load(hidden / "answers.npz")
    return answers["events"], answers["is_anomaly"].astype(bool), answers["public"]


def test_different_secret_seeds_give_different_hidden_events_but_the_same_training_data(tmp_path: Path) -> None:
    _, hidden_a = build(tmp_path / "a", 1)
    _, hidden_b = build(tmp_path / "b", 2)
    assert not np.array_equal(np.load(hidden_a / "answers.npz")["events"], np.load(hidden_b / "answers.npz")["events"])
    assert (hidden_a / "data" / "train.npy").read_bytes() == (hidden_b / "data" / "train.npy").read_bytes()


def test_hidden_events_never_enter_the_data_a_participant_sees(tmp_path: Path) -> None:
    public, hidden = build(tmp_path, 3)
    events = np.load(hidden / "answers.npz")["events"]
    hidden_rows = {row.tobytes() for row in events}
    for side in (public, hidden):
        assert sorted(p.name for p in (side / "data").iterdir()) == ["features.txt", "train.npy", "validation.npy"]
        for name in ("train.npy", "validation.npy"):
            array = np.load(side / "data" / name)
            assert array.dtype == np.float32 and array.shape[1] == events.shape[1]
            assert hidden_rows.isdisjoint(row.tobytes() for row in array)
        assert (side / "data" / "train.npy").read_bytes() == (public / "data" / "train.npy").read_bytes()
    names = [line.split(",")[0] for line in (public / "data" / "features.txt").read_text().splitlines()[1:]]
    assert len(names) == events.shape[1] and {"met", "met_significance", "ht", "n_jets"} <= set(names)


def test_the_hidden_set_mixes_about_ten_percent_anomalies_into_both_parts(tmp_path: Path) -> None:
    _, hidden = build(tmp_path, 4)
    events, is_anomaly, public = normal_hidden_events(hidden)
    assert events.dtype == np.float32 and np.isfinite(events).all()
    for part in (public, ~public):
        assert 0.08 < is_anomaly[part].mean() < 0.12
    met = events[:, 0]
    assert np.median(met[is_anomaly]) > np.median(met[~is_anomaly]) + 1.0  # anomalies carry large MET


def quantile_bins(train: np.ndarray, levels: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Return each feature's bin edges and the training mean of each bin (an empty bin takes its edge)."""
    edges, centres = [], []
    for column in train.T:
        cuts = np.quantile(column, np.linspace(0, 1, levels + 1)[1:-1])
        bins = np.digitize(column, cuts)
        fallback = np.r_[cuts, cuts[-1:]]
        centres.append(
            np.array([column[bins == b].mean() if (bins == b).any() else fallback[b] for b in range(levels)])
        )
        edges.append(cuts)
    return edges, centres


def packed_codes(events: np.ndarray, edges: list[np.ndarray], levels: int) -> tuple[np.ndarray, list[list[int]]]:
    """Pack every feature's quantile bin into 8 numbers, 2 or 3 features each, like a cheating encoder."""
    groups = [list(range(start, events.shape[1], MAX_LATENT_SIZE)) for start in range(MAX_LATENT_SIZE)]
    codes = np.zeros((events.shape[0], MAX_LATENT_SIZE))
    for j, group in enumerate(groups):
        for f in group:
            codes[:, j] = codes[:, j] * levels + np.digitize(events[:, f], edges[f])
    return codes, groups


def unpacked(codes: np.ndarray, centres: list[np.ndarray], levels: int, groups: list[list[int]]) -> np.ndarray:
    """Decode packed codes like the cheat's decoder: round, split the digits, use each bin's mean."""
    rebuilt = np.zeros((codes.shape[0], len(centres)))
    for j, group in enumerate(groups):
        value = np.clip(np.round(codes[:, j].astype(np.float64)), 0, levels ** len(group) - 1).astype(np.int64)
        for f in reversed(group):
            rebuilt[:, f] = centres[f][value % levels]
            value //= levels
    return rebuilt


@pytest.mark.parametrize("levels", [2, 3, 4, 8, 16])
def test_packing_all_features_into_eight_numbers_does_not_beat_the_reference(tmp_path: Path, levels: int) -> None:
    _, hidden = build(tmp_path, 5)
    train = np.load(hidden / "data" / "train.npy")
    events, is_anomaly, _ = normal_hidden_events(hidden)
    edges, centres = quantile_bins(train, levels)
    codes, groups = packed_codes(events, edges, levels)
    without_noise = unpacked(codes, centres, levels, groups)
    noisy = prepare_latent_codes(codes, events.shape[0], seed=99)
    cheat_loss = float(((events - unpacked(noisy, centres, levels, groups))[~is_anomaly] ** 2).mean())
    honest_target = bundle().manifest.target.reference  # the reference reaches it: see the slow test
    if levels >= 4:  # the packing itself works: it would win if the codes crossed intact
        assert float(((events - without_noise)[~is_anomaly] ** 2).mean()) < honest_target
    assert cheat_loss > 1.5 * honest_target


def test_bit_packing_features_into_float32_bits_is_refused_or_loses(tmp_path: Path) -> None:
    _, hidden = build(tmp_path, 5)
    events, is_anomaly, _ = normal_hidden_events(hidden)
    # 10 bits of each of three features in one 32-bit word (24 slots for 20 features)
    padded = np.zeros((events.shape[0], 24))
    padded[:, :20] = events
    bits = np.clip((padded + 4) / 8 * 1023, 0, 1023).astype(np.uint32).reshape(-1, 8, 3)
    words = (bits[..., 0] << 20) | (bits[..., 1] << 10) | bits[..., 2]
    # read as float32, these words span hundreds of orders of magnitude: beyond float16, refused
    with pytest.raises(InvalidPredictions, match="float16"):
        prepare_latent_codes(words.view(np.float32) * 1e38, events.shape[0], seed=1)
    # set the exponent to that of 1.0, so every word is a float32 in [1, 2): accepted, then rounded
    in_range = (words & np.uint32(0x007FFFFF)) | np.uint32(0x3F800000)
    noisy = prepare_latent_codes(in_range.view(np.float32), events.shape[0], seed=1).view(np.uint32)
    unpacked_bits = np.stack([(noisy >> 20) & 7, (noisy >> 10) & 1023, noisy & 1023], axis=-1)
    rebuilt = unpacked_bits.reshape(-1, 24)[:, :20] / 1023 * 8 - 4
    without_noise = np.stack([(in_range >> 20) & 7, (in_range >> 10) & 1023, in_range & 1023], axis=-1)
    assert np.array_equal(without_noise[..., 1:], bits[..., 1:])  # the packing itself is lossless
    cheat_loss = float(((events - rebuilt)[~is_anomaly] ** 2).mean())
    assert cheat_loss > bundle().manifest.target.baseline


def test_memorizing_the_training_events_does_not_beat_the_reference(tmp_path: Path) -> None:
    _, hidden = build(tmp_path, 6)
    train = np.load(hidden / "data" / "train.npy")
    events, is_anomaly, _ = normal_hidden_events(hidden)
    events, is_anomaly = events[:1000], is_anomaly[:1000]
    # the encoder sends the index of the nearest training event; the decoder looks it up
    distances = ((events[:, None, :] - train[None, :5000, :]) ** 2).sum(axis=2)
    nearest = distances.argmin(axis=1).astype(np.float64)
    exact = float(((events - train[nearest.astype(int)])[~is_anomaly] ** 2).mean())
    noisy = prepare_latent_codes(nearest[:, None], events.shape[0], seed=7)[:, 0]
    looked_up = train[np.clip(np.round(noisy).astype(int), 0, 4999)]
    cheat_loss = float(((events - looked_up)[~is_anomaly] ** 2).mean())
    assert exact < 1.0  # the memory itself is useful...
    assert cheat_loss > bundle().manifest.target.baseline  # ...but an index does not survive the noise


def test_an_encoder_that_copies_its_input_is_refused_for_its_latent_size() -> None:
    events = np.random.default_rng(0).normal(size=(50, 20))
    with pytest.raises(InvalidPredictions, match="at most 8 dimensions"):
        prepare_latent_codes(events, 50, seed=0)


def test_latent_codes_of_the_wrong_count_or_not_finite_are_refused() -> None:
    codes = np.zeros((50, 4))
    with pytest.raises(InvalidPredictions, match=r"one row of latent numbers per event, shape \(60, k\)"):
        prepare_latent_codes(codes, 60, seed=0)
    codes[3, 1] = np.nan
    with pytest.raises(InvalidPredictions, match="NaN or infinite"):
        prepare_latent_codes(codes, 50, seed=0)


def test_missing_model_files_are_refused_before_any_job_runs(tmp_path: Path) -> None:
    _, hidden = build(tmp_path / "built", 8)
    output = tmp_path / "output"
    output.mkdir()
    (output / "encoder.keras").write_bytes(b"not really a model")
    jobs: list[Job] = []
    with pytest.raises(InvalidPredictions, match=r"did not write output/decoder\.keras"):
        evaluate(bundle(), output, hidden / "answers.npz", run_job=jobs.append, work_dir=tmp_path / "work")
    assert jobs == []


@pytest.mark.slow
def test_the_reference_autoencoder_finds_the_anomalies_and_its_decoder_never_sees_hidden_events(
    reference_run: Callable[[str], ReferenceRun],
) -> None:
    run = reference_run(SLUG)  # the run whose target test_builtin_bundles.py checks
    scores = run.scores
    assert scores.secondary["anomaly_auc"] > 0.9 and scores.secondary["anomaly_auc_private"] > 0.9
    # the decoder's job never saw the hidden events, only the latent codes
    encode, decode = run.jobs
    assert [m.name for m in encode.mounts] == ["scripts", "model", "events"]
    assert [m.name for m in decode.mounts] == ["scripts", "model", "codes"]
    assert encode.command == ("python", "scripts/encode.py")
    assert decode.command == ("python", "scripts/decode.py")


@pytest.mark.slow
def test_the_mean_reconstruction_baseline_scores_the_variance_around_the_training_mean(tmp_path: Path) -> None:
    _, hidden = build(tmp_path / "built", 12)
    output = run_notebook(bundle().baseline_notebook, hidden / "data", tmp_path / "run")
    scores = evaluate(
        bundle(), output, hidden / "answers.npz", run_job=ProcessJobs(tmp_path / "state"), work_dir=tmp_path / "w"
    )
    train = np.load(hidden / "data" / "train.npy").astype(np.float64)
    events, is_anomaly, public = normal_hidden_events(hidden)
    spread = (events.astype(np.float64) - train.mean(axis=0)) ** 2
    assert scores.public == pytest.approx(spread[public & ~is_anomaly].mean(), rel=1e-5)
    assert scores.private == pytest.approx(spread[~public & ~is_anomaly].mean(), rel=1e-5)
    assert scores.public == pytest.approx(bundle().manifest.target.baseline, abs=0.05)


@pytest.mark.slow
def test_an_encoder_with_a_lambda_layer_is_refused_with_a_message(tmp_path: Path) -> None:
    _, hidden = build(tmp_path / "built", 13)
    output = tmp_path / "output"
    output.mkdir()
    script = f"""
import os
os.environ["KERAS_BACKEND"] = "tensorflow"
import keras
x = keras.Input((20,))
keras.Model(x, keras.layers.Lambda(lambda t: t[:, :4] * 2)(x)).save("{output}/encoder.keras")
y = keras.Input((4,))
keras.Model(y, keras.layers.Dense(20)(y)).save("{output}/decoder.keras")
"""
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    jobs = ProcessJobs(tmp_path / "state")
    with pytest.raises(InvalidPredictions, match="could not be loaded safely") as refused:
        evaluate(bundle(), output, hidden / "answers.npz", run_job=jobs, work_dir=tmp_path / "work")
    assert "encode step" in str(refused.value) and len(jobs.jobs) == 1  # the decoder never ran
