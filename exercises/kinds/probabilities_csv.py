"""The class-probabilities kind: output/probabilities.csv with one probability per class per case, ranked by macro F1.

The answers hold each case's class number (`labels`) and the class names (`classes`), which name the CSV's
columns. The reader is strict (the csv module, the file's size capped before it is read, every id once, values in
[0, 1] that sum to 1 per row, NaN and infinity refused with a sentence); the picture is the public part's confusion
matrix, with the columns of fewer than HIDDEN_MIN_CASES predicted cases withheld unless the labels are known.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from exercises.errors import InvalidBundle, InvalidPredictions
from exercises.kinds import figures
from exercises.kinds.base import Answers, OutputKind, Picture, Scores, ScoringJobs, min_cases, parts
from exercises.metrics import METRICS, confusion_matrix
from exercises.outputs import (
    MAX_CSV_BYTES,
    _cell_number,
    _csv_delimiter,
    _first_line,
    _in_expected_order,
    decode_csv_text,
    read_untrusted_file,
)

PROBABILITIES_FILE = "probabilities.csv"
# A row's probabilities may miss 1 by rounding (7 classes written with 3 decimals miss it by up to 0.0035).
SUM_TOLERANCE = 0.01
MAX_CLASSES = 64


class ProbabilitiesCsv(OutputKind):
    """A probability per class per case; the most probable class is the prediction."""

    name = "probabilities_csv"
    metrics = ("macro_f1",)
    answer_arrays = ("ids", "labels", "classes")

    def check_answers(self, answers: Answers) -> None:
        """Refuse bad ids, class names or labels, and a part of the hidden set that lacks a class."""
        check_probabilities_answers(answers)

    def read(self, output_dir: Path, answers: Answers, jobs: ScoringJobs) -> np.ndarray:
        """Return output/probabilities.csv as (cases, classes) probabilities in the order of the answers' ids."""
        return read_probabilities_csv(output_dir, answers["ids"], class_names(answers))

    def metric_arguments(self, answers: Answers, predictions: np.ndarray, rows: np.ndarray) -> tuple[Any, ...]:
        """Return (class numbers, probabilities) of the cases in `rows`."""
        return answers["labels"][rows], predictions[rows]

    def score(self, answers: Answers, predictions: np.ndarray, *, metric: str, labels_known: bool) -> Scores:
        """Score each part with `metric`; secondaries: accuracy and recall_<class> (on the public part, only for a
        class predicted for at least min_cases cases); figure: the confusion matrix."""
        public_score, private_score = self.score_parts(answers, predictions, metric)
        public, private = parts(answers["public"])
        classes = class_names(answers)
        confusion = aggregate_confusion(answers["labels"][public], predictions[public], min_cases(labels_known))
        # A class's recall counts its cases predicted right: where the participant predicted that class for fewer
        # than min_cases cases (one chosen case), it would tell that case's label. It shows when its confusion
        # column does; the private part's recalls are the organizers' only (permissions.visible_result).
        withheld = {
            name
            for name, total in zip(classes, confusion["predicted_totals"], strict=True)
            if 0 < total < confusion["min_cases"]
        }
        secondary: dict[str, float] = {}
        for suffix, rows in (("", public), ("_private", private)):
            arguments = self.metric_arguments(answers, predictions, rows)
            secondary["accuracy" + suffix] = METRICS["accuracy"].function(*arguments)
            for index, name in enumerate(classes):
                if suffix or name not in withheld:
                    secondary[f"recall_{name}{suffix}"] = METRICS["class_recall"].function(*arguments, index)
        return Scores(
            public=public_score,
            private=private_score,
            secondary=secondary,
            figures={"confusion": {"classes": classes, **confusion}},
        )

    def draw(
        self, scores: Scores, *, figures_dir: Path, output_dir: Path, data_dir: Path, answers_path: Path
    ) -> Iterator[Picture]:
        """Draw the confusion matrix of the public part."""
        if "confusion" in scores.figures:
            figures.confusion_matrix(scores.figures["confusion"], figures_dir / "confusion.png")
            yield {"file": "confusion.png", "title": "Confusion matrix on the public part"}


def class_names(answers: Answers) -> list[str]:
    """Return the answers' class names, in the order of the class numbers."""
    return [str(name) for name in answers["classes"].tolist()]


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
