"""The b-tag scores and class-probabilities kinds: strict CSV reader, scores through metrics.py, aggregate pictures."""

from __future__ import annotations

import codecs
import contextlib
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exercises.bundles import builtin_bundle
from exercises.errors import InvalidBundle, InvalidPredictions
from exercises.evaluation import evaluate, load_answers
from exercises.kinds import kind_of
from exercises.kinds.base import HIDDEN_MIN_CASES, Scores
from exercises.kinds.probabilities_csv import aggregate_confusion, check_probabilities_answers, parse_probabilities_csv
from exercises.metrics import b_light_auc, c_rejection, class_recalls, light_rejection, macro_f1
from tests.builders.bundles import no_jobs

CLASSES = ["blip", "whistle", "koi_fish"]
IDS = np.array([10, 11, 12, 13])


def table(text: str) -> bytes:
    return text.encode()


GOOD = "id,blip,whistle,koi_fish\n10,0.7,0.2,0.1\n11,0.1,0.8,0.1\n12,0,0,1\n13,0.3,0.3,0.4\n"


def test_probabilities_are_read_in_the_order_of_the_expected_ids_whatever_the_columns_order() -> None:
    shuffled = ",koi_fish,ID,Whistle,blip\n0,1,12,0,0\n1,0.4,13,0.3,0.3\n2,0.1,10,0.2,0.7\n3,0.1,11,0.8,0.1\n"
    expected = parse_probabilities_csv(table(GOOD), IDS, CLASSES)
    assert np.array_equal(parse_probabilities_csv(table(shuffled), IDS, CLASSES), expected)
    assert expected.tolist() == [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0, 0, 1], [0.3, 0.3, 0.4]]


def test_a_byte_order_mark_semicolons_and_rounded_rows_are_accepted() -> None:
    text = codecs.BOM_UTF8 + table(GOOD.replace(",", ";").replace("0.7;0.2;0.1", "0.667;0.222;0.111"))
    assert parse_probabilities_csv(text, IDS, CLASSES)[0].tolist() == [0.667, 0.222, 0.111]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("id,blip,whistle\n10,0.5,0.5\n", "lacks koi_fish"),
        ("id,blip,blip,whistle,koi_fish\n", "more than once"),
        (GOOD.replace("10,0.7", "10,nan"), "finite number"),
        (GOOD.replace("0,0,1", "0,0,inf"), "finite number"),
        (GOOD.replace("0.3,0.3,0.4", "3,3,4"), "outside \\[0, 1\\].*not logits"),
        (GOOD.replace("0.3,0.3,0.4", "0.3,0.3,0.3"), "do not sum to 1 .*for id 13"),
        (GOOD.replace("11,", "10,"), "repeats some ids \\(10\\)"),
        (GOOD.replace("13,0.3,0.3,0.4\n", ""), "no score for 1 test ids \\(13\\)"),
        (GOOD + "99,0.3,0.3,0.4\n", "not in the test set \\(99\\)"),
        (GOOD.replace("12,0,0,1", "12,0,1"), "Line 4 .* holds 3 values"),
        (GOOD.replace("12,", "twelve,"), "the id 'twelve' is not a number"),
        ("id," + ",".join(f"c{i}" for i in range(40)) + "\n", "names 41 columns"),
    ],
)
def test_bad_probability_files_are_refused_with_a_sentence(text: str, message: str) -> None:
    with pytest.raises(InvalidPredictions, match=message):
        parse_probabilities_csv(table(text), IDS, CLASSES)


def test_a_utf16_file_is_refused_naming_the_encoding() -> None:
    with pytest.raises(InvalidPredictions, match="UTF-16"):
        parse_probabilities_csv(GOOD.encode("utf-16"), IDS, CLASSES)


def test_a_file_far_longer_than_the_test_set_is_refused_while_it_is_read() -> None:
    rows = "".join(f"{1000 + i},0.2,0.3,0.5\n" for i in range(200))
    with pytest.raises(InvalidPredictions, match="more rows than the 4 test cases"):
        parse_probabilities_csv(table("id,blip,whistle,koi_fish\n" + rows), IDS, CLASSES)


def test_multiclass_answers_that_cannot_score_anyone_are_refused_as_a_bad_hidden_set() -> None:
    good = {
        "ids": np.arange(6),
        "labels": np.array([0, 1, 2, 0, 1, 2]),
        "classes": np.array(CLASSES),
        "public": np.array([True, True, True, False, False, False]),
    }
    check_probabilities_answers(good)
    for broken, message in (
        ({"labels": np.array([0, 1, 2, 0, 1, 1])}, "private part .* lacks some classes"),
        ({"labels": np.array([0, 1, 3, 0, 1, 2])}, "class numbers"),
        ({"classes": np.array(["blip", "blip", "x"])}, "distinct names"),
        ({"classes": np.array(["id", "b", "c"])}, "not 'id'"),
    ):
        with pytest.raises(InvalidBundle, match=message):
            check_probabilities_answers({**good, **broken})


