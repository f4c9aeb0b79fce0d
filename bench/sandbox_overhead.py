"""Measure what each sandbox backend costs over running the same notebook in-process, and record it in docs."""

from __future__ import annotations

import platform
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
    return f"`{uname}`; {nproc} CPUs; {cpu}"


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        notebook = reference_notebook(tmp_path / "reference.ipynb")
        config = SandboxConfig(
            state_dir=tmp_path / "state", runtime_python={"cpu": Path(sys.executable)}, allow_process_backend=True
        )
        for name in ("docker", "bwrap", "process"):
            try:
                backend = get_backend(name, config)
            except ImportError:
                continue
            if backend.unavailable_reason() is not None:
                continue
            base = in_process(notebook, tmp_path)  # measured side by side with each backend's run
            job = Job(output_dir=tmp_path / f"out-{name}", notebook=notebook, limits=Limits(memory_bytes=2 << 30))
            started = time.monotonic()
            result = backend.run(job)
            took = time.monotonic() - started
            rows.append((name, base, took, result.outcome.value))
    lines = [
        "## Sandbox overhead",
        "",
        f"Measured by `bench/sandbox_overhead.py` on {machine()}.",
        "Reference notebook: logistic regression on 5000x20 generated points. Cold start only: the warm pool is",
        "not built yet. Each backend is timed right after an in-process nbclient run of the same notebook.",
        "",
        "| backend | in-process (s) | sandboxed, cold (s) | ratio | outcome |",
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
