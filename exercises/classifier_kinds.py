"""Two classifier output kinds: per-jet b-tag scores (rejection at 60 % b-efficiency), class probabilities (macro F1).

`btag_scores_csv`: output/predictions.csv with `id,score`, read by the scores-CSV reader; the answers hold
each jet's hadron flavour (5 b, 4 c, 0 light). `probabilities_csv`: output/probabilities.csv with `id` and
one column per class, named as the answers' `classes`; each row holds probabilities that sum to 1. Both
read the participant's file as untrusted data (size capped before reading, the csv module, every id once,
NaN and infinity refused with a sentence) and score only through exercises.metrics. Their pictures are
aggregate on hidden labels: every step of a curve and every shown column of a confusion matrix covers at
least `min_cases` cases, so no picture tells the label of a case a participant singled out.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from exercises.errors import InvalidBundle, InvalidPredictions
from exercises.metrics import (
    C_FLAVOUR,
    FLAVOURS,
    WORKING_POINT,
    accuracy,
    b_light_auc,
    c_rejection,
    class_recalls,
    confusion_matrix,
    light_rejection,
    macro_f1,
    rejection_curve,
)
from exercises.outputs import (
    MAX_CSV_BYTES,
    _cell_number,
    _csv_delimiter,
    _first_line,
    _in_expected_order,
    decode_csv_text,
    read_scores_csv,
    read_untrusted_file,
)

PROBABILITIES_FILE = "probabilities.csv"
# A row's probabilities may miss 1 by rounding (7 classes written with 3 decimals miss it by up to 0.0035).
SUM_TOLERANCE = 0.01
MAX_CLASSES = 64


@dataclass(frozen=True)
class KindScores:
    """What a kind gives evaluation: the primary on each part, secondary values and figure data."""

    public: float
    private: float
    secondary: dict[str, float]
    figures: dict[str, Any]


def _parts(public: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    private = ~public
    return public, (private if private.any() else public)


# --- b-tag scores --------------------------------------------------------------------------------------------


def check_btag_answers(answers: dict[str, np.ndarray]) -> None:
    """Refuse b-tagging answers that cannot score anyone: ids not unique, flavours other than 5, 4, 0, a part
    without b-jets, c-jets or light jets. Raises InvalidBundle."""
    ids, flavours, public = answers["ids"], answers["flavours"], answers["public"]
    if ids.dtype.kind not in "iu" or np.unique(ids).size != ids.size or flavours.shape != ids.shape:
        raise InvalidBundle("The answers' ids must be unique integers, one flavour each; rebuild the hidden set.")
    if flavours.dtype.kind not in "iu" or not np.isin(flavours, FLAVOURS).all():
        raise InvalidBundle("The answers' flavours must be 5 (b), 4 (c) or 0 (light); rebuild the hidden set.")
    for part_name, part in (("public", public), ("private", ~public)):
        if part.any() and not np.isin(FLAVOURS, flavours[part]).all():
            raise InvalidBundle(
                f"The {part_name} part of the hidden set lacks b-, c- or light jets, so a rejection is undefined; "
                "fix data.py so that every part holds all three."
            )


def evaluate_btag_scores(output_dir: Path, answers: dict[str, np.ndarray], min_cases: int) -> KindScores:
    """Score output/predictions.csv (`id,score`, higher = more b-like) by the light-jet rejection at 60 % b-efficiency.

    Secondary: the c-jet rejection at the same working point and the b-against-light ROC AUC, on each part.
    Figure: light- and c-jet rejection against b-jet efficiency on the public part, steps of >= `min_cases` jets.
    """
    scores = read_scores_csv(output_dir, answers["ids"])
    flavours = answers["flavours"]
    public, private = _parts(answers["public"])
    secondary = {}
    for suffix, part in (("", public), ("_private", private)):
        secondary["c_rejection" + suffix] = c_rejection(flavours[part], scores[part])
        secondary["b_light_auc" + suffix] = b_light_auc(flavours[part], scores[part])
    return KindScores(
        public=light_rejection(flavours[public], scores[public]),
        private=light_rejection(flavours[private], scores[private]),
        secondary=secondary,
        figures={
            "rejection": {
                "light": rejection_curve(flavours[public], scores[public], min_cases=min_cases),
                "c": rejection_curve(flavours[public], scores[public], min_cases=min_cases, background=C_FLAVOUR),
                "working_point": WORKING_POINT,
            }
        },
    )


# --- class probabilities -------------------------------------------------------------------------------------


def check_probabilities_answers(answers: dict[str, np.ndarray]) -> None:
    """Refuse multiclass answers that cannot score anyone: bad ids, classes or labels, a part without a class."""
    ids, labels, classes, public = answers["ids"], answers["labels"], answers["classes"], answers["public"]
    if ids.dtype.kind not in "iu" or np.unique(ids).size != ids.size or labels.shape != ids.shape:
        raise InvalidBundle("The answers' ids must be unique integers, one label each; rebuild the hidden set.")
    names = [str(name) for name in classes.tolist()] if classes.ndim == 1 else []
    if classes.dtype.kind != "U" or not 2 <= len(names) <= MAX_CLASSES or len(set(names)) != len(names):
        raise InvalidBundle("The answers' classes must be 2 to 64 distinct names; rebuild the hidden set.")
    if any(name in ("", "id") or name != name.strip().lower() or "," in name for name in names):
        raise InvalidBundle("The answers' class names must be lower case, without commas, and not 'id'.")
    if labels.dtype.kind not in "iu" or labels.min(initial=0) < 0 or labels.max(initial=0) >= len(names):
        raise InvalidBundle("The answers' labels must be class numbers 0..classes-1; rebuild the hidden set.")
    for part_name, part in (("public", public), ("private", ~public)):
        if part.any() and np.unique(labels[part]).size != len(names):
            raise InvalidBundle(
                f"The {part_name} part of the hidden set lacks some classes, so their F1 is undefined; "
                "fix data.py so that every part holds every class."
            )


def parse_probabilities_csv(
    raw: bytes, expected_ids: np.ndarray, classes: list[str], name: str = PROBABILITIES_FILE
) -> np.ndarray:
    """Parse CSV with an `id` column and one column per class; return (ids, classes) probabilities in id order.

    The columns are found by name in any order (case and surrounding spaces ignored); other columns, such as
    pandas' index, are ignored. Every value must be a finite number in [0, 1] and each row must sum to 1
    within SUM_TOLERANCE. At most about twice len(expected_ids) rows are held: a longer file is refused
    while it is read, and memory grows with the rows that are there, not with what a header promises.
    Raises InvalidPredictions with a sentence saying which line, id or column is wrong and how to fix it.
    """
    expected = np.asarray(expected_ids, dtype=np.int64)
    wanted = ["id", *classes]
    example = ",".join(wanted)
    content = decode_csv_text(raw, name)
    first_line = _first_line(content)
    if not first_line:
        raise InvalidPredictions(f"output/{name} is empty; write the header {example} and one row per test case.")
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=_csv_delimiter(first_line), skipinitialspace=True)
    try:
        header: list[str] = []
        for row in reader:
            header = [cell.strip().strip("\ufeff").lower() for cell in row]
            if any(header):
                break
        if len(header) > 4 * len(wanted) + 8:
            raise InvalidPredictions(f"The header of output/{name} names {len(header)} columns; write only {example}.")
        missing = [column for column in wanted if column not in header]
        if missing:
            raise InvalidPredictions(
                f"The first line of output/{name} must name the columns {example}, but it lacks "
                f"{', '.join(missing[:5])}; write one probability column per class, named as in data/classes.txt."
            )
        repeated = sorted({column for column in wanted if header.count(column) > 1})
        if repeated:
            raise InvalidPredictions(f"The header of output/{name} names {', '.join(repeated)} more than once.")
        columns = [header.index(column) for column in wanted]
        limit = 2 * expected.size + 100
        capacity = min(limit, 1024)
        ids = np.empty(capacity, dtype=np.int64)
        values = np.empty((capacity, len(classes)), dtype=np.float64)
        count = 0
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise InvalidPredictions(
                    f"Line {line} of output/{name} holds {len(row)} values but the header names {len(header)} "
                    "columns; write one id and one probability per class on every row."
                )
            if count >= limit:
                raise InvalidPredictions(
                    f"output/{name} has more rows than the {expected.size} test cases; write one row per case."
                )
            if count >= capacity:
                capacity = min(limit, 2 * capacity)
                ids = np.resize(ids, capacity)
                values = np.resize(values, (capacity, len(classes)))
            ids[count] = _cell_number(row[columns[0]], int, line, "id", name)
            for position, column in enumerate(columns[1:]):
                values[count, position] = _cell_number(row[column], float, line, "probability", name)
            count += 1
    except csv.Error as error:
        raise InvalidPredictions(f"output/{name} is not readable as CSV (line {reader.line_num}: {error}).") from None
    ids, values = ids[:count], values[:count]
    _check_rows(ids, values, name)
    order = _in_expected_order(ids, np.arange(count, dtype=np.float64), expected, name).astype(np.int64)
    return values[order]


def _check_rows(ids: np.ndarray, values: np.ndarray, name: str) -> None:
    outside = np.flatnonzero(((values < 0.0) | (values > 1.0)).any(axis=1))
    if outside.size:
        raise InvalidPredictions(
            f"output/{name} holds values outside [0, 1] (for id {int(ids[outside[0]])}); write probabilities, "
            "for example a softmax output, not logits or scores."
        )
    sums = values.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1.0) > SUM_TOLERANCE)
    if off.size:
        raise InvalidPredictions(
            f"The probabilities of {off.size} rows of output/{name} do not sum to 1 (for id {int(ids[off[0]])} "
            f"they sum to {sums[off[0]]:.4g}); write one probability per class, as a softmax gives them."
        )


def read_probabilities_csv(
    output_dir: Path, expected_ids: np.ndarray, classes: list[str], max_bytes: int = MAX_CSV_BYTES
) -> np.ndarray:
    """Read output/probabilities.csv and return (cases, classes) probabilities in the order of `expected_ids`."""
    raw = read_untrusted_file(Path(output_dir) / PROBABILITIES_FILE, max_bytes)
    return parse_probabilities_csv(raw, expected_ids, classes)


def aggregate_confusion(labels: np.ndarray, probabilities: np.ndarray, min_cases: int) -> dict[str, Any]:
    """Return the confusion counts (true class rows, predicted class columns) with small columns withheld.

    A column (the cases predicted as one class) shows its breakdown by true class only when it holds at
    least `min_cases` cases; otherwise only its total is given and its cells are None. A participant who
    predicts a class for one chosen case therefore never learns that case's label from the picture.
    """
    counts = confusion_matrix(labels, probabilities)
    totals = counts.sum(axis=0)
    shown = (totals >= min_cases) | (totals == 0)
    cells = [[int(counts[r, c]) if shown[c] else None for c in range(counts.shape[1])] for r in range(counts.shape[0])]
    return {
        "counts": cells,
        "predicted_totals": [int(total) for total in totals],
        "true_totals": [int(total) for total in counts.sum(axis=1)],
        "min_cases": int(min_cases),
    }


def evaluate_probabilities(output_dir: Path, answers: dict[str, np.ndarray], min_cases: int) -> KindScores:
    """Score output/probabilities.csv by the macro-averaged F1 of the most probable class, on each part.

    Secondary: accuracy and each class's recall (`recall_<class>`), on each part. Figure: the confusion
    matrix of the public part, aggregate (see aggregate_confusion).
    """
    classes = [str(name) for name in answers["classes"].tolist()]
    probabilities = read_probabilities_csv(output_dir, answers["ids"], classes)
    labels = answers["labels"]
    public, private = _parts(answers["public"])
    secondary: dict[str, float] = {}
    for suffix, part in (("", public), ("_private", private)):
        secondary["accuracy" + suffix] = accuracy(labels[part], probabilities[part])
        for name, recall in zip(classes, class_recalls(labels[part], probabilities[part]), strict=True):
            secondary[f"recall_{name}{suffix}"] = float(recall)
    figure = aggregate_confusion(labels[public], probabilities[public], min_cases)
    return KindScores(
        public=macro_f1(labels[public], probabilities[public]),
        private=macro_f1(labels[private], probabilities[private]),
        secondary=secondary,
        figures={"confusion": {"classes": classes, **figure}},
    )


# --- pictures ------------------------------------------------------------------------------------------------


def _new_figure(width: float, height: float) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


def _save(figure: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not figure.get_tight_layout() and figure.get_layout_engine() is None:
        figure.tight_layout()
    figure.savefig(path, format="png", dpi=90)


def draw_rejection_curve(data: dict[str, Any], rejection: float, path: Path) -> None:
    """Draw light- and c-jet rejection against b-jet efficiency, log scale, with the working point marked."""
    figure, ax = _new_figure(5, 4)
    light, charm = data["light"], data["c"]
    ax.step(light["efficiency"], light["rejection"], where="post", lw=2, label="light jets (u, d, s, g)")
    ax.step(charm["efficiency"], charm["rejection"], where="post", lw=1.5, color="#e65100", label="c-jets")
    point = float(data["working_point"])
    ax.axvline(point, ls=":", color="grey")
    ax.plot([point], [rejection], "o", color="#1565c0", label=f"yours at {point:.0%}: {rejection:.1f}")
    ax.plot([0, 1], [1, 1], ls="--", color="grey", lw=1)
    ax.set_yscale("log")
    ax.set(
        xlabel="b-jet efficiency",
        ylabel="background rejection (1 / efficiency)",
        title="Rejection, public part",
        xlim=(0, 1),
    )
    ax.set_ylim(bottom=0.8)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    _save(figure, path)


def draw_confusion_matrix(data: dict[str, Any], path: Path) -> None:
    """Draw the confusion matrix as row fractions with counts; withheld columns are grey and say why."""
    classes = data["classes"]
    size = len(classes)
    counts = data["counts"]
    withheld = [c for c in range(size) if any(row[c] is None for row in counts)]
    true_totals = np.maximum(np.asarray(data["true_totals"], dtype=float), 1)
    fractions = np.array([[np.nan if v is None else v for v in row] for row in counts], dtype=float)
    fractions /= true_totals[:, None]
    figure, ax = _new_figure(max(5.0, 1.4 + 0.75 * size), max(4.6, 1.6 + 0.7 * size))
    ax.imshow(np.ma.masked_invalid(fractions), cmap=_blues(), vmin=0, vmax=1)
    for r in range(size):
        for c in range(size):
            if counts[r][c] is not None:
                colour = "white" if fractions[r, c] > 0.6 else "black"
                ax.text(c, r, str(counts[r][c]), ha="center", va="center", fontsize=8, color=colour)
    labels = [name.replace("_", " ") for name in classes]
    column_labels = [
        f"{label}\n({data['predicted_totals'][c]} predicted)" if c in withheld else label
        for c, label in enumerate(labels)
    ]
    ax.set_xticks(range(size), column_labels, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(size), labels, fontsize=8)
    ax.set(xlabel="predicted class (most probable)", ylabel="true class", title="Confusion matrix, public part")
    if withheld:
        figure.text(
            0.5,
            0.01,
            f"Grey columns: fewer than {data['min_cases']} cases predicted as that class; their counts are withheld.",
            ha="center",
            va="bottom",
            fontsize=7,
            wrap=True,
        )
        figure.tight_layout(rect=(0, 0.05, 1, 1))
    _save(figure, path)


def _blues() -> Any:
    from matplotlib import colormaps

    return colormaps["Blues"].with_extremes(bad="#dddddd")


def draw_figures(kind: str, scores: Any, figures_dir: Path) -> list[dict[str, str]]:
    """Draw the pictures of a result of one of these kinds into `figures_dir`; return their files and titles."""
    images: list[dict[str, str]] = []
    if "rejection" in scores.figures:
        draw_rejection_curve(scores.figures["rejection"], scores.public, figures_dir / "rejection.png")
        images.append({"file": "rejection.png", "title": "Background rejection against b-jet efficiency"})
    if "confusion" in scores.figures:
        draw_confusion_matrix(scores.figures["confusion"], figures_dir / "confusion.png")
        images.append({"file": "confusion.png", "title": "Confusion matrix on the public part"})
    return images


EVALUATORS = {"btag_scores_csv": evaluate_btag_scores, "probabilities_csv": evaluate_probabilities}
ANSWER_ARRAYS = {"btag_scores_csv": ("ids", "flavours"), "probabilities_csv": ("ids", "labels", "classes")}
ANSWER_CHECKS = {"btag_scores_csv": check_btag_answers, "probabilities_csv": check_probabilities_answers}
METRIC_OF_KIND = {"btag_scores_csv": "light_rejection", "probabilities_csv": "macro_f1"}
OUTPUT_FILES = {"btag_scores_csv": "predictions.csv", "probabilities_csv": PROBABILITIES_FILE}
