"""Measure an honest notebook beside a fork bomb that swallows its errors, in bwrap: its time, and the bomb's end.

Per round, side by side, four variants of one honest notebook (a fixed CPU-bound loop, one CPU like every job):

1. **alone**;
2. **beside a bomb**: a notebook whose every copy forks up to the process cap (256) and keeps retrying,
   swallowing every refusal (`--bomb every-copy-forks`, the default), or whose first copy forks while every child
   spins (`--bomb children-spin`), started `--head-start` seconds (default half a second) before the honest
   one: the sandbox's process watch ends it (`processes`);
3. **beside a busy job**: an honest neighbour for comparison, one process busy within its one-CPU share for
   the whole honest run: what any neighbour costs on this host;
4. **beside a bomb, watch off**: the same bomb with the process watch switched off (what happened before issue 22): the
   bomb spins until its wall clock, here cut to `--unwatched-wall` seconds.

The honest notebook's time is the loop's own (written by the notebook) and the whole run as the host saw it.
Targets (issue 22): beside a bomb the honest run takes at most 1.3x its time alone; the bomb ends with
`processes` within 30 s. Runs the sandbox layer directly (no Django); needs bubblewrap and a control group.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from sandbox import Job, Limits, Outcome, SandboxConfig, run_job  # noqa: E402
from sandbox.backends import host  # noqa: E402

HONEST = """
import time
start = time.perf_counter()
total = 0
for i in range(LOOPS):
    total += i * i
open('output/seconds', 'w').write(str(time.perf_counter() - start))
"""
BOMBS = {
    # Every copy forks until the cap and swallows each refusal: ended by the cap's refusals (host.ProcessCapRule).
    "every-copy-forks": """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
""",
    # The first copy forks while its children spin: it reaches the cap only after minutes, so it is ended by its
    # runnable threads (host.RunnableRule).
    "children-spin": """
import os
while True:
    try:
        if os.fork() == 0:
            while True:
                pass
    except OSError:
        pass
""",
}
# An honest neighbour for comparison: one process busy for the whole honest run, within the same one-CPU share.
# On a two-CPU host the honest job beside it shares the machine's second CPU with the sandboxes' own start-up work.
BUSY = """
import time
end = time.time() + SECONDS
while time.time() < end:
    pass
