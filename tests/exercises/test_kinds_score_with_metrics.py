"""Every registered output kind scores through exercises/metrics.py: its values are the metric functions' own.

Each kind reads a small synthetic output written here, and every score it gives (each of its primary metrics on
the public and the private part, and its secondaries) must equal the metric function of exercises.metrics applied
by this test to the same arrays. A new kind is held too: the test fails until SYNTHETIC has an output for it.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from exercises.kinds import KINDS
from exercises.kinds.base import ScoringJobs
from exercises.manifest import Resources
from exercises.metrics import METRICS, reconstruction_errors
from sandbox.jobs import Job, Outcome, Result

Rows = np.ndarray
Arguments = Callable[[Rows], tuple[Any, ...]]


@dataclass
class Synthetic:
    """Answers, the predictions a participant made, how they save them, and the metrics' arguments per part."""

    answers: dict[str, np.ndarray]
    predictions: np.ndarray
    write: Callable[[Path], None]
    arguments: Arguments  # the primary metric's arguments for the cases in rows, built here, not by the kind
    secondary: dict[str, Arguments] = field(default_factory=dict)
    run_job: Callable[[Job], Result] | None = None
    metric_of: dict[str, str] = field(default_factory=dict)  # a secondary's metric, where its name is not one


def halves(count: int, rng: np.random.Generator) -> np.ndarray:
    public = np.zeros(count, dtype=bool)
    public[rng.permutation(count)[: count // 2]] = True
    return public


def scores_csv(rng: np.random.Generator) -> Synthetic:
    ids = rng.permutation(np.arange(3000, 3120))
    labels = rng.integers(0, 2, ids.size).astype(np.uint8)
    labels[:2] = (0, 1)
    scores = rng.random(ids.size) + 0.4 * labels
    scores[5] = scores[6]  # a tie, which counts one half

    def write(output: Path) -> None:
        order = rng.permutation(ids.size)  # rows in any order: the kind puts them in the answers' order
        rows = "".join(f"{ids[i]},{float(scores[i])!r}\n" for i in order)
        (output / "predictions.csv").write_text("id,score\n" + rows)

    return Synthetic(
        answers={"ids": ids, "labels": labels, "public": halves(ids.size, rng)},
        predictions=scores,
        write=write,
        arguments=lambda rows: (labels[rows], scores[rows]),
    )


def masks_npy(rng: np.random.Generator) -> Synthetic:
    truth = (rng.random((24, 12, 12)) > 0.6).astype(np.uint8)
    truth[3] = 0  # an empty true mask
    predicted = np.clip(0.4 * truth + 0.5 * rng.random(truth.shape), 0.0, 1.0).astype(np.float32)
    return Synthetic(
        answers={"masks": truth, "public": halves(truth.shape[0], rng)},
        predictions=predicted,
        write=lambda output: np.save(output / "masks.npy", predicted),
        arguments=lambda rows: (truth[rows], predicted[rows]),
    )


def keras_file() -> bytes:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        archive.writestr("config.json", "{}")
    return raw.getvalue()


def autoencoder(rng: np.random.Generator) -> Synthetic:
    events = rng.normal(size=(160, 6)).astype(np.float32)
    is_anomaly = rng.random(events.shape[0]) < 0.25
    is_anomaly[:4] = (True, False, True, False)
    rebuilt = (events + rng.normal(scale=0.3, size=events.shape) * (1 + 3 * is_anomaly[:, None])).astype(np.float32)

    def write(output: Path) -> None:
        for name in ("encoder.keras", "decoder.keras"):
            (output / name).write_bytes(keras_file())

    def run_job(job: Job) -> Result:
        """Stand in for the sandboxed models: the encoder gives 3 numbers per event, the decoder `rebuilt`."""
        if job.command[-1].endswith("encode.py"):
            np.save(job.output_dir / "latent.npy", rng.normal(size=(events.shape[0], 3)).astype(np.float32))
        else:
            np.save(job.output_dir / "reconstructed.npy", rebuilt)
        return Result(outcome=Outcome.OK, duration_s=0.0, message="")

    def anomaly_auc_arguments(rows: Rows) -> tuple[Any, ...]:
        return is_anomaly[rows].astype(np.uint8), reconstruction_errors(events[rows], rebuilt[rows])

    return Synthetic(
        answers={"events": events, "is_anomaly": is_anomaly, "public": halves(events.shape[0], rng)},
        predictions=rebuilt,
        write=write,
        arguments=lambda rows: (events[rows], rebuilt[rows], is_anomaly[rows]),
        secondary={"anomaly_auc": anomaly_auc_arguments},
        run_job=run_job,
    )


def btag_scores_csv(rng: np.random.Generator) -> Synthetic:
    ids = rng.permutation(np.arange(7000, 7300))
    flavours = rng.permutation(np.repeat([5, 4, 0], [120, 60, 120]))
    scores = np.round(rng.normal(size=ids.size) + 1.5 * (flavours == 5) + 0.5 * (flavours == 4), 1)  # ties
    public = np.zeros(ids.size, dtype=bool)
    for flavour in (5, 4, 0):
        public[rng.permutation(np.flatnonzero(flavours == flavour))[:30]] = True

    def write(output: Path) -> None:
        order = rng.permutation(ids.size)
        rows = "".join(f"{ids[i]},{float(scores[i])!r}\n" for i in order)
        (output / "predictions.csv").write_text("id,score\n" + rows)

    def arguments(rows: Rows) -> tuple[Any, ...]:
        return flavours[rows], scores[rows]

    return Synthetic(
        answers={"ids": ids, "flavours": flavours, "public": public},
        predictions=scores,
        write=write,
        arguments=arguments,
        secondary={"c_rejection": arguments, "b_light_auc": arguments},
    )


def probabilities_csv(rng: np.random.Generator) -> Synthetic:
    classes = ["blip", "whistle", "koi_fish"]
    labels = rng.permutation(np.repeat(np.arange(3), 40))
    public = np.zeros(labels.size, dtype=bool)
    for value in range(3):
        public[rng.permutation(np.flatnonzero(labels == value))[:20]] = True
    logits = rng.integers(0, 3, (labels.size, 3)).astype(float)  # ties in the argmax
    logits[np.arange(labels.size), labels] += rng.integers(0, 3, labels.size)
    probabilities = np.round(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), 15)

    def write(output: Path) -> None:
        rows = "".join(
            ",".join([str(case), *(repr(float(v)) for v in probabilities[case])]) + "\n"
            for case in rng.permutation(labels.size)
        )
        (output / "probabilities.csv").write_text("id," + ",".join(classes) + "\n" + rows)

    def arguments(rows: Rows) -> tuple[Any, ...]:
        return labels[rows], probabilities[rows]

    def recall_of(index: int) -> Arguments:
        return lambda rows: (labels[rows], probabilities[rows], index)

    return Synthetic(
        answers={"ids": np.arange(labels.size), "labels": labels, "classes": np.array(classes), "public": public},
        predictions=probabilities,
        write=write,
        arguments=arguments,
        secondary={"accuracy": arguments, **{f"recall_{name}": recall_of(i) for i, name in enumerate(classes)}},
        metric_of={f"recall_{name}": "class_recall" for name in classes},
    )


SYNTHETIC: dict[str, Callable[[np.random.Generator], Synthetic]] = {
    "scores_csv": scores_csv,
    "masks_npy": masks_npy,
    "autoencoder": autoencoder,
    "btag_scores_csv": btag_scores_csv,
    "probabilities_csv": probabilities_csv,
}


def no_job(job: Job) -> Result:
    raise AssertionError("this kind must not run sandboxed jobs")


@pytest.mark.parametrize("kind_name", sorted(KINDS))
def test_every_kind_scores_each_part_with_the_metric_functions(kind_name: str, tmp_path: Path) -> None:
    assert kind_name in SYNTHETIC, f"Add a small synthetic output of the {kind_name} kind to SYNTHETIC."
    kind = KINDS[kind_name]
    synthetic = SYNTHETIC[kind_name](np.random.default_rng(11))
    output = tmp_path / "output"
    output.mkdir()
    synthetic.write(output)
    np.savez(tmp_path / "answers.npz", **synthetic.answers)
    answers = kind.load_answers(tmp_path / "answers.npz")
    resources = Resources(device="cpu", gpu_preferred=False, wall_seconds=60, memory_mb=1024, processes=64, cpus=1.0)
    jobs = ScoringJobs(run_job=synthetic.run_job or no_job, work_dir=tmp_path / "work", resources=resources)

    predictions = kind.read(output, answers, jobs)

    assert np.array_equal(predictions, synthetic.predictions)
    public = synthetic.answers["public"]
    assert public.any() and (~public).any()
    for metric in kind.metrics:
        scores = kind.score(answers, predictions, metric=metric, labels_known=False)
        function = METRICS[metric].function
        assert scores.public == function(*synthetic.arguments(public))
        assert scores.private == function(*synthetic.arguments(~public))
        expected_secondary = {}
        for name, arguments in synthetic.secondary.items():
            function = METRICS[synthetic.metric_of.get(name, name)].function
            expected_secondary[name] = function(*arguments(public))
            expected_secondary[name + "_private"] = function(*arguments(~public))
        assert scores.secondary == expected_secondary


def test_every_kind_offers_metrics_the_registry_defines() -> None:
    for kind in KINDS.values():
        assert kind.metrics and set(kind.metrics) <= set(METRICS)
