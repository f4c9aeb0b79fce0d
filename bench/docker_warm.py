"""Measure the docker backend's warm containers: memory each holds while it waits, and a job cold against warm.

Per runtime (`cpu`: numpy, pandas, scikit-learn preloaded; `keras`: TensorFlow and Keras too, as grading warms
them), one pool of one container is warmed; its memory (the container cgroup's `memory.current`, tmpfs and kernel
included) is read while it waits. Then, interleaved per round, the same small notebook (the runtime's imports and
a fit) runs cold (a fresh container, imports paid) and warm (the waiting container). Runs the sandbox layer
directly (no Django); needs a Docker engine and the runtime image (deploy/sandbox/build-images.sh).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from sandbox import Job, Limits, Outcome, SandboxConfig  # noqa: E402
from sandbox.backends.docker import Backend  # noqa: E402

IMPORTS = {
    "cpu": ("numpy", "pandas", "sklearn"),
    "keras": ("numpy", "pandas", "sklearn", "tensorflow", "keras"),
}
FIT = (
    "import numpy as np\nfrom sklearn.linear_model import LogisticRegression\n"
    "X = np.random.default_rng(0).normal(size=(5000, 20)); y = (X[:, 0] > 0).astype(int)\n"
    "open('output/score.txt', 'w').write(str(LogisticRegression().fit(X, y).score(X, y)))"
)
LIMITS = Limits(wall_seconds=300, cell_seconds=300, memory_bytes=2 << 30, processes=256, cpus=1.0)


def notebook(path: Path, runtime: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("\n".join(f"import {m}" for m in IMPORTS[runtime])),
        nbformat.v4.new_code_cell(FIT),
    ]
    nbformat.write(nb, str(path))
    return path


def container_memory(container: object) -> int:
    """Return the container cgroup's current memory (v2 memory.current, v1 memory.usage_in_bytes), in bytes."""
    reply = container.exec_run(  # type: ignore[attr-defined]
        ["sh", "-c", "cat /sys/fs/cgroup/memory.current 2>/dev/null || cat /sys/fs/cgroup/memory/memory.usage_in_bytes"]
    )
    return int(reply.output.decode().split()[0])


def one_job(backend: Backend, folder: Path, runtime: str) -> tuple[float, bool]:
    folder.mkdir(parents=True)
    job = Job(
        output_dir=folder / "output", notebook=notebook(folder / "n.ipynb", runtime), limits=LIMITS, runtime=runtime
    )
    result = backend.run(job)
    if result.outcome is not Outcome.OK:
        raise SystemExit(f"the {runtime} notebook ended {result.outcome}: {result.message}\n{result.log[-2000:]}")
    return result.duration_s, result.warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved cold and warm runs per runtime (3)")
    parser.add_argument("--runtimes", default="cpu,keras", help="which runtimes, comma-separated (cpu,keras)")
    args = parser.parse_args()
    load_at_start = Path("/proc/loadavg").read_text().split()[0]
    lines = [
        "| runtime | memory of a waiting container (MiB) | cold, median (s) | warm, median (s) | warm / cold |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="bench-docker-warm-") as tmp:
        for runtime in args.runtimes.split(","):
            state = Path(tmp) / runtime
            images = {"cpu": "ml-infn/runtime-cpu:latest", "keras": "ml-infn/runtime-cpu:latest"}
            cold = Backend(SandboxConfig(state_dir=state / "cold", docker_images=images))
            warm = Backend(
                SandboxConfig(state_dir=state / "warm", docker_images=images, warm_pool_size=1, warm_imports=IMPORTS)
            )
            pool = warm.warm_pool
            assert pool is not None
            try:
                pool.prepare(runtime, LIMITS)
                if not pool.wait_ready(runtime, 300):
                    raise SystemExit(f"the {runtime} container did not warm up in 300 s")
                time.sleep(2)  # let the warm-up's garbage settle before reading its memory
                memory = container_memory(pool.idle[0].container)
                colds, warms = [], []
                for n in range(args.rounds):
                    colds.append(one_job(cold, state / f"cold-{n}", runtime)[0])
                    pool.wait_ready(runtime, 300)
                    seconds, was_warm = one_job(warm, state / f"warm-{n}", runtime)
                    if not was_warm:
                        raise SystemExit("the warm run did not take the waiting container")
                    warms.append(seconds)
                    print(f"{runtime} round {n}: cold {colds[-1]:.2f} s, warm {warms[-1]:.2f} s", flush=True)
            finally:
                warm.close()
            c, w = statistics.median(colds), statistics.median(warms)
            lines.append(f"| {runtime} | {memory / 2**20:.0f} | {c:.2f} | {w:.2f} | {w / c:.2f}x |")
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    load = Path("/proc/loadavg").read_text().split()[0]
    print(
        f"\nMeasured by `bench/docker_warm.py --rounds {args.rounds}` on `{uname}` ({platform.machine()}); "
        f"load average (1 min) {load_at_start} at the start, {load} at the end.\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
