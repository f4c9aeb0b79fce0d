"""Remove the folders a job wrote, however deeply it nested them: shutil.rmtree recurses once per level."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

# GNU rm walks with file descriptors, so neither Python's recursion limit nor PATH_MAX bounds the depth it removes.
RM_TIMEOUT_S = 600


def remove_tree(path: Path | str) -> bool:
    """Remove `path` and everything under it, ignoring what is gone already; return whether `path` is gone.

    Never raise, whatever the tree's depth or modes. A job can nest a few thousand folders in its output in a
    second; shutil.rmtree then raises RecursionError (which ignore_errors does not cover), so the rest is left to
    `rm -rf`, which has no such limit. When something stays, the folders in it that this process owns are given
    back their owner's rwx (a job running as this uid may have chmodded them 0500) and the removal is tried once
    more; what other uids own and made unwritable stays, and False says so (the caller logs it).
    """
    _remove(path)
    if not os.path.lexists(path):
        return True
    with contextlib.suppress(OSError):
        _open_own_folders(Path(path))
        _remove(path)
    return not os.path.lexists(path)


def _remove(path: Path | str) -> None:
    try:
        shutil.rmtree(path, ignore_errors=True)
    except RecursionError:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                ["rm", "-rf", "--", str(path)],
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=RM_TIMEOUT_S,
            )


def _open_own_folders(top: Path) -> None:
    """Add u+rwx to every folder under `top` (itself included) that this process owns; follow no links.

    Each folder is opened before the walk descends into it, so a folder made unreadable (0000, 0300) is walked
    too. os.walk keeps its own stack, so depth does not raise.
    """
    uid = os.geteuid()

    def open_up(folder: Path) -> None:
        with contextlib.suppress(OSError):
            status = folder.lstat()
            if stat.S_ISDIR(status.st_mode) and status.st_uid == uid and status.st_mode & stat.S_IRWXU != stat.S_IRWXU:
                os.chmod(folder, stat.S_IMODE(status.st_mode) | stat.S_IRWXU)

    open_up(top)
    for folder, dirs, _files in os.walk(top, followlinks=False):
        for name in dirs:
            open_up(Path(folder) / name)
