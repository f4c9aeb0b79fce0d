"""The b-tagging and glitch metrics equal scikit-learn's: rejection at 60 % b-efficiency, AUC, macro F1, recalls."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score, recall_score, roc_auc_score, roc_curve
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

from exercises.errors import InvalidBundle, InvalidPredictions
from exercises.metrics import (
    METRICS,
    accuracy,
    b_light_auc,
    c_rejection,
    class_recalls,
    confusion_matrix,
    efficiency_at,
    light_rejection,
    macro_f1,
    rejection_at,
    rejection_curve,
)


def sklearn_efficiency_at(signal: np.ndarray, scores: np.ndarray, efficiency: float = 0.6) -> float:
    """The background efficiency read off scikit-learn's ROC curve, interpolated linearly at the working point."""
    fpr, tpr, _ = roc_curve(signal, scores)
    upper = int(np.argmax(tpr >= efficiency - 1e-12))
    if abs(tpr[upper] - efficiency) <= 1e-12:
        return float(fpr[upper])
    lower = upper - 1
    return float(fpr[lower] + (efficiency - tpr[lower]) / (tpr[upper] - tpr[lower]) * (fpr[upper] - fpr[lower]))


def sklearn_rejection(signal: np.ndarray, scores: np.ndarray) -> float:
    return 1.0 / max(sklearn_efficiency_at(signal, scores), 1.0 / int((signal == 0).sum()))


def random_jets(seed: int, count: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    flavours = rng.choice(np.array([5, 4, 0]), size=count, p=[0.4, 0.2, 0.4])
    # few distinct values, shifted by flavour: many ties, and a curve that is neither perfect nor random
    scores = np.round(rng.normal(0, 1, count) + 1.5 * (flavours == 5) + 0.5 * (flavours == 4), 1)
    return flavours, scores


@pytest.mark.parametrize("seed", range(8))
def test_light_and_c_rejection_equal_the_interpolated_scikit_learn_roc_curve_with_ties(seed: int) -> None:
    flavours, scores = random_jets(seed)
    for background, metric in ((0, light_rejection), (4, c_rejection)):
        keep = (flavours == 5) | (flavours == background)
        expected = sklearn_rejection((flavours[keep] == 5).astype(int), scores[keep])
        assert metric(flavours, scores) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_the_b_against_light_auc_equals_scikit_learn_leaving_c_jets_out(seed: int) -> None:
    flavours, scores = random_jets(seed)
    keep = flavours != 4
    assert b_light_auc(flavours, scores) == pytest.approx(roc_auc_score(flavours[keep] == 5, scores[keep]), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=2, max_size=60),
    st.sampled_from([0.1, 0.25, 0.5, 0.6, 0.75, 0.9, 1.0]),
)
def test_the_efficiency_at_any_working_point_equals_scikit_learns_interpolated_curve(
    cases: list[tuple[bool, int]], efficiency: float
) -> None:
    signal = np.array([is_signal for is_signal, _ in cases], dtype=np.uint8)
    if signal.min() == signal.max():
        signal[0] = 1 - signal[0]
    scores = np.array([score for _, score in cases], dtype=float)
    assert efficiency_at(signal, scores, efficiency) == pytest.approx(
        sklearn_efficiency_at(signal, scores, efficiency), abs=1e-12
    )


def test_the_working_point_between_two_roc_points_is_interpolated_linearly() -> None:
    # 5 b-jets with distinct high scores, 4 light jets: the 3rd b-jet gives tpr 0.6 exactly with one light jet in
    signal = np.array([1, 1, 0, 1, 1, 1, 0, 0, 0])
    scores = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1], dtype=float)
    assert efficiency_at(signal, scores) == 0.25  # a point sits on 60 %: no interpolation
    # tied at the working point: b-jets 3 and 4 and one light jet share a score; tpr jumps from 0.4 to 0.8
    scores = np.array([9, 8, 7, 5, 5, 4, 5, 2, 1], dtype=float)
    # from (fpr 0.25, tpr 0.4) to (fpr 0.5, tpr 0.8): tpr 0.6 is half of the way
    assert efficiency_at(signal, scores) == pytest.approx(0.25 + 0.5 * 0.25)


