"""Output kinds: what a participant's notebook leaves in output/, and how it is read, scored and pictured.

Each kind is one module holding a subclass of `base.OutputKind`, registered in KINDS below under the name an
exercise's manifest gives as `output.kind`. The manifest's schema takes its allowed kinds and, for each kind,
its allowed primary metrics (`OutputKind.metrics`, the first the usual one) from this registry;
`exercises.evaluation` and grading ask the registered kind to read, score and draw, never a kind's name.

A kind reads the participant's files as untrusted data through `exercises.outputs` (sizes checked before
anything is allocated, refusals as InvalidPredictions sentences), scores each part of the hidden set with the
metric functions of `exercises.metrics` (`OutputKind.score_parts` calls the manifest's metric on
`metric_arguments`), keeps every figure aggregate unless the labels are known (HIDDEN_MIN_CASES), and draws
its pictures with `exercises.kinds.figures`.

Adding a kind: write `exercises/kinds/<name>.py` with the subclass (name, metrics, answer_arrays, and read,
metric_arguments, score, draw), add any new metric function to `exercises.metrics.METRICS`, register the
class here, and give tests/exercises/test_kinds_score_with_metrics.py a small synthetic output of it: that
test holds every registered kind to the metrics' functions.
"""

from __future__ import annotations

from exercises.kinds.autoencoder import Autoencoder
from exercises.kinds.base import OutputKind
from exercises.kinds.btag_scores_csv import BtagScoresCsv
from exercises.kinds.masks_npy import MasksNpy
from exercises.kinds.probabilities_csv import ProbabilitiesCsv
from exercises.kinds.scores_csv import ScoresCsv

KINDS: dict[str, OutputKind] = {
    kind.name: kind for kind in (ScoresCsv(), MasksNpy(), Autoencoder(), BtagScoresCsv(), ProbabilitiesCsv())
}


def kind_of(name: str) -> OutputKind:
    """Return the registered output kind called `name` (a manifest's output.kind); KeyError if none is."""
    return KINDS[name]
