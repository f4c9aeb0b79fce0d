"""The scores CSV kind: output/predictions.csv with one score per test id, ranked by ROC AUC."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from exercises.errors import InvalidBundle
from exercises.kinds import figures
from exercises.kinds.base import Answers, OutputKind, Picture, Scores, ScoringJobs, histograms, min_cases
from exercises.metrics import roc_points
from exercises.outputs import read_scores_csv


class ScoresCsv(OutputKind):
    """A score per case, higher meaning more likely positive; the answers hold each id's 0/1 label."""

    name = "scores_csv"
    metrics = ("roc_auc",)
    answer_arrays = ("ids", "labels")
    class_array = "labels"

    def check_answers(self, answers: Answers) -> None:
        """Refuse ids that are not unique integers, or labels that are not one per id."""
        ids = answers["ids"]
        if ids.dtype.kind not in "iu" or np.unique(ids).size != ids.size or answers["labels"].shape != (ids.shape[0],):
            raise InvalidBundle("The answers' ids must be unique integers, one label each; rebuild the hidden set.")

    def read(self, output_dir: Path, answers: Answers, jobs: ScoringJobs) -> np.ndarray:
        """Return the scores of output/predictions.csv in the order of the answers' ids."""
        return read_scores_csv(output_dir, answers["ids"])

    def metric_arguments(self, answers: Answers, predictions: np.ndarray, rows: np.ndarray) -> tuple[Any, ...]:
        """Return (labels, scores) of the cases in `rows`."""
        return answers["labels"][rows], predictions[rows]

    def score(self, answers: Answers, predictions: np.ndarray, *, metric: str, labels_known: bool) -> Scores:
        """Score each part with `metric`; figures: the public part's ROC curve and score histograms."""
        labels, public = answers["labels"], answers["public"]
        cases = min_cases(labels_known)
        public_score, private_score = self.score_parts(answers, predictions, metric)
        return Scores(
            public=public_score,
            private=private_score,
            secondary={},
            figures={
                "roc": roc_points(labels[public], predictions[public], min_cases=cases),
                "score_histogram": histograms(
                    predictions[public], labels[public].astype(bool), ("negative", "positive"), min_cases=cases
                ),
            },
        )

    def draw(
        self, scores: Scores, *, figures_dir: Path, output_dir: Path, data_dir: Path, answers_path: Path
    ) -> Iterator[Picture]:
        """Draw the ROC curve, labelled with the public score: this kind's metric is ROC AUC."""
        if "roc" in scores.figures:
            figures.roc_curve(scores.figures["roc"], scores.public, figures_dir / "roc.png")
            yield {"file": "roc.png", "title": "ROC curve on the public part"}
