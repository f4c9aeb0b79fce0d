"""Measure what each sandbox backend costs over running the same notebook in-process, and record it in docs."""

from __future__ import annotations

import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import Job, Limits, SandboxConfig, get_backend  # noqa: E402

REPEATS = 3  # medians of three: one run on a 2-CPU machine varies by half
WARM_IMPORTS = ("numpy", "pandas", "sklearn")  # what grading's settings preload for the cpu runtime
REFERENCE = [
    "import numpy as np\nfrom sklearn.linear_model import LogisticRegression",
    "rng = np.random.default_rng(0)\nX = rng.normal(size=(5000, 20))\ny = (X[:, 0] + X[:, 1] > 0).astype(int)",
    "model = LogisticRegression().fit(X, y)\nopen('output/score.txt', 'w').write(str(model.score(X, y)))",
]


def reference_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in REFERENCE]
    nbformat.write(nb, str(path))
    return path


def in_process(notebook: Path, workdir: Path) -> float:
    (workdir / "output").mkdir(exist_ok=True)
    started = time.monotonic()
    nb = nbformat.read(str(notebook), as_version=4)
    NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    return time.monotonic() - started


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), platform.processor())
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    meminfo = Path("/proc/meminfo").read_text().split()
    memory = int(meminfo[meminfo.index("MemTotal:") + 1]) / (1 << 20)
    return f"`{uname}`; {nproc} CPUs; {cpu}; {memory:.0f} GiB of memory"


def measure(name: str, warm: bool, notebook: Path, tmp_path: Path) -> tuple[str, float, float, str] | None:
    """Time one sandboxed run right after an in-process run of the same notebook; None if unavailable here."""
    config = SandboxConfig(
        state_dir=tmp_path / "state",
        runtime_python={"cpu": Path(sys.executable)},
        allow_process_backend=True,
        warm_pool_size=1 if warm else 0,
        warm_imports={"cpu": WARM_IMPORTS},
    )
    try:
        backend = get_backend(name, config)
    except ImportError:
        return None
    if backend.unavailable_reason() is not None:
        return None
    limits = Limits(memory_bytes=2 << 30)
    bases: list[float] = []
    took: list[float] = []
    outcomes: list[str] = []
    warm_runs = 0
    try:
        for attempt in range(REPEATS):
            if warm:
                pool = getattr(backend, "warm_pool", None)
                if pool is None:
                    return None
                pool.prepare("cpu", limits)  # warming happens between jobs, so it is not timed
                if not pool.wait_ready("cpu", 300):
                    return None
            bases.append(in_process(notebook, tmp_path))
            job = Job(output_dir=tmp_path / f"out-{name}-{warm}-{attempt}", notebook=notebook, limits=limits)
            started = time.monotonic()
            result = backend.run(job)
            took.append(time.monotonic() - started)
            outcomes.append(result.outcome.value)
            warm_runs += result.warm
    finally:
        backend.close()
    label = f"{name}, {'warm' if warm_runs == REPEATS else 'cold' if warm_runs == 0 else 'mixed'}"
    return label, statistics.median(bases), statistics.median(took), "/".join(sorted(set(outcomes)))


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        notebook = reference_notebook(tmp_path / "reference.ipynb")
        for name, warm in (("docker", False), ("bwrap", False), ("bwrap", True), ("process", False)):
            row = measure(name, warm, notebook, tmp_path)
            if row is not None:
                rows.append(row)
    lines = [
        "## Sandbox overhead",
        "",
        f"Measured by `bench/sandbox_overhead.py` on {machine()}.",
        "Reference notebook: logistic regression on 5000x20 generated points (imports numpy and sklearn).",
        "Each sandboxed run is timed right after an in-process nbclient run of the same notebook (kernel start",
        f"included), so each ratio compares runs made side by side; times are medians of {REPEATS} such pairs.",
        f"A warm row runs in a sandbox of the warm pool, warmed beforehand with {', '.join(WARM_IMPORTS)}",
        "imported (not timed: the pool warms between jobs); a cold row starts the sandbox and kernel for the job.",
        "A warm run shares the CPUs with the warm-up of its replacement, as it does in a worker.",
        "Backends this host cannot run have no row.",
        "",
        "| backend | in-process (s) | sandboxed (s) | ratio | outcome |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {n} | {b:.2f} | {t:.2f} | {t / b:.2f} | {o} |" for n, b, t, o in rows]
    section = "\n".join(lines) + "\n"
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n\n"
    if "## Sandbox overhead" in text:
        head, _, rest = text.partition("## Sandbox overhead")
        tail = rest[rest.find("\n## ") :] if "\n## " in rest else ""
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)
    print(section)


if __name__ == "__main__":
    main()
