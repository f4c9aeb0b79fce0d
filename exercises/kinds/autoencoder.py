"""The autoencoder kind: output/encoder.keras and decoder.keras, run in the sandbox, ranked by reconstruction loss."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from exercises.errors import InvalidBundle, InvalidPredictions, ScoringFailed
from exercises.kinds import figures
from exercises.kinds.base import (
    Answers,
    OutputKind,
    Picture,
    RunJob,
    Scores,
    ScoringJobs,
    histograms,
    min_cases,
    parts,
)
from exercises.metrics import reconstruction_errors, roc_auc, roc_points
from exercises.outputs import (
    MAX_MODEL_BYTES,
    check_keras_archive,
    copy_untrusted_file,
    npy_bytes_for,
    read_npy,
    read_untrusted_file,
)
from sandbox.jobs import Job, Limits, MiB, Mount, Outcome

if TYPE_CHECKING:
    from exercises.manifest import Resources

JOB_SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "jobscripts"
MAX_LATENT_SIZE = 8
# Noise added to each latent dimension, as a fraction of that dimension's standard deviation over
# the hidden events. It caps what one latent number can carry at about 0.5*log2(1 + 1/0.1**2) = 3.3
# bits (Shannon), so packing many features into 8 numbers cannot beat a real autoencoder, while a
# smooth decoder loses only about 1% of the variance it captured.
LATENT_NOISE = 0.1
FLOAT16_MAX = float(np.finfo(np.float16).max)
MAX_JOB_SECONDS = 300.0
MODEL_FILES = ("encoder.keras", "decoder.keras")


class Autoencoder(OutputKind):
    """An encoder to at most 8 latent numbers and a decoder back; the answers hold the events and their class."""

    name = "autoencoder"
    metrics = ("reconstruction_loss",)
    answer_arrays = ("events", "is_anomaly")
    class_array = "is_anomaly"

    def check_answers(self, answers: Answers) -> None:
        """Refuse events that are not a finite (events, features) array with one is_anomaly flag each."""
        events = answers["events"]
        if events.ndim != 2 or answers["is_anomaly"].shape != (events.shape[0],) or not np.isfinite(events).all():
            raise InvalidBundle(
                "The answers' events must be a finite (events, features) array; rebuild the hidden set."
            )

    def read(self, output_dir: Path, answers: Answers, jobs: ScoringJobs) -> np.ndarray:
        """Run the encoder on the hidden events and the decoder on their noisy codes; return the rebuilt events.

        Each model runs in a sandbox of its own (`jobs.run_job`); the decoder never sees the events.
        """
        events = answers["events"].astype(np.float32)
        work_dir = Path(jobs.work_dir)
        # Copy both files first: a missing decoder is reported before any sandbox time is spent.
        staged = work_dir / "submitted"
        models = {name: read_untrusted_file(Path(output_dir) / name, MAX_MODEL_BYTES) for name in MODEL_FILES}
        for name, raw in models.items():  # both are there: now say what is wrong with either
            check_keras_archive(raw, name)
            (staged / name).parent.mkdir(parents=True, exist_ok=True)
            (staged / name).write_bytes(raw)
        limits = _job_limits(jobs.resources)
        codes = _run_model_job(
            jobs.run_job,
            work_dir,
            limits,
            step="encode",
            model_file=staged / "encoder.keras",
            input_name="events",
            input_file="events.npy",
            input_array=events,
            result_name="latent.npy",
            # any width passes here, so that too wide a latent space gets prepare_latent_codes' own sentence
            result_shape=(events.shape[0], None),
            any_length=8 * MAX_LATENT_SIZE,
        )
        latent = prepare_latent_codes(codes, events.shape[0], noise_seed_for(events))
        # The decoder sees the noisy codes alone, never the events they came from.
        return _run_model_job(
            jobs.run_job,
            work_dir,
            limits,
            step="decode",
            model_file=staged / "decoder.keras",
            input_name="codes",
            input_file="latent.npy",
            input_array=latent,
            result_name="reconstructed.npy",
            result_shape=events.shape,
        )

    def metric_arguments(self, answers: Answers, predictions: np.ndarray, rows: np.ndarray) -> tuple[Any, ...]:
        """Return (events, rebuilt events, is_anomaly) of the events in `rows`, events as the models saw them."""
        events = answers["events"].astype(np.float32)
        return events[rows], predictions[rows], answers["is_anomaly"].astype(bool)[rows]

    def score(self, answers: Answers, predictions: np.ndarray, *, metric: str, labels_known: bool) -> Scores:
        """Score each part with `metric`, with the anomaly AUC of the per-event errors as secondary.

        Figures: the public part's anomaly ROC curve and log-spaced error histograms of normal events and anomalies.
        """
        events, is_anomaly = answers["events"].astype(np.float32), answers["is_anomaly"].astype(bool)
        cases = min_cases(labels_known)
        errors = reconstruction_errors(events, predictions)
        public, private = parts(answers["public"])
        normal = ~is_anomaly
        secondary: dict[str, float] = {}
        figure_data: dict[str, Any] = {}
        if is_anomaly[public].any() and normal[public].any():
            secondary["anomaly_auc"] = roc_auc(is_anomaly[public].astype(np.uint8), errors[public])
            figure_data["roc"] = roc_points(is_anomaly[public].astype(np.uint8), errors[public], min_cases=cases)
        if is_anomaly[private].any() and normal[private].any():
            secondary["anomaly_auc_private"] = roc_auc(is_anomaly[private].astype(np.uint8), errors[private])
        # log-spaced bins: anomalies sit orders of magnitude above normal events
        log_errors = np.log10(np.maximum(errors[public], 1e-12))
        figure_data["error_histogram"] = histograms(
            log_errors, is_anomaly[public], ("normal", "anomaly"), min_cases=cases
        )
        figure_data["error_histogram"]["axis"] = "log10(mean squared error per event)"
        public_score, private_score = self.score_parts(answers, predictions, metric)
        return Scores(public=public_score, private=private_score, secondary=secondary, figures=figure_data)

    def draw(
        self, scores: Scores, *, figures_dir: Path, output_dir: Path, data_dir: Path, answers_path: Path
    ) -> Iterator[Picture]:
        """Draw the anomaly ROC curve of the errors, labelled with their AUC, and the error histograms."""
        if "roc" in scores.figures:
            figures.roc_curve(scores.figures["roc"], scores.secondary.get("anomaly_auc", 0.0), figures_dir / "roc.png")
            yield {"file": "roc.png", "title": "ROC curve on the public part"}
        if "error_histogram" in scores.figures:
            figures.histogram(
                scores.figures["error_histogram"], "Reconstruction error", "error", figures_dir / "errors.png"
            )
            yield {"file": "errors.png", "title": "Reconstruction errors, normal events and anomalies"}


def noise_seed_for(events: np.ndarray) -> int:
    """Return the seed of the latent noise: secret (it comes from the hidden events) yet repeatable."""
    digest = hashlib.sha256(b"latent-noise\0" + np.ascontiguousarray(events).tobytes()).digest()
    return int.from_bytes(digest[:8], "little")


def prepare_latent_codes(codes: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Check the encoder's codes, quantize them to float16 and add noise scaled to each dimension's spread.

    This is what stands between the encoder and the decoder: at most 8 numbers per event, each
    carrying a few bits, so no encoder can smuggle the whole event through.
    """
    if codes.ndim != 2 or codes.shape[0] != count:
        raise InvalidPredictions(
            f"The encoder must give one row of latent numbers per event, shape ({count}, k), "
            f"but it gave shape {codes.shape}; end it with a Dense(k) layer."
        )
    if not 1 <= codes.shape[1] <= MAX_LATENT_SIZE:
        raise InvalidPredictions(
            f"The latent space may have at most {MAX_LATENT_SIZE} dimensions, but the encoder gives "
            f"{codes.shape[1]}; make the bottleneck smaller."
        )
    codes = codes.astype(np.float64)
    if not np.isfinite(codes).all():
        raise InvalidPredictions("The encoder gave NaN or infinite latent values; check its training.")
    if np.abs(codes).max() > FLOAT16_MAX:
        raise InvalidPredictions(
            f"The encoder gave latent values beyond ±{FLOAT16_MAX:.0f}; latent codes travel as float16, "
            "so keep them small (for example with batch normalization or a bounded activation)."
        )
    quantized = codes.astype(np.float16).astype(np.float64)
    spread = quantized.std(axis=0)
    noise = np.random.default_rng(seed).standard_normal(quantized.shape) * (LATENT_NOISE * spread)
    return (quantized + noise).astype(np.float32)


