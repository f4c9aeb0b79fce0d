"""The scoring metrics, one definition each: ROC AUC, Dice, reconstruction loss, rejection, macro F1, with checks.

Every score a participant sees is one of these functions applied to the cases of one part of the hidden set
(the output kinds in exercises/kinds/ call them; tests/exercises/test_kinds_score_with_metrics.py holds each
kind to them). Problems with what a participant predicted raise InvalidPredictions; problems with the truth
(a hidden set that cannot score anyone, such as labels of one class) raise InvalidBundle, so
the publish step refuses such a hidden set before any participant meets it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from exercises.errors import InvalidBundle, InvalidPredictions

MASK_THRESHOLD = 0.5  # a predicted probability at or above this marks the pixel as lesion


class MetricDefinition(NamedTuple):
    """A metric's function, whether higher or lower values are better, its name for people and its range."""

    function: Callable[..., float]
    direction: str  # "higher" | "lower"
    label: str = ""
    lowest: float | None = None  # the range charts draw their axes over; None where it has no bound
    highest: float | None = None


def _finite_vector(values: Any, what: str, length: int | None = None) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidPredictions(f"The {what} must be a flat list of numbers, not shape {array.shape}.")
    if length is not None and array.shape[0] != length:
        raise InvalidPredictions(f"There must be {length} {what}, one per test item, but there are {array.shape[0]}.")
    if array.dtype.kind not in "biuf":
        raise InvalidPredictions(f"The {what} must be numbers, not values of type {array.dtype}.")
    array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InvalidPredictions(
            f"The {what} must be finite numbers, but {int(bad.sum())} are NaN or infinite "
            f"(the first at position {first}); replace them with real numbers."
        )
    return array


def _binary_truth(labels: Any, what: str) -> np.ndarray:
    array = np.asarray(labels)
    if array.ndim != 1 or array.dtype.kind not in "biu" or not np.isin(array, (0, 1)).all():
        raise InvalidBundle(f"The hidden {what} must be a flat array of 0 and 1; rebuild the hidden set.")
    if array.size == 0 or array.min() == array.max():
        raise InvalidBundle(
            f"The hidden {what} hold a single class, so ROC AUC is undefined; "
            "rebuild the hidden set so that every part holds both classes."
        )
    return array.astype(bool)


def roc_auc(labels: Any, scores: Any) -> float:
    """Return the area under the ROC curve: the chance a random positive outscores a random negative.

    Ties count one half, which is what scikit-learn's roc_auc_score computes; computed here from
    rank statistics (Mann-Whitney U) so that it needs nothing but the two vectors.
    """
    truth = _binary_truth(labels, "labels")
    values = _finite_vector(scores, "scores", length=truth.shape[0])
    ranks = average_ranks(values)  # ties share their rank, hence count one half
    positives = int(truth.sum())
    negatives = truth.shape[0] - positives
    u = ranks[truth].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Return the 1-based ranks of finite values, tied values sharing the mean of their ranks.

    What scipy.stats.rankdata(method="average") returns (a test holds the two equal); computed here because
    importing scipy.stats took a second of every `grade` command, longer than the scoring itself.
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]  # where each run of equal values begins
    first = np.flatnonzero(starts)
    sizes = np.diff(np.r_[first, ordered.size])
    mean_rank = first + (sizes + 1) / 2.0  # ranks first+1 .. first+size, averaged
    ranks = np.empty(ordered.size, dtype=float)
    ranks[order] = np.repeat(mean_rank, sizes)
    return ranks


