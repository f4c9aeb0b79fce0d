"""The interface every output kind implements, the Scores it returns, and the helpers kinds share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from exercises.errors import InvalidBundle
from exercises.metrics import METRICS
from sandbox.jobs import Job, Result

if TYPE_CHECKING:  # the manifest names the registered kinds, so it imports this package: types only here
    from exercises.manifest import Resources

# Pictures drawn on hidden labels group at least this many cases per curve step or histogram bin: a
# participant who gives one chosen case an extreme value must not read its label off a picture.
HIDDEN_MIN_CASES = 10

Answers = dict[str, np.ndarray]  # the arrays of an answers.npz, with `public`: one bool per case
Picture = dict[str, str]  # a drawn feedback picture: {"file": name in the figures folder, "title": what it shows}
RunJob = Callable[[Job], Result]


@dataclass(frozen=True)
class Scores:
    """The primary metric on each part of the hidden set, secondary metrics, and data for pictures.

    `secondary[name]` is computed on the public part and `secondary[name + "_private"]` on the
    private part, so pages shown during an event can leave out the private values.
    """

    public: float
    private: float
    secondary: dict[str, float]
    figures: dict[str, Any]


@dataclass(frozen=True)
class ScoringJobs:
    """How a kind runs sandboxed work of its own while it reads a participant's files (models to run).

    `work_dir` is an empty trusted folder for that work's inputs and outputs; `resources` are the exercise's.
    """

    run_job: RunJob
    work_dir: Path
    resources: Resources


class OutputKind(ABC):
    """What a participant's notebook leaves in output/, and how it is read, scored and pictured.

    One subclass per kind, one module each, registered in exercises/kinds/__init__.py. Reading raises
    InvalidPredictions with a sentence the participant can act on; an answers file that cannot score
    anyone raises InvalidBundle.
    """

    name: ClassVar[str]  # the manifest's output.kind
    metrics: ClassVar[tuple[str, ...]]  # primary metrics (names in exercises.metrics.METRICS); the first is usual
    answer_arrays: ClassVar[tuple[str, ...]]  # arrays answers.npz must hold; the first has one row per case
    # The answers array of each case's class, where every scored part must hold two classes (ROC AUC needs both).
    class_array: ClassVar[str | None] = None

    def load_answers(self, answers_path: Path) -> Answers:
        """Load and check a hidden (or public) answers.npz; raise InvalidBundle if it cannot score anyone.

        Without a `public` array, or with an empty private part (a check run on the public sample),
        every row is public and the private score repeats the public one.
        """
        try:
            with np.load(answers_path, allow_pickle=False) as archive:
                answers = {name: archive[name] for name in archive.files}
        except (OSError, ValueError) as error:
            raise InvalidBundle(f"The answers file cannot be read ({error}); rebuild the hidden set.") from None
        missing = [name for name in self.answer_arrays if name not in answers]
        if missing:
            raise InvalidBundle(f"The answers file lacks {', '.join(missing)}; rebuild the hidden set.")
        count = answers[self.answer_arrays[0]].shape[0]
        public = answers.get("public", np.ones(count, dtype=bool))
        if public.shape != (count,) or public.dtype != np.bool_:
            raise InvalidBundle("The answers' `public` must be one bool per row; rebuild the hidden set.")
        if not public.any():
            raise InvalidBundle("The answers' public part is empty; rebuild the hidden set.")
        answers["public"] = public
        self.check_answers(answers)
        return answers

    def check_answers(self, answers: Answers) -> None:  # noqa: B027 (most kinds have nothing to add)
        """Check what this kind's answers need beyond their arrays being there; raise InvalidBundle."""

    @abstractmethod
    def read(self, output_dir: Path, answers: Answers, jobs: ScoringJobs) -> np.ndarray:
        """Read and check the participant's files in `output_dir`; return the predictions, one row per case.

        The files are untrusted: read them with exercises.outputs, sizes checked before anything is allocated.
        """

    @abstractmethod
    def metric_arguments(self, answers: Answers, predictions: np.ndarray, rows: np.ndarray) -> tuple[Any, ...]:
        """Return the arguments of this kind's primary metric functions for the cases selected by `rows`."""

    @abstractmethod
    def score(self, answers: Answers, predictions: np.ndarray, *, metric: str, labels_known: bool) -> Scores:
        """Score the predictions with `metric` on each part, with secondaries and the data for pictures.

        `labels_known` says that the participant already has these answers or they are no part of the
        hidden set (the public sample of a check run): only then may figure data show single cases.
        Otherwise every step or bin covers at least HIDDEN_MIN_CASES cases.
        """

    @abstractmethod
    def draw(
        self, scores: Scores, *, figures_dir: Path, output_dir: Path, data_dir: Path, answers_path: Path
    ) -> Iterator[Picture]:
        """Draw the feedback pictures of `scores` into `figures_dir`, yielding each one once it is saved."""

    def score_parts(self, answers: Answers, predictions: np.ndarray, metric: str) -> tuple[float, float]:
        """Return `metric` (a name in METRICS) on the public and on the private part, through metrics.py."""
        function = METRICS[metric].function
        public, private = parts(answers["public"])
        return (
            function(*self.metric_arguments(answers, predictions, public)),
            function(*self.metric_arguments(answers, predictions, private)),
        )


def parts(public: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the rows of the public and of the private part; without private rows, the public ones twice."""
    private = ~public
    return public, (private if private.any() else public)


def min_cases(labels_known: bool) -> int:
    """Return how many cases each step or bin of a picture must group (see OutputKind.score)."""
    return 1 if labels_known else HIDDEN_MIN_CASES


def histograms(
    values: np.ndarray, positive: np.ndarray, names: tuple[str, str], bins: int = 30, min_cases: int = 1
) -> dict[str, Any]:
    """Return per-class histograms; with `min_cases` > 1 the bins are quantiles holding that many cases each."""
    if min_cases > 1:
        count = max(1, min(bins, values.size // min_cases))
        edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, count + 1)))
        if edges.size < 2:
            edges = np.array([edges[0] - 0.5, edges[0] + 0.5]) if edges.size else np.array([0.0, 1.0])
    else:
        edges = np.histogram_bin_edges(values, bins=bins)
    return {
        "edges": edges.tolist(),
        names[0]: np.histogram(values[~positive], bins=edges)[0].tolist(),
        names[1]: np.histogram(values[positive], bins=edges)[0].tolist(),
    }
