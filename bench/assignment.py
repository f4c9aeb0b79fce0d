"""Time the group optimizer on an edition-sized event (60 participants, 12 tutors); assert it stays under 1 s."""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hackathon.assignment import Participant, Tutor, UseCase, plan_groups, summarize  # noqa: E402

LIMIT_SECONDS = 1.0
USE_CASES = [
    UseCase(1, "Breast cancer", frozenset({"BDT", "MLP", "medical physics", "scikit-learn"})),
    UseCase(2, "Microcalcifications", frozenset({"CNN", "medical physics", "Keras/TensorFlow"})),
    UseCase(3, "Lung segmentation", frozenset({"U-Net", "CNN", "medical physics", "Keras/TensorFlow"})),
    UseCase(4, "MET anomaly", frozenset({"autoencoder", "high energy physics", "Keras/TensorFlow"})),
]


def edition(seed: int, participants: int = 60, tutors: int = 12) -> tuple[list[Participant], list[Tutor]]:
    """Draw rankings skewed towards the popular use cases, as real editions show, and tutors of mixed expertise."""
    rng = random.Random(seed)
    ids = [u.id for u in USE_CASES]
    people = []
    for i in range(participants):
        favourite = rng.choices(ids, weights=[4, 3, 2, 1])[0]
        rest = [u for u in ids if u != favourite]
        rng.shuffle(rest)
        people.append(Participant(i, (favourite, *rest)))
    staff = [
        Tutor(1000 + i, frozenset(rng.sample(sorted(set().union(*(u.labels for u in USE_CASES))), 5)), max_groups=1)
        for i in range(tutors)
    ]
    return people, staff


def main() -> None:
    timings = []
    for seed in range(10):
        people, staff = edition(seed)
        start = time.perf_counter()
        groups = plan_groups(people, USE_CASES, staff, group_size=5, participants_per_tutor=5)
        timings.append(time.perf_counter() - start)
        report = summarize(groups, people, USE_CASES, staff, participants_per_tutor=5)
        assert report.participants == len(people)
    worst = max(timings)
    print(
        f"60 participants, 12 tutors, 4 use cases: median {statistics.median(timings) * 1000:.0f} ms, "
        f"worst {worst * 1000:.0f} ms over {len(timings)} editions"
    )
    print(
        f"last edition: {report.first_choice}/60 first choices, {len(report.groups)} groups, "
        f"{len(report.groups_below_ratio)} below the ratio, "
        f"{len(report.groups_with_unmatched_expertise)} with unmatched expertise"
    )
    assert worst < LIMIT_SECONDS, f"assignment took {worst:.2f} s, over the {LIMIT_SECONDS} s budget"


if __name__ == "__main__":
    main()