def roc_points(labels: Any, scores: Any, max_points: int = 200, min_cases: int = 1) -> dict[str, list[float]]:
    """Return ROC curve points (false and true positive rates) for a picture, at most `max_points`.

    Each step of the curve covers at least `min_cases` cases (ties kept together), so that a curve drawn on
    hidden labels never shows the label of one case a participant singled out with an extreme score.
    """
    truth = _binary_truth(labels, "labels")
    values = _finite_vector(scores, "scores", length=truth.shape[0])
    order = np.argsort(-values, kind="stable")
    sorted_values, sorted_truth = values[order], truth[order]
    # one point per distinct threshold, so that ties move the curve diagonally as they should
    last_of_run = np.r_[np.flatnonzero(np.diff(sorted_values)), sorted_values.size - 1]
    if min_cases > 1:
        kept, since = [], 0
        for position in last_of_run:
            if position + 1 - since >= min_cases or position == sorted_values.size - 1:
                kept.append(position)
                since = position + 1
        if len(kept) > 1 and kept[-1] + 1 - (kept[-2] + 1) < min_cases:
            del kept[-2]  # the last step would be short: merge it into the one before
        last_of_run = np.asarray(kept)
    tpr = np.r_[0.0, np.cumsum(sorted_truth)[last_of_run] / sorted_truth.sum()]
    fpr = np.r_[0.0, np.cumsum(~sorted_truth)[last_of_run] / (~sorted_truth).sum()]
    if fpr.size > max_points:
        keep = np.unique(np.linspace(0, fpr.size - 1, max_points).round().astype(int))
        fpr, tpr = fpr[keep], tpr[keep]
    return {"fpr": [float(v) for v in fpr], "tpr": [float(v) for v in tpr]}


def _checked_masks(true_masks: Any, pred_masks: Any) -> tuple[np.ndarray, np.ndarray]:
    truth = np.asarray(true_masks)
    if truth.ndim != 3 or truth.dtype.kind not in "biu" or not np.isin(truth, (0, 1)).all():
        raise InvalidBundle("The hidden masks must be an array (images, height, width) of 0 and 1.")
    predicted = np.asarray(pred_masks)
    if predicted.dtype.kind not in "biuf":
        raise InvalidPredictions(f"The masks must hold numbers, not values of type {predicted.dtype}.")
    if predicted.ndim == 4 and predicted.shape[-1] == 1:
        predicted = predicted[..., 0]  # Keras' (images, height, width, 1) is the same masks
    if predicted.ndim != 3 or predicted.shape[1:] != truth.shape[1:]:
        raise InvalidPredictions(
            f"The masks must have shape (images, {truth.shape[1]}, {truth.shape[2]}), "
            f"but they have shape {predicted.shape}."
        )
    if predicted.shape[0] != truth.shape[0]:
        # Positional masks cannot say WHICH image is missing, so a short array would silently
        # shift every later mask onto the wrong image: refuse it instead of scoring 0s.
        raise InvalidPredictions(
            f"There must be one mask per test image, {truth.shape[0]} in all, in the order of the "
            f"test images, but there are {predicted.shape[0]}; predict an empty mask rather than none."
        )
    predicted = predicted.astype(np.float64)
    if not np.isfinite(predicted).all():
        raise InvalidPredictions("The masks must be finite numbers, but some are NaN or infinite.")
    if predicted.min(initial=0.0) < 0.0 or predicted.max(initial=0.0) > 1.0:
        raise InvalidPredictions(
            "Mask values must lie between 0 and 1 (probabilities or 0/1); divide 0/255 masks by 255 before saving."
        )
    return truth.astype(bool), predicted >= MASK_THRESHOLD


def dice_per_image(true_masks: Any, pred_masks: Any) -> np.ndarray:
    """Return the Dice coefficient of each image: 1 when both masks are empty, 0 when exactly one is.

    Predictions are probabilities or 0/1 values, cut at 0.5. An image whose lesion the model
    missed entirely (an empty predicted mask) therefore scores 0.
    """
    truth, predicted = _checked_masks(true_masks, pred_masks)
    axes = (1, 2)
    overlap = np.logical_and(truth, predicted).sum(axis=axes).astype(np.float64)
    sizes = truth.sum(axis=axes) + predicted.sum(axis=axes)
    both_empty = sizes == 0
    return np.where(both_empty, 1.0, 2.0 * overlap / np.maximum(sizes, 1))


def dice(true_masks: Any, pred_masks: Any) -> float:
    """Return the mean over images of the per-image Dice coefficient."""
    per_image = dice_per_image(true_masks, pred_masks)
    if per_image.size == 0:
        raise InvalidBundle("The hidden set holds no images; rebuild it.")
    return float(per_image.mean())


