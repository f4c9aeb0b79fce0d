"""The b-tag scores kind: output/predictions.csv with a b-score per jet, ranked by light-jet rejection at 60 % b-eff."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from exercises.errors import InvalidBundle
from exercises.kinds import figures
from exercises.kinds.base import Answers, OutputKind, Picture, Scores, ScoringJobs, min_cases, parts
from exercises.metrics import C_FLAVOUR, FLAVOURS, METRICS, WORKING_POINT, rejection_curve
from exercises.outputs import read_scores_csv

SECONDARY = ("c_rejection", "b_light_auc")  # on each part, whatever the primary


class BtagScoresCsv(OutputKind):
    """A score per jet, higher meaning more b-like; the answers hold each id's hadron flavour (5 b, 4 c, 0 light).

    Read by the scores-CSV reader (`id,score`). Secondary values: the c-jet rejection at the same b-efficiency
    and the ROC AUC of b- against light jets. The picture: light- and c-jet rejection against b-jet efficiency,
    log scale, each step covering at least HIDDEN_MIN_CASES jets unless the labels are known.
    """

    name = "btag_scores_csv"
    metrics = ("light_rejection",)
    answer_arrays = ("ids", "flavours")

    def check_answers(self, answers: Answers) -> None:
        """Refuse ids that are not unique integers, flavours other than 5, 4, 0, a part lacking a flavour."""
        ids, flavours, public = answers["ids"], answers["flavours"], answers["public"]
        if ids.dtype.kind not in "iu" or np.unique(ids).size != ids.size or flavours.shape != ids.shape:
            raise InvalidBundle("The answers' ids must be unique integers, one flavour each; rebuild the hidden set.")
        if flavours.dtype.kind not in "iu" or not np.isin(flavours, FLAVOURS).all():
            raise InvalidBundle("The answers' flavours must be 5 (b), 4 (c) or 0 (light); rebuild the hidden set.")
        for part_name, part in (("public", public), ("private", ~public)):
            if part.any() and not np.isin(FLAVOURS, flavours[part]).all():
                raise InvalidBundle(
                    f"The {part_name} part of the hidden set lacks b-, c- or light jets, so a rejection is "
                    "undefined; fix data.py so that every part holds all three."
                )

    def read(self, output_dir: Path, answers: Answers, jobs: ScoringJobs) -> np.ndarray:
        """Return the scores of output/predictions.csv in the order of the answers' ids."""
        return read_scores_csv(output_dir, answers["ids"])

    def metric_arguments(self, answers: Answers, predictions: np.ndarray, rows: np.ndarray) -> tuple[Any, ...]:
        """Return (flavours, scores) of the jets in `rows`."""
        return answers["flavours"][rows], predictions[rows]

    def score(self, answers: Answers, predictions: np.ndarray, *, metric: str, labels_known: bool) -> Scores:
        """Score each part with `metric`, with the secondaries; figures: the public part's rejection curves."""
        public_score, private_score = self.score_parts(answers, predictions, metric)
        public, private = parts(answers["public"])
        secondary = {}
        for suffix, rows in (("", public), ("_private", private)):
            for name in SECONDARY:
                secondary[name + suffix] = METRICS[name].function(*self.metric_arguments(answers, predictions, rows))
        flavours, cases = answers["flavours"][public], min_cases(labels_known)
        return Scores(
            public=public_score,
            private=private_score,
            secondary=secondary,
            figures={
                "rejection": {
                    "light": rejection_curve(flavours, predictions[public], min_cases=cases),
                    "c": rejection_curve(flavours, predictions[public], min_cases=cases, background=C_FLAVOUR),
                    "working_point": WORKING_POINT,
                }
            },
        )

    def draw(
        self, scores: Scores, *, figures_dir: Path, output_dir: Path, data_dir: Path, answers_path: Path
    ) -> Iterator[Picture]:
        """Draw the rejection curves, the working point marked with the public light-jet rejection."""
        if "rejection" in scores.figures:
            figures.rejection_curves(
                scores.figures["rejection"],
                scores.public,
                scores.secondary.get("c_rejection"),
                figures_dir / "rejection.png",
            )
            yield {"file": "rejection.png", "title": "Background rejection against b-jet efficiency"}
