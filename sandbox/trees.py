"""Remove the folders a job wrote, however deeply it nested them: shutil.rmtree recurses once per level."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# GNU rm walks with file descriptors, so neither Python's recursion limit nor PATH_MAX bounds the depth it removes.
RM_TIMEOUT_S = 600


def remove_tree(path: Path | str) -> None:
    """Remove `path` and everything under it, ignoring what is gone already; never raise for a tree's depth.

    A job can nest a few thousand folders in its output in a second; shutil.rmtree then raises RecursionError
    (which ignore_errors does not cover), so the rest is left to `rm -rf`, which has no such limit.
    """
    try:
        shutil.rmtree(path, ignore_errors=True)
    except RecursionError:
        subprocess.run(
            ["rm", "-rf", "--", str(path)],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=RM_TIMEOUT_S,
        )