def reconstruction_errors(events: Any, reconstructed: Any) -> np.ndarray:
    """Return each event's mean squared error over its features."""
    truth = np.asarray(events, dtype=np.float64)
    if truth.ndim != 2 or truth.shape[0] == 0:
        raise InvalidBundle("The hidden events must be a non-empty array (events, features).")
    rebuilt = np.asarray(reconstructed)
    if rebuilt.dtype.kind not in "biuf":
        raise InvalidPredictions(f"The reconstruction must hold numbers, not values of type {rebuilt.dtype}.")
    if rebuilt.shape != truth.shape:
        raise InvalidPredictions(
            f"The decoder must give back one row of {truth.shape[1]} features per event, "
            f"shape {truth.shape}, but it gave shape {rebuilt.shape}."
        )
    rebuilt = rebuilt.astype(np.float64)
    if not np.isfinite(rebuilt).all():
        raise InvalidPredictions("The reconstruction holds NaN or infinite values; check the decoder.")
    return ((truth - rebuilt) ** 2).mean(axis=1)


def reconstruction_loss(events: Any, reconstructed: Any, is_anomaly: Any) -> float:
    """Return the mean over the normal events of each event's mean squared error over its features.

    `events` and `reconstructed` are (events, features) arrays, `is_anomaly` one bool per event. Anomalies
    are left out: an autoencoder trained on normal events is meant to rebuild them badly, and the anomaly
    AUC of the per-event errors (the secondary `anomaly_auc`) is what rewards that. Raises InvalidBundle
    when no event is normal, InvalidPredictions for a reconstruction of the wrong shape or with NaN.
    """
    errors = reconstruction_errors(events, reconstructed)
    normal = ~np.asarray(is_anomaly, dtype=bool)
    if normal.shape != errors.shape:
        raise InvalidBundle("The hidden events need one is_anomaly flag each; rebuild the hidden set.")
    if not normal.any():
        raise InvalidBundle("The hidden events hold no normal event, so the loss is undefined; rebuild the hidden set.")
    return float(errors[normal].mean())


# --- Jet flavour tagging: background rejection at a fixed signal efficiency -----------------------------------

B_FLAVOUR, C_FLAVOUR, LIGHT_FLAVOUR = 5, 4, 0  # hadron flavour, as CMS labels jets
FLAVOURS = (B_FLAVOUR, C_FLAVOUR, LIGHT_FLAVOUR)
WORKING_POINT = 0.6  # b-jet efficiency of the working point, as the experiments quote taggers ("60 % for 50x")


def _signal_and_background(signal: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    truth = _binary_truth(signal, "flavour labels")
    values = _finite_vector(scores, "scores", length=truth.shape[0])
    return truth, values


def efficiency_at(signal: Any, scores: Any, efficiency: float = WORKING_POINT) -> float:
    """Return the background efficiency at the threshold that keeps `efficiency` of the signal (b-jets).

    `signal` holds 1 for signal and 0 for background, `scores` one finite number per case, higher
    meaning more signal-like. The ROC curve has one point per distinct score (ties move together, as
    scikit-learn's roc_curve has them); the working point usually falls between two points, and the
    background efficiency is interpolated linearly in the signal efficiency between the last point below
    it and the first at or above it. That is the efficiency of a tagger that keeps every case above the
    upper point's threshold and a random fraction of those tied at it, so it is what a real cut achieves.
    Raises InvalidBundle when either class is missing, InvalidPredictions for bad scores.
    """
    if not 0.0 < efficiency <= 1.0:
        raise ValueError("the working point must be a signal efficiency in (0, 1]")
    truth, values = _signal_and_background(signal, scores)
    order = np.argsort(-values, kind="stable")
    ordered, ordered_truth = values[order], truth[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(ordered)), ordered.size - 1]
    tpr = np.r_[0.0, np.cumsum(ordered_truth)[last_of_run] / ordered_truth.sum()]
    fpr = np.r_[0.0, np.cumsum(~ordered_truth)[last_of_run] / (~ordered_truth).sum()]
    # tpr never decreases; the first point at or above the working point, and the one before it (tpr[0] = 0)
    upper = int(np.searchsorted(tpr, efficiency - 1e-12, side="left"))
    if tpr[upper] <= efficiency + 1e-12:  # a point sits on the working point: no interpolation
        return float(fpr[upper])
    lower = upper - 1
    fraction = (efficiency - tpr[lower]) / (tpr[upper] - tpr[lower])
    return float(fpr[lower] + fraction * (fpr[upper] - fpr[lower]))


