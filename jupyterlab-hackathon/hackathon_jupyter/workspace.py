"""The person's exercise folders: fetch a released exercise without losing their work, and tell which one a notebook is.

Each fetched folder `hackathon/<event>/<exercise>/` holds `.hackathon.json`: the event, the exercise and the hash of
every file as released. A file whose hash still matches is the release's and may be updated; any other is the
person's, and a newer release lands beside it instead.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from hackathon_jupyter.platform import PlatformError

MARKER = ".hackathon.json"
FOLDER = "hackathon"
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
MAX_FILES = 10_000


@dataclass(frozen=True)
class FetchResult:
    folder: Path
    notebook: Path | None
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)  # (the person's file, where the release went)

    def message(self) -> str:
        """Say what the fetch did, naming every file of the person's that it left alone."""
        parts = [f"Fetched into {self.folder.name}/: {len(self.written)} file(s) written"]
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} already up to date")
        text = ", ".join(parts) + "."
        for mine, released in self.kept:
            text += f" You changed {mine}: it is kept as it is, and the release is beside it as {released}."
        return text


def check_slug(value: str, what: str) -> str:
    if not SLUG.match(value or ""):
        raise PlatformError(f"{what} {value!r} is not a valid name: use the slug shown in the Hackathon panel.", 400)
    return value


def exercise_folder(root: Path, event: str, exercise: str) -> Path:
    return root / FOLDER / check_slug(event, "The event") / check_slug(exercise, "The exercise")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _members(payload: bytes) -> list[tuple[PurePosixPath, bytes | None]]:
    """Read the release zip (`<slug>/...`) without its top folder, skipping any path that would leave the folder.

    A folder comes back with None for its content.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
    except zipfile.BadZipFile:
        raise PlatformError("The site sent an exercise that is not a zip. Try again, or tell a tutor.", 502) from None
    files = []
    for info in archive.infolist()[:MAX_FILES]:
        name = PurePosixPath(info.filename)
        inner = PurePosixPath(*name.parts[1:]) if len(name.parts) > 1 else name
        if name.is_absolute() or ".." in name.parts or not inner.parts:
            continue
        files.append((inner, None if info.is_dir() else archive.read(info)))
    return files


def _beside(path: Path, data: bytes) -> Path:
    """Return where a release goes beside the person's changed file: name.released.ext, then -2, -3, ..."""
    for number in range(1, 1000):
        tail = "" if number == 1 else f"-{number}"
        candidate = path.with_name(f"{path.stem}.released{tail}{path.suffix}")
        if not candidate.exists() or candidate.read_bytes() == data:
            return candidate
    raise PlatformError(f"Too many released copies beside {path.name}: delete some and fetch again.", 400)


def read_marker(folder: Path) -> dict[str, Any]:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return marker if isinstance(marker, dict) else {}


def unpack(payload: bytes, folder: Path, *, event: str, exercise: str) -> FetchResult:
    """Put the release into the folder; a file the person changed is kept and the release is written beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    released: dict[str, str] = read_marker(folder).get("files", {})
    written: list[str] = []
    unchanged: list[str] = []
    kept: list[tuple[str, str]] = []
    for inner, data in _members(payload):
        target = folder.joinpath(*inner.parts)
        key = inner.as_posix()
        if data is None:  # a folder, such as output/
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_file():
            current = target.read_bytes()
            if current == data:
                unchanged.append(key)
                released[key] = _digest(data)
                continue
            if released.get(key) != _digest(current):
                beside = _beside(target, data)
                beside.write_bytes(data)
                kept.append((key, beside.relative_to(folder).as_posix()))
                continue
        target.write_bytes(data)
        released[key] = _digest(data)
        written.append(key)
    marker = {"event": event, "exercise": exercise, "files": released}
    (folder / MARKER).write_text(json.dumps(marker, indent=1, sort_keys=True), encoding="utf-8")
    notebook = folder / f"{exercise}.ipynb"
    return FetchResult(
        folder=folder,
        notebook=notebook if notebook.is_file() else next(iter(sorted(folder.glob("*.ipynb"))), None),
        written=written,
        unchanged=unchanged,
        kept=kept,
    )


def exercise_of(notebook: Path, root: Path) -> tuple[str, str]:
    """Return (event, exercise) of a notebook inside a fetched exercise's folder, or say how to get one."""
    for folder in [notebook.parent, *notebook.parent.parents]:
        marker = read_marker(folder)
        if marker.get("event") and marker.get("exercise"):
            return str(marker["event"]), str(marker["exercise"])
        if folder == root:
            break
    raise PlatformError(
        f"{notebook.name} is not in a fetched exercise's folder (hackathon/<event>/<exercise>/). Fetch the exercise "
        "from the Hackathon panel and work in its notebook, or copy this one into that folder.",
        400,
    )