def _job_limits(resources: Resources) -> Limits:
    seconds = min(float(resources.wall_seconds), MAX_JOB_SECONDS)
    return Limits(
        wall_seconds=seconds,
        cell_seconds=seconds,
        memory_bytes=max(resources.memory_mb, 2048) * MiB,
        processes=resources.processes,
        cpus=resources.cpus,
    )


def _run_model_job(
    run_job: RunJob,
    work_dir: Path,
    limits: Limits,
    *,
    step: str,
    model_file: Path,
    input_name: str,
    input_file: str,
    input_array: np.ndarray,
    result_name: str,
    result_shape: tuple[int | None, ...],
    any_length: int = 0,
) -> np.ndarray:
    """Run one sandboxed step (encode or decode) on a copy of the model and one input array."""
    step_dir = work_dir / step
    scripts, model, inputs, output = (step_dir / name for name in ("scripts", "model", input_name, "output"))
    for folder in (scripts, model, inputs, output):
        folder.mkdir(parents=True, exist_ok=False)
    for script in ("model_job.py", f"{step}.py"):
        shutil.copyfile(JOB_SCRIPTS_DIR / script, scripts / script)
    copy_untrusted_file(model_file, model / model_file.name)
    np.save(inputs / input_file, input_array)
    job = Job(
        output_dir=output,
        mounts=(Mount(scripts, "scripts"), Mount(model, "model"), Mount(inputs, input_name)),
        command=("python", f"scripts/{step}.py"),
        limits=limits,
        env={"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""},
    )
    result = run_job(job)
    if result.outcome is Outcome.INFRASTRUCTURE:
        # not the participant's fault: let the caller retry or report a generic failure
        raise ScoringFailed(f"The sandbox failed while running the {step} step: {result.message}")
    if not result.ok:
        detail = result.log.strip().splitlines()[-1][:400] if result.log.strip() else ""
        raise InvalidPredictions(
            f"The {step} step with your {model_file.stem} did not finish: {result.message}"
            + (f" ({detail})" if detail else "")
        )
    shapes = [result_shape]
    return read_npy(output / result_name, npy_bytes_for(shapes, any_length=any_length), shapes)