def rejection_at(signal: Any, scores: Any, efficiency: float = WORKING_POINT) -> float:
    """Return the background rejection, 1 / background efficiency, at the signal efficiency `efficiency`.

    A set of n background cases cannot measure an efficiency below 1/n: when fewer than one background case
    passes the cut, the rejection is reported as n (the most this set can show) rather than infinity.
    """
    truth = _binary_truth(signal, "flavour labels")
    background = int((~truth).sum())
    return float(1.0 / max(efficiency_at(signal, scores, efficiency), 1.0 / background))


def _flavour_pair(flavours: Any, scores: Any, background: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (is_b, scores) over the b-jets and the jets of the `background` flavour only."""
    truth = np.asarray(flavours)
    if truth.ndim != 1 or truth.dtype.kind not in "iu" or not np.isin(truth, FLAVOURS).all():
        raise InvalidBundle("The hidden flavours must be a flat array of 5 (b), 4 (c) and 0 (light); rebuild it.")
    values = _finite_vector(scores, "scores", length=truth.shape[0])
    keep = (truth == B_FLAVOUR) | (truth == background)
    return (truth[keep] == B_FLAVOUR).astype(np.uint8), values[keep]


def light_rejection(flavours: Any, scores: Any) -> float:
    """Return the light-jet rejection at 60 % b-jet efficiency; `flavours` 5, 4 or 0 per jet, c-jets left out."""
    return rejection_at(*_flavour_pair(flavours, scores, LIGHT_FLAVOUR))


def c_rejection(flavours: Any, scores: Any) -> float:
    """Return the c-jet rejection at 60 % b-jet efficiency; light jets left out."""
    return rejection_at(*_flavour_pair(flavours, scores, C_FLAVOUR))


def b_light_auc(flavours: Any, scores: Any) -> float:
    """Return the ROC AUC of the scores at telling b-jets from light jets, c-jets left out."""
    return roc_auc(*_flavour_pair(flavours, scores, LIGHT_FLAVOUR))


def rejection_curve(
    flavours: Any, scores: Any, max_points: int = 200, min_cases: int = 1, background: int = LIGHT_FLAVOUR
) -> dict[str, list[float]]:
    """Return the rejection of `background` jets (light by default) against b-jet efficiency, for a picture.

    Read off the ROC points of b against that background; each step covers at least `min_cases` jets (see
    roc_points), points at zero b-efficiency are left out, and a rejection is capped at the number of
    background jets as in rejection_at.
    """
    is_b, values = _flavour_pair(flavours, scores, background)
    points = roc_points(is_b, values, max_points=max_points, min_cases=min_cases)
    others = int((is_b == 0).sum())
    pairs = [(t, 1.0 / max(f, 1.0 / others)) for f, t in zip(points["fpr"], points["tpr"], strict=True) if t > 0]
    return {"efficiency": [t for t, _ in pairs], "rejection": [r for _, r in pairs]}


# --- Multiclass classification: macro F1 of the most probable class ------------------------------------------


def _class_truth(labels: Any, classes: int) -> np.ndarray:
    truth = np.asarray(labels)
    if truth.ndim != 1 or truth.dtype.kind not in "iu" or truth.size == 0:
        raise InvalidBundle("The hidden classes must be a non-empty flat array of class numbers; rebuild it.")
    if truth.min() < 0 or truth.max() >= classes:
        raise InvalidBundle(f"The hidden classes must lie in 0..{classes - 1}; rebuild the hidden set.")
    return truth.astype(np.int64)


def predicted_classes(probabilities: Any) -> np.ndarray:
    """Return the most probable class of each row of (cases, classes) probabilities; a tie goes to the first."""
    array = np.asarray(probabilities)
    if array.ndim != 2 or array.shape[1] < 2:
        raise InvalidPredictions(f"The probabilities must be a table (cases, classes), not shape {array.shape}.")
    if array.dtype.kind not in "biuf" or not np.isfinite(array.astype(np.float64)).all():
        raise InvalidPredictions("The probabilities must be finite numbers (no NaN or infinity).")
    return np.argmax(array, axis=1)


def confusion_matrix(labels: Any, probabilities: Any) -> np.ndarray:
    """Return the (classes, classes) counts of true class (rows) against the most probable class (columns)."""
    predicted = predicted_classes(probabilities)
    classes = np.asarray(probabilities).shape[1]
    truth = _class_truth(labels, classes)
    if predicted.shape[0] != truth.shape[0]:
        raise InvalidPredictions(f"There must be {truth.shape[0]} rows of probabilities, one per case.")
    return np.bincount(truth * classes + predicted, minlength=classes * classes).reshape(classes, classes)


def class_recalls(labels: Any, probabilities: Any) -> np.ndarray:
    """Return each class's recall (its cases whose most probable class is right); 0 for a class without cases."""
    counts = confusion_matrix(labels, probabilities)
    return np.diag(counts) / np.maximum(counts.sum(axis=1), 1)


def class_recall(labels: Any, probabilities: Any, class_index: int) -> float:
    """Return the recall of one class: the share of its cases whose most probable class is right (0 if none)."""
    return float(class_recalls(labels, probabilities)[class_index])


def macro_f1(labels: Any, probabilities: Any) -> float:
    """Return the F1 score of the most probable class, averaged over all classes with equal weight.

    F1 of a class is 2 TP / (2 TP + FP + FN): 0 for a class never predicted. What scikit-learn's
    f1_score(average="macro", labels=range(classes), zero_division=0) computes on the argmax.
    """
    counts = confusion_matrix(labels, probabilities).astype(np.float64)
    true_positives = np.diag(counts)
    denominators = counts.sum(axis=0) + counts.sum(axis=1)  # 2 TP + FP + FN
    return float(np.mean(np.where(denominators > 0, 2 * true_positives / np.maximum(denominators, 1), 0.0)))


def accuracy(labels: Any, probabilities: Any) -> float:
    """Return the fraction of cases whose most probable class is the true one."""
    counts = confusion_matrix(labels, probabilities)
    return float(np.trace(counts) / counts.sum())


METRICS: dict[str, MetricDefinition] = {
    "roc_auc": MetricDefinition(roc_auc, "higher", "ROC AUC", 0.0, 1.0),
    "dice": MetricDefinition(dice, "higher", "Dice coefficient", 0.0, 1.0),
    "reconstruction_loss": MetricDefinition(reconstruction_loss, "lower", "Reconstruction loss", 0.0, None),
    # the AUC of the per-event reconstruction error at telling anomalies from normal events
    "anomaly_auc": MetricDefinition(roc_auc, "higher", "Anomaly-detection AUC", 0.0, 1.0),
    "light_rejection": MetricDefinition(light_rejection, "higher", "Light-jet rejection at 60% b-jet efficiency", 1.0),
    "c_rejection": MetricDefinition(c_rejection, "higher", "c-jet rejection at 60% b-jet efficiency", 1.0),
    "b_light_auc": MetricDefinition(b_light_auc, "higher", "ROC AUC, b-jets against light jets", 0.0, 1.0),
    "macro_f1": MetricDefinition(macro_f1, "higher", "Macro-averaged F1 score", 0.0, 1.0),
    "accuracy": MetricDefinition(accuracy, "higher", "Accuracy", 0.0, 1.0),
    # a secondary value per class, named recall_<class> in a result
    "class_recall": MetricDefinition(class_recall, "higher", "Recall of each class", 0.0, 1.0),
}


def value_label(name: str) -> str:
    """Name a stored score value for people: "c_rejection" -> "c-jet rejection at 60% b-jet efficiency".

    Secondary values are stored under their metric's key (exercises/kinds/), a per-class recall as
    "recall_<class>" and a value on the private part with the suffix "_private". A name this module does not
    know is returned unchanged, so a new kind's value still shows.
    """
    private = name.endswith("_private")
    base = name.removesuffix("_private")
    if base in METRICS and METRICS[base].label:
        label = METRICS[base].label
    elif base.startswith("recall_"):
        label = "Recall of " + base.removeprefix("recall_").replace("_", " ")
    else:
        return name
    return f"{label} (private part)" if private else label