def test_a_confusion_column_of_too_few_cases_is_withheld_so_a_picked_case_keeps_its_label() -> None:
    labels = np.repeat(np.arange(3), 20)
    guesses = np.zeros((60, 3))
    guesses[:, 1] = 1.0  # everything "whistle" ...
    guesses[37] = [0.0, 0.0, 1.0]  # ... but one chosen case "koi_fish"
    seen = []
    for truth_of_chosen in (0, 2):
        truth = labels.copy()
        truth[37] = truth_of_chosen
        figure = aggregate_confusion(truth, guesses, HIDDEN_MIN_CASES)
        assert [row[2] for row in figure["counts"]] == [None, None, None]
        assert figure["predicted_totals"] == [0, 59, 1]
        seen.append((figure["counts"], figure["predicted_totals"]))
    # the whistle column differs by the chosen case's truth only through counts of 59 cases, never alone
    assert seen[0][1] == seen[1][1]
    known = aggregate_confusion(labels, guesses, 1)  # labels the participant has: every cell shown
    assert known["counts"][labels[37]][2] == 1


def btag_answers(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    flavours = rng.permutation(np.repeat([5, 4, 0], [200, 100, 200]))
    return {"ids": np.arange(5000, 5500), "flavours": flavours, "public": rng.random(500) < 0.5}


def run_kind(slug: str, tmp_path: Path, answers: dict, file_name: str, text: str, labels_known: bool = False):  # type: ignore[no-untyped-def]
    folder = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
    (folder / "output").mkdir(parents=True)
    np.savez(folder / "answers.npz", **answers)
    (folder / "output" / file_name).write_text(text)
    return evaluate(
        builtin_bundle(slug),
        folder / "output",
        folder / "answers.npz",
        run_job=no_jobs,
        work_dir=folder / "work",
        labels_known=labels_known,
    )


def test_the_btag_kind_scores_each_part_through_metrics_py(tmp_path: Path) -> None:
    answers = btag_answers()
    rng = np.random.default_rng(1)
    scores = np.round(rng.normal(0, 1, 500) + 2.0 * (answers["flavours"] == 5), 2)
    text = "id,score\n" + "".join(f"{i},{s}\n" for i, s in zip(answers["ids"], scores, strict=True))
    result = run_kind("btag-cms", tmp_path, answers, "predictions.csv", text)
    flavours, public = answers["flavours"], answers["public"]
    assert result.public == light_rejection(flavours[public], scores[public])
    assert result.private == light_rejection(flavours[~public], scores[~public])
    assert result.secondary["c_rejection_private"] == c_rejection(flavours[~public], scores[~public])
    assert result.secondary["b_light_auc"] == b_light_auc(flavours[public], scores[public])
    curve = result.figures["rejection"]["light"]
    is_b_or_light = (flavours[public] == 5) | (flavours[public] == 0)
    steps = np.diff(np.r_[0.0, curve["efficiency"]]) * (flavours[public] == 5).sum()
    assert steps.min() >= 0 and len(curve["efficiency"]) <= is_b_or_light.sum() // HIDDEN_MIN_CASES


def test_the_probabilities_kind_scores_each_part_through_metrics_py(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    classes = [
        "blip",
        "whistle",
        "scattered_light",
        "koi_fish",
        "low_frequency_burst",
        "power_line",
        "none_of_the_above",
    ]
    labels = rng.permutation(np.repeat(np.arange(7), 30))
    public = np.isin(np.arange(210), np.concatenate([np.flatnonzero(labels == c)[:15] for c in range(7)]))
    answers = {"ids": np.arange(210), "labels": labels, "classes": np.array(classes), "public": public}
    logits = rng.normal(0, 1, (210, 7))
    logits[np.arange(210), labels] += 1.5
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    text = ",".join(["id", *classes]) + "\n"
    text += "".join(",".join([str(i), *(f"{v:.12f}" for v in row)]) + "\n" for i, row in enumerate(probabilities))
    result = run_kind("gw-glitches", tmp_path, answers, "probabilities.csv", text)
    written = np.round(probabilities, 12)
    assert result.public == macro_f1(labels[public], written[public])
    assert result.private == macro_f1(labels[~public], written[~public])
    recalls = class_recalls(labels[~public], written[~public])
    assert [result.secondary[f"recall_{name}_private"] for name in classes] == recalls.tolist()
    assert sum(result.figures["confusion"]["true_totals"]) == public.sum()


def draw(kind: str, scores: Scores, folder: Path) -> list[dict[str, str]]:
    return list(kind_of(kind).draw(scores, figures_dir=folder, output_dir=folder, data_dir=folder, answers_path=folder))


def test_the_pictures_are_drawn_for_both_kinds(tmp_path: Path) -> None:
    answers = btag_answers(3)
    scores = (answers["flavours"] == 5) + np.random.default_rng(4).normal(0, 0.7, 500)
    text = "id,score\n" + "".join(f"{i},{s}\n" for i, s in zip(answers["ids"], scores, strict=True))
    btag = run_kind("btag-cms", tmp_path, answers, "predictions.csv", text)
    images = draw("btag_scores_csv", btag, tmp_path / "figures")
    assert images == [{"file": "rejection.png", "title": "Background rejection against b-jet efficiency"}]
    assert (tmp_path / "figures" / "rejection.png").read_bytes().startswith(b"\x89PNG")
    confusion = {
        "classes": CLASSES,
        **aggregate_confusion(np.repeat(np.arange(3), 20), np.eye(3)[np.r_[np.zeros(55, int), [1, 1, 2, 2, 2]]], 10),
    }
    images = draw("probabilities_csv", Scores(0.3, 0.3, {}, {"confusion": confusion}), tmp_path / "figures")
    assert images[0]["file"] == "confusion.png" and (tmp_path / "figures" / "confusion.png").stat().st_size > 1000


def test_the_answers_of_both_new_bundles_load_and_name_their_arrays(tmp_path: Path) -> None:
    np.savez(tmp_path / "btag.npz", **btag_answers())
    assert set(load_answers("btag_scores_csv", tmp_path / "btag.npz")) == {"ids", "flavours", "public"}
    np.savez(tmp_path / "bad.npz", ids=np.arange(3), flavours=np.array([5, 1, 0]))
    with pytest.raises(InvalidBundle, match="5 \\(b\\), 4 \\(c\\) or 0 \\(light\\)"):
        load_answers("btag_scores_csv", tmp_path / "bad.npz")


def test_a_jet_picked_out_by_an_extreme_score_is_never_alone_in_a_step_of_the_rejection_curve(tmp_path: Path) -> None:
    answers = btag_answers(5)
    answers["public"] = np.ones(500, dtype=bool)
    scores = np.random.default_rng(6).random(500)
    scores[17] = 1e6  # alone at the top of any fine-grained curve
    text = "id,score\n" + "".join(f"{i},{s}\n" for i, s in zip(answers["ids"], scores, strict=True))
    for flavour in (5, 0):
        answers["flavours"][17] = flavour
        curve = run_kind("btag-cms", tmp_path, answers, "predictions.csv", text).figures["rejection"]["light"]
        b_jets, light_jets = int((answers["flavours"] == 5).sum()), int((answers["flavours"] == 0).sum())
        rejection = np.asarray(curve["rejection"])
        light_efficiency = np.where(rejection >= light_jets, 0.0, 1.0 / rejection)
        jets_per_step = (
            np.diff(np.r_[0.0, curve["efficiency"]]) * b_jets + np.diff(np.r_[0.0, light_efficiency]) * light_jets
        )
        assert jets_per_step.min() >= HIDDEN_MIN_CASES - 1e-6


CELLS = st.sampled_from(
    ["id", "blip", "whistle", "koi_fish", "10", "11", "12", "13", "0.5", "0.25", "1", "0", "nan", "-1"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.lists(st.lists(CELLS, min_size=1, max_size=5).map(",".join), max_size=8).map("\n".join).map(str.encode),
    )
)
def test_any_bytes_give_probabilities_of_the_right_shape_or_a_sentence_never_another_error(raw: bytes) -> None:
    try:
        probabilities = parse_probabilities_csv(raw, IDS, CLASSES)
    except InvalidPredictions as error:
        assert error.message.endswith((".", ")")) or "output/" in error.message
    else:
        assert probabilities.shape == (4, 3) and np.isfinite(probabilities).all()
        assert np.allclose(probabilities.sum(axis=1), 1, atol=0.011) and probabilities.min() >= 0


def peak_bytes(call: Callable[[], Any]) -> int:
    """Return the peak bytes a second call allocates (the first pays lazy imports and caches)."""
    for traced in (False, True):
        if traced:
            tracemalloc.start()
        with contextlib.suppress(InvalidPredictions):
            call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


@settings(max_examples=10, deadline=None)
@given(
    rows=st.integers(1, 5_000),
    line=st.sampled_from(["{i},0.2,0.3,0.5\n", "x\n", ",,,\n", "\n", "{i}" * 30 + "\n", "{i},1,0,0,0,0,0,0\n"]),
)
def test_reading_probabilities_allocates_a_bounded_multiple_of_the_file(rows: int, line: str) -> None:
    raw = ("id,blip,whistle,koi_fish\n" + "".join(line.format(i=i) for i in range(rows))).encode()
    peak = peak_bytes(lambda: parse_probabilities_csv(raw, np.arange(rows), CLASSES))
    assert peak < 12 * len(raw) + 1024 * 1024, (peak, len(raw))


def test_a_file_of_blank_lines_allocates_nothing_for_rows_it_lacks() -> None:
    raw = ("id," + ",".join(CLASSES) + "\n").encode() + b"\n" * 400_000  # 0.4 MB of nothing
    peak = peak_bytes(lambda: parse_probabilities_csv(raw, np.arange(10), CLASSES))
    assert peak < 12 * len(raw) + 1024 * 1024, peak
