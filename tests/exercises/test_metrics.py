"""The metrics: ROC AUC as scikit-learn computes it, Dice per image then averaged, MSE of normal events, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from exercises.errors import InvalidBundle, InvalidPredictions
from exercises.metrics import (
    METRICS,
    average_ranks,
    dice,
    dice_per_image,
    reconstruction_loss,
    roc_auc,
    roc_points,
)


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_equals_scikit_learn_on_random_scores_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 300)
    scores = rng.integers(0, 7, 300).astype(float)  # few distinct values: many ties
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_average_ranks_equal_scipys_rankdata_with_ties(seed: int) -> None:
    from scipy.stats import rankdata

    rng = np.random.default_rng(seed)
    values = rng.integers(0, 12, size=int(rng.integers(1, 300))).astype(float) / 4  # many ties
    assert np.array_equal(average_ranks(values), rankdata(values, method="average"))
    assert np.array_equal(average_ranks(np.array([2.0])), [1.0])


def test_a_constant_score_has_an_auc_of_exactly_one_half() -> None:
    labels = np.array([0, 1, 1, 0, 1])
    assert roc_auc(labels, np.full(5, 0.3)) == 0.5


def test_a_perfect_and_a_reversed_ranking_score_one_and_zero() -> None:
    labels = np.array([0, 0, 1, 1])
    assert roc_auc(labels, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc(labels, [0.9, 0.8, 0.2, 0.1]) == 0.0


def test_labels_of_a_single_class_are_refused_as_a_bad_hidden_set() -> None:
    with pytest.raises(InvalidBundle, match="single class"):
        roc_auc(np.ones(10, dtype=np.uint8), np.linspace(0, 1, 10))


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ([0.1, np.nan, 0.3, 0.4], "NaN or infinite"),
        ([0.1, np.inf, 0.3, 0.4], "NaN or infinite"),
        ([0.1, 0.2, 0.3], "There must be 4 scores"),
        ([[0.1, 0.2], [0.3, 0.4]], "flat list"),
        (["a", "b", "c", "d"], "must be numbers"),
    ],
)
def test_bad_scores_are_refused_with_a_clear_message(scores: list, message: str) -> None:
    with pytest.raises(InvalidPredictions, match=message):
        roc_auc([0, 1, 0, 1], scores)


def test_roc_points_run_from_the_origin_to_the_corner() -> None:
    points = roc_points([0, 1, 0, 1, 1], [0.1, 0.9, 0.4, 0.4, 0.8])
    assert points["fpr"][0] == 0.0 and points["tpr"][0] == 0.0
    assert points["fpr"][-1] == 1.0 and points["tpr"][-1] == 1.0
    assert points["tpr"] == sorted(points["tpr"]) and points["fpr"] == sorted(points["fpr"])


def masks(*images: list[list[int]]) -> np.ndarray:
    return np.array(images, dtype=np.uint8)


def test_dice_is_computed_per_image_then_averaged() -> None:
    truth = masks([[1, 1], [0, 0]], [[1, 0], [0, 0]])
    predicted = masks([[1, 0], [0, 0]], [[1, 0], [0, 0]])
    assert dice_per_image(truth, predicted).tolist() == pytest.approx([2 / 3, 1.0])
    assert dice(truth, predicted) == pytest.approx((2 / 3 + 1.0) / 2)


def test_two_empty_masks_agree_perfectly_and_one_empty_mask_scores_zero() -> None:
    empty, lesion = [[0, 0], [0, 0]], [[0, 1], [0, 0]]
    assert dice_per_image(masks(empty, lesion, empty), masks(empty, empty, lesion)).tolist() == [1.0, 0.0, 0.0]


def test_probabilities_are_cut_at_one_half() -> None:
    truth = masks([[1, 1], [0, 0]])
    assert dice(truth, np.array([[[0.5, 0.9], [0.49, 0.1]]])) == 1.0


def test_a_keras_channel_axis_of_one_is_accepted() -> None:
    truth = masks([[1, 0], [0, 1]])
    assert dice(truth, truth[..., None].astype(np.float32)) == 1.0


@pytest.mark.parametrize(
    ("predicted", "message"),
    [
        (np.zeros((1, 2, 2)), "one mask per test image, 2 in all"),
        (np.zeros((2, 3, 2)), r"shape \(images, 2, 2\)"),
        (np.full((2, 2, 2), 255.0), "between 0 and 1"),
        (np.full((2, 2, 2), np.nan), "NaN or infinite"),
        (np.array([[["a", "b"], ["c", "d"]]] * 2), "must hold numbers"),
    ],
)
def test_bad_masks_are_refused_with_a_clear_message(predicted: np.ndarray, message: str) -> None:
    truth = masks([[1, 0], [0, 0]], [[0, 0], [0, 0]])
    with pytest.raises(InvalidPredictions, match=message):
        dice(truth, predicted)


def test_reconstruction_loss_is_the_mean_squared_error() -> None:
    events = np.array([[0.0, 1.0], [2.0, 3.0]])
    normal = np.array([False, False])
    assert reconstruction_loss(events, events, normal) == 0.0
    assert reconstruction_loss(events, events + np.array([[1.0, 0.0], [0.0, 3.0]]), normal) == pytest.approx(10 / 4)


def test_reconstruction_loss_leaves_the_anomalies_out() -> None:
    events = np.zeros((3, 2))
    rebuilt = np.array([[1.0, 1.0], [3.0, 3.0], [100.0, 100.0]])
    assert reconstruction_loss(events, rebuilt, np.array([False, False, True])) == pytest.approx((1.0 + 9.0) / 2)


def test_a_hidden_set_without_normal_events_cannot_be_scored_by_reconstruction_loss() -> None:
    with pytest.raises(InvalidBundle, match="no normal event"):
        reconstruction_loss(np.zeros((2, 2)), np.zeros((2, 2)), np.array([True, True]))


@pytest.mark.parametrize(
    ("rebuilt", "message"),
    [
        (np.zeros((2, 3)), r"shape \(2, 2\)"),
        (np.zeros((3, 2)), r"shape \(2, 2\)"),
        (np.array([[0.0, np.inf], [0.0, 0.0]]), "NaN or infinite"),
    ],
)
def test_a_bad_reconstruction_is_refused_with_a_clear_message(rebuilt: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidPredictions, match=message):
        reconstruction_loss(np.zeros((2, 2)), rebuilt, np.zeros(2, dtype=bool))


def test_the_registry_knows_each_metric_and_which_way_is_better() -> None:
    assert METRICS["roc_auc"].direction == "higher" and METRICS["roc_auc"].function is roc_auc
    assert METRICS["dice"].direction == "higher"
    loss = METRICS["reconstruction_loss"]
    assert loss.function is reconstruction_loss and loss.direction == "lower"
    assert (loss.label, loss.lowest, loss.highest) == ("Reconstruction loss", 0.0, None)
    assert (METRICS["roc_auc"].lowest, METRICS["roc_auc"].highest) == (0.0, 1.0)
