"""Time the first feedback picture a fresh worker process draws, with matplotlib loaded at start and without.

A worker process now imports matplotlib's figure and Agg canvas at `worker_process_init` (grading/tasks.py);
this shows what that saves the first scored submission of each process. Each round starts two fresh
interpreters, one per variant, interleaved.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DRAW = """
import sys, time
if sys.argv[1] == "loaded at start":
    import matplotlib.backends.backend_agg, matplotlib.figure
from pathlib import Path
from grading.figures import roc_curve
started = time.perf_counter()
roc_curve({"fpr": [0, 0.2, 1], "tpr": [0, 0.8, 1]}, 0.8, Path(sys.argv[2]) / "roc.png")
print(time.perf_counter() - started)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"imported on first use": [], "loaded at start": []}
    with tempfile.TemporaryDirectory(prefix="bench-picture-") as scratch:
        for _ in range(args.rounds):
            for variant, seconds in times.items():
                out = subprocess.run(
                    [sys.executable, "-c", DRAW, variant, scratch], capture_output=True, text=True, check=True, cwd=ROOT
                )
                seconds.append(float(out.stdout.strip()))
    for variant, seconds in times.items():
        print(f"{variant}: median {statistics.median(seconds):.2f} s ({', '.join(f'{s:.2f}' for s in seconds)})")


if __name__ == "__main__":
    main()