def test_a_constant_score_rejects_like_chance_and_a_perfect_one_as_much_as_the_set_can_show() -> None:
    flavours = np.array([5] * 50 + [4] * 20 + [0] * 80)
    # a constant score is a coin: keeping 60 % of the b-jets keeps 60 % of the others too
    assert light_rejection(flavours, np.zeros(150)) == pytest.approx(1 / 0.6)
    assert c_rejection(flavours, np.zeros(150)) == pytest.approx(1 / 0.6)
    perfect = (flavours == 5).astype(float)
    assert light_rejection(flavours, perfect) == 80.0  # no light jet passes: capped at the number of light jets
    assert rejection_at(np.array([1, 0, 0, 0]), np.array([1.0, 0.0, 0.0, 0.0])) == 3.0


def test_the_rejection_curve_is_aggregate_and_ends_at_full_b_efficiency() -> None:
    flavours, scores = random_jets(3, 600)
    curve = rejection_curve(flavours, scores, min_cases=10)
    assert curve["efficiency"][-1] == 1.0 and curve["rejection"][-1] == pytest.approx(1.0)
    assert curve["efficiency"] == sorted(curve["efficiency"])
    assert all(r >= 1.0 for r in curve["rejection"])
    jets = int(((flavours == 5) | (flavours == 0)).sum())
    assert len(curve["efficiency"]) <= jets // 10


def test_flavours_other_than_b_c_and_light_are_refused_as_a_bad_hidden_set() -> None:
    with pytest.raises(InvalidBundle, match="5 \\(b\\), 4 \\(c\\) and 0 \\(light\\)"):
        light_rejection(np.array([5, 1, 0]), np.array([0.1, 0.2, 0.3]))


def random_probabilities(seed: int, count: int = 300, classes: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, count)
    logits = rng.integers(0, 3, (count, classes)).astype(float)  # ties in the argmax too
    logits[np.arange(count), labels] += rng.integers(0, 3, count)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels, probabilities


@pytest.mark.parametrize("seed", range(8))
def test_macro_f1_accuracy_and_recalls_equal_scikit_learn_on_the_argmax(seed: int) -> None:
    labels, probabilities = random_probabilities(seed)
    predicted = np.argmax(probabilities, axis=1)
    classes = list(range(probabilities.shape[1]))
    expected = f1_score(labels, predicted, average="macro", labels=classes, zero_division=0)
    assert macro_f1(labels, probabilities) == pytest.approx(expected, abs=1e-12)
    assert accuracy(labels, probabilities) == pytest.approx(accuracy_score(labels, predicted), abs=1e-12)
    recalls = recall_score(labels, predicted, average=None, labels=classes, zero_division=0)
    assert np.allclose(class_recalls(labels, probabilities), recalls)
    assert np.array_equal(confusion_matrix(labels, probabilities), sklearn_confusion_matrix(labels, predicted))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_macro_f1_equals_scikit_learn_on_any_small_table_even_with_unpredicted_classes(data: st.DataObject) -> None:
    classes = data.draw(st.integers(2, 5))
    count = data.draw(st.integers(1, 30))
    labels = np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=count, max_size=count)))
    rows = data.draw(
        st.lists(st.lists(st.integers(0, 3), min_size=classes, max_size=classes), min_size=count, max_size=count)
    )
    probabilities = np.array(rows, dtype=float)
    predicted = np.argmax(probabilities, axis=1)
    expected = f1_score(labels, predicted, average="macro", labels=list(range(classes)), zero_division=0)
    assert macro_f1(labels, probabilities) == pytest.approx(expected, abs=1e-12)


def test_a_constant_prediction_scores_the_macro_f1_of_one_class_only() -> None:
    labels = np.repeat(np.arange(7), 10)
    constant = np.tile(np.full(7, 1 / 7), (70, 1))  # a tie everywhere: the argmax is always class 0
    # class 0: precision 1/7, recall 1, F1 = 2/8; the six others 0
    assert macro_f1(labels, constant) == pytest.approx(0.25 / 7)
    assert accuracy(labels, constant) == pytest.approx(1 / 7)


def test_probabilities_that_are_not_a_finite_table_are_refused() -> None:
    with pytest.raises(InvalidPredictions, match="table"):
        macro_f1(np.array([0, 1]), np.array([0.2, 0.8]))
    with pytest.raises(InvalidPredictions, match="finite"):
        macro_f1(np.array([0, 1]), np.array([[0.2, np.nan], [0.5, 0.5]]))


def test_the_new_metrics_are_registered_with_their_direction() -> None:
    for name in ("light_rejection", "c_rejection", "b_light_auc", "macro_f1", "accuracy"):
        assert METRICS[name].direction == "higher"
    assert METRICS["light_rejection"].lowest == 1.0 and METRICS["light_rejection"].highest is None
