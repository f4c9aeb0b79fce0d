"""Score a participant's output/ against a hidden set: the public and private parts, secondaries, figures."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from exercises.bundles import Bundle
from exercises.errors import InvalidBundle, InvalidPredictions, ScoringFailed
from exercises.metrics import dice_per_image, reconstruction_errors, roc_auc, roc_points
from exercises.outputs import (
    MAX_MODEL_BYTES,
    check_keras_archive,
    copy_untrusted_file,
    npy_bytes_for,
    read_masks_npy,
    read_npy,
    read_scores_csv,
    read_untrusted_file,
)
from sandbox.jobs import Job, Limits, MiB, Mount, Outcome, Result

JOB_SCRIPTS_DIR = Path(__file__).resolve().parent / "jobscripts"
MAX_LATENT_SIZE = 8
# Noise added to each latent dimension, as a fraction of that dimension's standard deviation over
# the hidden events. It caps what one latent number can carry at about 0.5*log2(1 + 1/0.1**2) = 3.3
# bits (Shannon), so packing many features into 8 numbers cannot beat a real autoencoder, while a
# smooth decoder loses only about 1% of the variance it captured.
LATENT_NOISE = 0.1
FLOAT16_MAX = float(np.finfo(np.float16).max)
MAX_JOB_SECONDS = 300.0
# Pictures drawn on hidden labels group at least this many cases per curve step or histogram bin: a
# participant who gives one chosen case an extreme value must not read its label off a picture.
HIDDEN_MIN_CASES = 10
MODEL_FILES = ("encoder.keras", "decoder.keras")


@dataclass(frozen=True)
class Scores:
    """The primary metric on each part of the hidden set, secondary metrics, and data for pictures.

    `secondary[name]` is computed on the public part and `secondary[name + "_private"]` on the
    private part, so pages shown during an event can leave out the private values.
    """

    public: float
    private: float
    secondary: dict[str, float]
    figures: dict[str, Any]


RunJob = Callable[[Job], Result]

ANSWER_ARRAYS = {
    "scores_csv": ("ids", "labels"),
    "masks_npy": ("masks",),
    "autoencoder": ("events", "is_anomaly"),
}


def load_answers(kind: str, answers_path: Path) -> dict[str, np.ndarray]:
    """Load and check a hidden (or public) answers.npz; raise InvalidBundle if it cannot score anyone.

    Without a `public` array, or with an empty private part (a check run on the public sample),
    every row is public and the private score repeats the public one.
    """
    try:
        with np.load(answers_path, allow_pickle=False) as archive:
            answers = {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as error:
        raise InvalidBundle(f"The answers file cannot be read ({error}); rebuild the hidden set.") from None
    from exercises import classifier_kinds  # imports evaluation's neighbours only; loaded when first needed

    arrays = ANSWER_ARRAYS.get(kind) or classifier_kinds.ANSWER_ARRAYS[kind]
    missing = [name for name in arrays if name not in answers]
    if missing:
        raise InvalidBundle(f"The answers file lacks {', '.join(missing)}; rebuild the hidden set.")
    count = answers[arrays[0]].shape[0]
    public = answers.get("public", np.ones(count, dtype=bool))
    if public.shape != (count,) or public.dtype != np.bool_:
        raise InvalidBundle("The answers' `public` must be one bool per row; rebuild the hidden set.")
    if not public.any():
        raise InvalidBundle("The answers' public part is empty; rebuild the hidden set.")
    answers["public"] = public
    if kind == "scores_csv":
        ids = answers["ids"]
        if ids.dtype.kind not in "iu" or np.unique(ids).size != ids.size or answers["labels"].shape != (count,):
            raise InvalidBundle("The answers' ids must be unique integers, one label each; rebuild the hidden set.")
    if kind == "autoencoder" and (
        answers["events"].ndim != 2
        or answers["is_anomaly"].shape != (count,)
        or not np.isfinite(answers["events"]).all()
    ):
        raise InvalidBundle("The answers' events must be a finite (events, features) array; rebuild the hidden set.")
    if kind in classifier_kinds.ANSWER_CHECKS:
        classifier_kinds.ANSWER_CHECKS[kind](answers)
    return answers


def _parts(public: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    private = ~public
    return public, (private if private.any() else public)


def evaluate(
    bundle: Bundle,
    output_dir: Path,
    answers_path: Path,
    *,
    run_job: RunJob,
    work_dir: Path,
    labels_known: bool = False,
) -> Scores:
    """Score the files in `output_dir` against `answers_path`; raise InvalidPredictions saying what to fix.

    `run_job` runs sandboxed work (only the autoencoder kind needs it); `work_dir` is an empty
    trusted folder for that work's inputs and outputs. `labels_known` says that the participant already
    has these answers or they are no part of the hidden set (the public sample of a check run): only then do
    the figures show single cases.
    Otherwise every figure is aggregate, each step or bin covering at least HIDDEN_MIN_CASES cases.
    """
    kind = bundle.manifest.output.kind
    answers = load_answers(kind, Path(answers_path))
    min_cases = 1 if labels_known else HIDDEN_MIN_CASES
    if kind == "scores_csv":
        return _evaluate_scores_csv(Path(output_dir), answers, min_cases)
    if kind == "masks_npy":
        return _evaluate_masks_npy(Path(output_dir), answers, per_case=labels_known)
    from exercises import classifier_kinds

    if kind in classifier_kinds.EVALUATORS:
        result = classifier_kinds.EVALUATORS[kind](Path(output_dir), answers, min_cases)
        return Scores(result.public, result.private, result.secondary, result.figures)
    return _evaluate_autoencoder(bundle, Path(output_dir), answers, run_job, Path(work_dir), min_cases)


def _evaluate_scores_csv(output_dir: Path, answers: dict[str, np.ndarray], min_cases: int) -> Scores:
    scores = read_scores_csv(output_dir, answers["ids"])
    labels = answers["labels"]
    public, private = _parts(answers["public"])
    return Scores(
        public=roc_auc(labels[public], scores[public]),
        private=roc_auc(labels[private], scores[private]),
        secondary={},
        figures={
            "roc": roc_points(labels[public], scores[public], min_cases=min_cases),
            "score_histogram": _histograms(
                scores[public], labels[public].astype(bool), ("negative", "positive"), min_cases=min_cases
            ),
        },
    )


def _evaluate_masks_npy(output_dir: Path, answers: dict[str, np.ndarray], *, per_case: bool) -> Scores:
    truth = answers["masks"]
    predicted = read_masks_npy(output_dir, truth.shape[1:], truth.shape[0])
    per_image = dice_per_image(truth, predicted)
    public, private = _parts(answers["public"])
    counts, edges = np.histogram(per_image[public], bins=10, range=(0.0, 1.0))
    figures: dict[str, Any] = {"dice_histogram": {"edges": edges.tolist(), "counts": counts.tolist()}}
    if per_case:
        # Worst, median and best images, with their true outline: only on answers the participant has, since
        # on hidden ones a participant could make any chosen image the "worst" and see its label.
        public_indices = np.flatnonzero(public)
        order = public_indices[np.argsort(per_image[public_indices], kind="stable")]
        picks = sorted({int(order[0]), int(order[len(order) // 2]), int(order[-1])})
        figures["overlays"] = [{"index": i, "dice": float(per_image[i])} for i in picks]
    return Scores(
        public=float(per_image[public].mean()),
        private=float(per_image[private].mean()),
        secondary={},
        figures=figures,
    )


def _histograms(
    values: np.ndarray, positive: np.ndarray, names: tuple[str, str], bins: int = 30, min_cases: int = 1
) -> dict[str, Any]:
    """Return per-class histograms; with `min_cases` > 1 the bins are quantiles holding that many cases each."""
    if min_cases > 1:
        count = max(1, min(bins, values.size // min_cases))
        edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, count + 1)))
        if edges.size < 2:
            edges = np.array([edges[0] - 0.5, edges[0] + 0.5]) if edges.size else np.array([0.0, 1.0])
    else:
        edges = np.histogram_bin_edges(values, bins=bins)
    return {
        "edges": edges.tolist(),
        names[0]: np.histogram(values[~positive], bins=edges)[0].tolist(),
        names[1]: np.histogram(values[positive], bins=edges)[0].tolist(),
    }


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


def _job_limits(bundle: Bundle) -> Limits:
    resources = bundle.manifest.resources
    seconds = min(float(resources.wall_seconds), MAX_JOB_SECONDS)
    return Limits(
        wall_seconds=seconds,
        cell_seconds=seconds,
        memory_bytes=max(resources.memory_mb, 2048) * MiB,
        processes=resources.processes,
        cpus=resources.cpus,
    )


def _run_model_job(
    bundle: Bundle,
    run_job: RunJob,
    work_dir: Path,
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
        limits=_job_limits(bundle),
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


def _evaluate_autoencoder(
    bundle: Bundle,
    output_dir: Path,
    answers: dict[str, np.ndarray],
    run_job: RunJob,
    work_dir: Path,
    min_cases: int = HIDDEN_MIN_CASES,
) -> Scores:
    events = answers["events"].astype(np.float32)
    # Copy both files first: a missing decoder is reported before any sandbox time is spent.
    staged = work_dir / "submitted"
    models = {name: read_untrusted_file(output_dir / name, MAX_MODEL_BYTES) for name in MODEL_FILES}
    for name, raw in models.items():  # both are there: now say what is wrong with either
        check_keras_archive(raw, name)
        (staged / name).parent.mkdir(parents=True, exist_ok=True)
        (staged / name).write_bytes(raw)
    codes = _run_model_job(
        bundle,
        run_job,
        work_dir,
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
    rebuilt = _run_model_job(
        bundle,
        run_job,
        work_dir,
        step="decode",
        model_file=staged / "decoder.keras",
        input_name="codes",
        input_file="latent.npy",
        input_array=latent,
        result_name="reconstructed.npy",
        result_shape=events.shape,
    )
    return score_reconstruction(events, answers["is_anomaly"].astype(bool), answers["public"], rebuilt, min_cases)


def score_reconstruction(
    events: np.ndarray,
    is_anomaly: np.ndarray,
    public_rows: np.ndarray,
    rebuilt: np.ndarray,
    min_cases: int = HIDDEN_MIN_CASES,
) -> Scores:
    """Score a reconstruction: MSE over the normal events of each part and the anomaly AUC of the errors.

    The figures group at least `min_cases` events per curve step and histogram bin (see `evaluate`).
    """
    errors = reconstruction_errors(events, rebuilt)
    public, private = _parts(public_rows)
    normal = ~is_anomaly
    secondary: dict[str, float] = {}
    figures: dict[str, Any] = {}
    if is_anomaly[public].any() and normal[public].any():
        secondary["anomaly_auc"] = roc_auc(is_anomaly[public].astype(np.uint8), errors[public])
        figures["roc"] = roc_points(is_anomaly[public].astype(np.uint8), errors[public], min_cases=min_cases)
    if is_anomaly[private].any() and normal[private].any():
        secondary["anomaly_auc_private"] = roc_auc(is_anomaly[private].astype(np.uint8), errors[private])
    # log-spaced bins: anomalies sit orders of magnitude above normal events
    log_errors = np.log10(np.maximum(errors[public], 1e-12))
    figures["error_histogram"] = _histograms(log_errors, is_anomaly[public], ("normal", "anomaly"), min_cases=min_cases)
    figures["error_histogram"]["axis"] = "log10(mean squared error per event)"
    return Scores(
        public=float(errors[public & normal].mean()),
        private=float(errors[private & normal].mean()),
        secondary=secondary,
        figures=figures,
    )
