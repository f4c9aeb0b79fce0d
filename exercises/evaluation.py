"""Score a participant's output/ against a hidden set and draw the feedback, through the exercise's output kind."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from exercises.bundles import Bundle
from exercises.kinds import kind_of
from exercises.kinds.base import Answers, Picture, RunJob, Scores, ScoringJobs

__all__ = ["Drawing", "Scores", "draw_figures", "evaluate", "load_answers"]

logger = logging.getLogger(__name__)


def load_answers(kind: str, answers_path: Path) -> Answers:
    """Load and check the answers.npz of output kind `kind`; raise InvalidBundle if it cannot score anyone.

    Without a `public` array, or with an empty private part (a check run on the public sample),
    every row is public and the private score repeats the public one.
    """
    return kind_of(kind).load_answers(Path(answers_path))


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

    `run_job` runs sandboxed work (only kinds that run the participant's models need it); `work_dir` is an
    empty trusted folder for that work's inputs and outputs. `labels_known` says that the participant already
    has these answers or they are no part of the hidden set (the public sample of a check run): only then do
    the figures show single cases.
    Otherwise every figure is aggregate, each step or bin covering at least HIDDEN_MIN_CASES cases.
    """
    manifest = bundle.manifest
    kind = kind_of(manifest.output.kind)
    answers = kind.load_answers(Path(answers_path))
    jobs = ScoringJobs(run_job=run_job, work_dir=Path(work_dir), resources=manifest.resources)
    predictions = kind.read(Path(output_dir), answers, jobs)
    return kind.score(answers, predictions, metric=manifest.metric.name, labels_known=labels_known)


@dataclass(frozen=True)
class Drawing:
    """The pictures `draw_figures` drew, and whether it drew all it meant to."""

    pictures: list[Picture] = field(default_factory=list)
    complete: bool = True


def draw_figures(
    bundle: Bundle, scores: Scores, *, figures_dir: Path, output_dir: Path, data_dir: Path, answers_path: Path
) -> Drawing:
    """Draw the pictures of a result of `evaluate` into `figures_dir`; return those drawn, as {"file", "title"}.

    A picture that cannot be drawn is logged and left out with those after it (`complete` False), never fatal:
    pictures help, but must never lose a score. `output_dir`, `data_dir` and `answers_path` are the run's, for
    pictures drawn on its files (mask overlays on the test images).
    """
    pictures: list[Picture] = []
    try:
        for picture in kind_of(bundle.manifest.output.kind).draw(
            scores,
            figures_dir=Path(figures_dir),
            output_dir=Path(output_dir),
            data_dir=Path(data_dir),
            answers_path=Path(answers_path),
        ):
            pictures.append(picture)
    except Exception:  # pictures help but must never lose a score
        logger.exception("Could not draw the figures of a result")
        return Drawing(pictures, complete=False)
    return Drawing(pictures)
