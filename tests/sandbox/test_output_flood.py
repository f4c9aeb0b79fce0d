"""A kernel that prints more than the log can hold ends itself as a flood, keeping the text that fitted."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sandbox.output_guard import FLOOD_EXIT_CODE
from sandbox.runner import guard_code

ROOT = Path(__file__).resolve().parents[2]

# A stand-in for ipykernel's OutStream: a Python stream class whose instances IPython re-assigns `write` on.
PROGRAM = """
import io, os, sys
class Stream(io.TextIOBase):
    def __init__(self, fd):
        self.fd = fd
    def write(self, text):
        os.write(self.fd, text.encode())
        return len(text)
sys.stdout = Stream(1)
sys.stderr = Stream(2)
SETUP
saved = sys.stdout.write
sys.stdout.write = lambda text: saved(text.upper())  # IPython's per-cell tee does this, then restores
sys.stdout.write("a" * 60)
sys.stdout.write = saved
sys.stderr.write("b" * 30)
sys.stdout.write("c" * 30)
sys.stdout.write("never")
"""


def run_guarded(limit: int) -> subprocess.CompletedProcess[str]:
    program = PROGRAM.replace("SETUP", guard_code(limit))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(program)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def test_printing_past_the_limit_ends_the_kernel_with_the_flood_exit_code() -> None:
    done = run_guarded(100)
    assert done.returncode == FLOOD_EXIT_CODE
    assert done.stdout == "A" * 60 + "c" * 10
    assert done.stderr == "b" * 30
    assert "never" not in done.stdout


def test_printing_within_the_limit_passes_everything_through() -> None:
    done = run_guarded(10_000)
    assert done.returncode == 0
    assert done.stdout == "A" * 60 + "c" * 30 + "never"
