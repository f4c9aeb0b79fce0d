"""No picture, per-case value or message shown for a hidden-set run reveals the label of a case a participant picked.

The participant's move in each test: give one chosen hidden case an extreme value (or leave its mask empty), so
that any picture drawn per case or per narrow bin would single it out. The feedback is then computed twice, with
that case's label one way and the other, and what the participant would see is compared.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from exercises.bundles import builtin_bundle
from exercises.evaluation import evaluate
from exercises.kinds.autoencoder import Autoencoder
from exercises.kinds.base import HIDDEN_MIN_CASES

CHOSEN = 17


def no_job(job):  # type: ignore[no-untyped-def]
    raise AssertionError("no sandboxed job is needed here")


def feedback(bundle_slug: str, tmp_path: Path, answers: dict, write_output, labels_known: bool = False):  # type: ignore[no-untyped-def]
    folder = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
    output = folder / "output"
    output.mkdir(parents=True)
    np.savez(folder / "answers.npz", **answers)
    write_output(output)
    return evaluate(
        builtin_bundle(bundle_slug),
        output,
        folder / "answers.npz",
        run_job=no_job,
        work_dir=folder / "work",
        labels_known=labels_known,
    )


def assert_every_step_groups_enough_cases(points: dict, positives: int, negatives: int) -> None:
    fpr, tpr = np.asarray(points["fpr"]), np.asarray(points["tpr"])
    cases_per_step = np.diff(fpr) * negatives + np.diff(tpr) * positives
    assert cases_per_step.min() >= HIDDEN_MIN_CASES - 1e-9


def assert_every_bin_groups_enough_cases(histogram: dict, names: tuple[str, str]) -> None:
    totals = np.asarray(histogram[names[0]]) + np.asarray(histogram[names[1]])
    assert totals[totals > 0].min() >= HIDDEN_MIN_CASES


def test_a_score_picked_out_by_the_participant_is_never_alone_in_a_picture_of_the_hidden_set(tmp_path):
    rng = np.random.default_rng(3)
    ids = np.arange(1000, 1200)
    labels = rng.integers(0, 2, ids.size).astype(np.uint8)
    scores = rng.random(ids.size)
    scores[CHOSEN] = 1e6  # far above every other score: alone at the top of any fine-grained picture

    def write(output: Path) -> None:
        (output / "predictions.csv").write_text(
            "id,score\n" + "".join(f"{i},{s}\n" for i, s in zip(ids, scores, strict=True))
        )

    for label in (0, 1):
        labels[CHOSEN] = label
        result = feedback("breast-cancer", tmp_path, {"ids": ids, "labels": labels}, write)
        assert "index" not in json.dumps(result.figures) and "overlays" not in result.figures
        positives = int(labels.sum())
        assert_every_step_groups_enough_cases(result.figures["roc"], positives, ids.size - positives)
        assert_every_bin_groups_enough_cases(result.figures["score_histogram"], ("negative", "positive"))


def test_a_mask_left_empty_on_purpose_shows_no_hidden_image_or_outline(tmp_path):
    rng = np.random.default_rng(5)
    truth = (rng.random((40, 8, 8)) > 0.5).astype(np.uint8)
    public = np.zeros(40, dtype=bool)
    public[:20] = True

    def write(output: Path) -> None:
        masks = np.ones((40, 8, 8), dtype=np.uint8)
        masks[CHOSEN] = 0  # the participant makes this hidden image the "worst" one
        np.save(output / "masks.npy", masks)

    hidden = feedback("lung-segmentation", tmp_path, {"masks": truth, "public": public}, write)
    assert "overlays" not in hidden.figures
    assert set(hidden.figures) == {"dice_histogram"}
    labelled = feedback("lung-segmentation", tmp_path, {"masks": truth, "public": public}, write, labels_known=True)
    assert [item["index"] for item in labelled.figures["overlays"]]  # per-image pictures where labels are known


def test_an_event_picked_out_by_its_reconstruction_error_is_never_alone_in_a_picture(tmp_path):
    rng = np.random.default_rng(7)
    events = rng.normal(size=(300, 4)).astype(np.float32)
    rebuilt = events + rng.normal(scale=0.1, size=events.shape).astype(np.float32)
    rebuilt[CHOSEN] += 100.0  # this event's error towers over the others
    is_anomaly = rng.random(300) < 0.2
    public = np.ones(300, dtype=bool)
    for label in (False, True):
        is_anomaly[CHOSEN] = label
        answers = {"events": events, "is_anomaly": is_anomaly, "public": public}
        scores = Autoencoder().score(answers, rebuilt, metric="reconstruction_loss", labels_known=False)
        anomalies = int(is_anomaly.sum())
        assert_every_step_groups_enough_cases(scores.figures["roc"], anomalies, 300 - anomalies)
        assert_every_bin_groups_enough_cases(scores.figures["error_histogram"], ("normal", "anomaly"))
        assert "index" not in json.dumps(scores.figures)


@pytest.mark.parametrize("min_cases", [1, HIDDEN_MIN_CASES])
def test_grouping_keeps_the_curve_from_corner_to_corner(min_cases):
    from exercises.metrics import roc_points

    rng = np.random.default_rng(1)
    points = roc_points(rng.integers(0, 2, 97), rng.random(97), min_cases=min_cases)
    assert (points["fpr"][0], points["tpr"][0]) == (0.0, 0.0)
    assert (points["fpr"][-1], points["tpr"][-1]) == (1.0, 1.0)


def test_a_glitch_predicted_alone_as_its_class_shows_no_label_through_a_per_class_recall(tmp_path):
    """Found case: recall_<class> on the public part told whether the one map predicted as that class was of it.

    The move: every map predicted `blip` except one chosen map per other class, each predicted as that class. Each
    recall_<class> then read 0 or 1/n as the chosen map was of that class or not, six hidden labels a submission.
    """
    classes = np.array(["blip", "whistle", "scattered_light", "koi_fish", "low_frequency_burst", "power_line", "none"])
    rng = np.random.default_rng(11)
    ids = np.arange(700)
    labels = np.tile(np.arange(classes.size), 100).astype(np.int64)
    rng.shuffle(labels)
    chosen = {index: CHOSEN + 10 * index for index in range(1, classes.size)}

    def write(output: Path) -> None:
        rows = []
        for i in ids:
            picked = next((index for index, case in chosen.items() if case == i), 0)
            rows.append(f"{i}," + ",".join("1" if c == picked else "0" for c in range(classes.size)) + "\n")
        (output / "probabilities.csv").write_text("id," + ",".join(classes) + "\n" + "".join(rows))

    withheld = [f"recall_{name}" for name in classes[1:]]
    seen = []
    for own_class in (False, True):
        for index, case in chosen.items():
            labels[case] = index if own_class else 0
        answers = {"ids": ids, "labels": labels, "classes": classes, "public": np.ones(ids.size, dtype=bool)}
        result = feedback("gw-glitches", tmp_path, answers, write)
        assert not set(withheld) & set(result.secondary)  # each column of one map: its recall is not given
        assert "recall_blip" in result.secondary  # 694 maps predicted blip: an aggregate, shown
        seen.append([column[1:] for column in result.figures["confusion"]["counts"]])
    assert seen[0] == seen[1]
    labelled = feedback("gw-glitches", tmp_path, answers, write, labels_known=True)
    assert labelled.secondary["recall_whistle"] > 0  # where the labels are known, every recall shows