"""
BUSY_AFTER_S = 8.0  # how long the busy job runs after the honest one has started: longer than the honest run
LIMITS = Limits(wall_seconds=600, cell_seconds=600, memory_bytes=1 << 30, processes=256, cpus=1.0)


@dataclass(frozen=True)
class Round:
    variant: str
    honest_loop_s: float
    honest_run_s: float
    bomb_outcome: str | None
    bomb_s: float | None


def notebook(folder: Path, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "python3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source)]
    path = folder / "submission.ipynb"
    nbformat.write(nb, str(path))
    return path


def run(folder: Path, source: str, limits: Limits, config: SandboxConfig):  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True)
    job = Job(output_dir=folder / "output", notebook=notebook(folder, source), limits=limits)
    return run_job(job, config, "bwrap"), folder / "output"


def one_round(  # noqa: PLR0913 - one value per command-line option
    tmp: Path, config: SandboxConfig, variant: str, loops: int, unwatched_wall: float, bomb: str, head_start: float
) -> Round:
    honest_source = HONEST.replace("LOOPS", str(loops))
    bomb_result: list[object] = []
    bomb_thread = None
    saved = host.PROCESS_CAP_SUSTAIN_S, host.RUNNABLE_SUSTAIN_S
    if variant != "alone":
        bomb_limits = LIMITS
        if variant.endswith("watch off"):
            host.PROCESS_CAP_SUSTAIN_S = host.RUNNABLE_SUSTAIN_S = float("inf")
            bomb_limits = Limits(**{**LIMITS.__dict__, "wall_seconds": unwatched_wall, "cell_seconds": unwatched_wall})
        source = BOMBS[bomb]
        if variant == "beside a busy job":
            source = BUSY.replace("SECONDS", str(head_start + BUSY_AFTER_S))
        bomb_thread = threading.Thread(
            target=lambda: bomb_result.append(run(tmp / "bomb", source, bomb_limits, config)[0]), daemon=True
        )
        bomb_thread.start()
        time.sleep(head_start)
    try:
        honest, output = run(tmp / "honest", honest_source, LIMITS, config)
        if bomb_thread is not None:
            bomb_thread.join()
    finally:
        host.PROCESS_CAP_SUSTAIN_S, host.RUNNABLE_SUSTAIN_S = saved
    if honest.outcome is not Outcome.OK:
        raise SystemExit(f"the honest notebook ended {honest.outcome}: {honest.message}")
    bomb = bomb_result[0] if bomb_result else None
    return Round(
        variant=variant,
        honest_loop_s=float((output / "seconds").read_text()),
        honest_run_s=honest.duration_s,
        bomb_outcome=str(bomb.outcome) if bomb else None,  # type: ignore[attr-defined]
        bomb_s=bomb.duration_s if bomb else None,  # type: ignore[attr-defined]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the three variants (default 3)")
    parser.add_argument("--loops", type=int, default=20_000_000, help="iterations of the honest loop")
    parser.add_argument("--unwatched-wall", type=float, default=20.0, help="wall clock of the unwatched bomb (s)")
    parser.add_argument("--bomb", choices=sorted(BOMBS), default="every-copy-forks", help="which bomb (see BOMBS)")
    parser.add_argument(
        "--head-start", type=float, default=0.5, help="seconds the bomb runs before the honest job starts (0.5)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    load_at_start = Path("/proc/loadavg").read_text().split()[0]
    variants = ["alone", "beside a busy job", "beside a bomb", "beside a bomb, watch off"]
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="bench-bomb-") as tmp:
        config = SandboxConfig(state_dir=Path(tmp) / "state", runtime_python={"cpu": ROOT / ".venv" / "bin" / "python"})
        for n in range(args.rounds):
            for variant in variants:
                result = one_round(
                    Path(tmp) / f"{n}-{variants.index(variant)}",
                    config,
                    variant,
                    args.loops,
                    args.unwatched_wall,
                    args.bomb,
                    args.head_start,
                )
                rounds.append(result)
                print(json.dumps(asdict(result)), flush=True)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    load = Path("/proc/loadavg").read_text().split()[0]
    alone = statistics.median(r.honest_loop_s for r in rounds if r.variant == "alone")
    alone_run = statistics.median(r.honest_run_s for r in rounds if r.variant == "alone")
    lines = [
        f"Measured by `bench/fork_bomb.py --rounds {args.rounds} --bomb {args.bomb} --head-start {args.head_start:g}` "
        f"on `{uname}`; {cpu}; load average (1 min) {load_at_start} at the start, {load} at the end.",
        "",
        "| variant | honest loop, median (s) | vs alone | honest run, median (s) | vs alone | bomb ended | "
        "bomb's time, median (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for variant in variants:
        mine = [r for r in rounds if r.variant == variant]
        loop = statistics.median(r.honest_loop_s for r in mine)
        whole = statistics.median(r.honest_run_s for r in mine)
        ends = sorted({r.bomb_outcome for r in mine if r.bomb_outcome})
        bomb_s = [r.bomb_s for r in mine if r.bomb_s is not None]
        lines.append(
            f"| {variant} | {loop:.2f} | {loop / alone:.2f} | {whole:.2f} | {whole / alone_run:.2f} | "
            f"{', '.join(ends) or '-'} | {statistics.median(bomb_s) if bomb_s else 0:.1f} |"
        )
    print("\n" + "\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"rounds": [asdict(r) for r in rounds], "table": lines}, indent=2))


if __name__ == "__main__":
    main()
