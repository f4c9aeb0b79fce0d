"""Unpack an uploaded exercise bundle zip safely: no path escapes, no links, bounded size and ratio."""

from __future__ import annotations

import re
import shutil
import stat
import tomllib
import zipfile
from pathlib import Path, PurePosixPath

from exercises.bundles import Bundle, load_bundle
from exercises.errors import InvalidBundle

MiB = 1024 * 1024
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CHUNK = 1 * MiB


def _safe_parts(name: str) -> tuple[str, ...]:
    """Return the path parts of a zip entry name, or raise if it could land outside the folder."""
    if not name or "\\" in name or "\0" in name:
        raise InvalidBundle(f"The zip holds an entry with an unusable name ({name[:80]!r}); zip the folder again.")
    path = PurePosixPath(name)
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name):
        raise InvalidBundle(f"The zip entry {name[:80]!r} has an absolute path; zip the folder with relative paths.")
    parts = tuple(part for part in path.parts if part not in ("", "."))
    if ".." in parts:
        raise InvalidBundle(f"The zip entry {name[:80]!r} points outside the folder (..); remove it.")
    return parts


def _check_entries(entries: list[zipfile.ZipInfo], *, max_entries: int, max_total_bytes: int, max_ratio: float) -> None:
    if len(entries) > max_entries:
        raise InvalidBundle(f"The zip holds {len(entries)} entries, more than the {max_entries} allowed.")
    total = 0
    seen: set[tuple[str, ...]] = set()
    for info in entries:
        parts = _safe_parts(info.filename)
        if parts in seen:
            raise InvalidBundle(f"The zip holds {info.filename!r} twice; zip the folder again.")
        seen.add(parts)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise InvalidBundle(f"The zip entry {info.filename!r} is a symbolic link; put the file itself in the zip.")
        # zip tools that record no file type leave those bits 0: such an entry is a plain file
        if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise InvalidBundle(f"The zip entry {info.filename!r} is not a plain file or folder.")
        if info.flag_bits & 0x1:
            raise InvalidBundle(f"The zip entry {info.filename!r} is encrypted; upload an unencrypted zip.")
        total += info.file_size
        if total > max_total_bytes:
            raise InvalidBundle(
                f"The zip unpacks to more than {max_total_bytes / MiB:.0f} MiB; make the bundle smaller."
            )
        if info.file_size > max_ratio * max(info.compress_size, 1):
            raise InvalidBundle(
                f"The zip entry {info.filename!r} expands {info.file_size / max(info.compress_size, 1):.0f} times, "
                f"more than the {max_ratio:.0f} allowed; it looks like a zip bomb."
            )


def _bundle_layout(entries: list[zipfile.ZipInfo]) -> tuple[str, ...]:
    """Return the folder prefix holding manifest.toml: () for files at the root, (name,) for one top folder."""
    if any(_safe_parts(info.filename) == ("manifest.toml",) for info in entries):
        return ()
    tops = {_safe_parts(info.filename)[0] for info in entries}
    if len(tops) == 1:
        top = next(iter(tops))
        if any(_safe_parts(info.filename) == (top, "manifest.toml") for info in entries):
            return (top,)
    raise InvalidBundle("The zip holds no manifest.toml at its root or in one top folder; zip the exercise folder.")


def extract_bundle_zip(
    zip_path: Path,
    dest: Path,
    *,
    max_entries: int = 1000,
    max_total_bytes: int = 512 * MiB,
    max_ratio: float = 100.0,
) -> Bundle:
    """Unpack the bundle zip into `dest/<slug>/` after checking every entry; return the validated bundle.

    Checked before anything is written: entry count, names (no absolute paths, no `..`), kinds (no
    symbolic links or devices, from the zip's Unix attributes), declared total size and each
    entry's compression ratio. While writing, the bytes actually produced are counted too, so a
    zip whose headers lie about sizes is stopped at the same limits.
    """
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as error:
        raise InvalidBundle(f"The upload is not a readable zip ({error}); zip the exercise folder again.") from None
    with archive:
        entries = archive.infolist()
        _check_entries(entries, max_entries=max_entries, max_total_bytes=max_total_bytes, max_ratio=max_ratio)
        prefix = _bundle_layout(entries)
        manifest_info = archive.getinfo("/".join((*prefix, "manifest.toml")))
        try:
            slug = tomllib.loads(archive.read(manifest_info).decode("utf-8")).get("slug")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, zipfile.BadZipFile) as error:
            raise InvalidBundle(f"The manifest.toml in the zip cannot be read ({error}); fix it.") from None
        except RecursionError:  # tomllib recurses per nested array or table: thousands of brackets exhaust it
            raise InvalidBundle("The manifest.toml in the zip nests too deeply to be a manifest; fix it.") from None
        if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
            raise InvalidBundle("The manifest's slug must be lower-case words joined by hyphens, like breast-cancer.")
        root = Path(dest) / slug
        if root.exists():
            raise InvalidBundle(f"An exercise folder {slug} already exists where the zip was to be unpacked.")
        root.mkdir(parents=True)
        try:
            _extract(archive, entries, prefix, root, max_total_bytes)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)  # leave nothing half-unpacked behind
            raise
    return load_bundle(root)


def _extract(
    archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], prefix: tuple[str, ...], root: Path, max_total_bytes: int
) -> None:
    """Write the entries under `root`, counting the bytes really produced against the size limit."""
    too_big = f"The zip unpacks to more than {max_total_bytes / MiB:.0f} MiB; make the bundle smaller."
    written = 0
    for info in entries:
        parts = _safe_parts(info.filename)[len(prefix) :]
        if not parts:
            continue
        target = root.joinpath(*parts)
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with archive.open(info) as source, target.open("xb") as sink:
                while chunk := source.read(CHUNK):
                    written += len(chunk)
                    if written > max_total_bytes:
                        raise InvalidBundle(too_big)
                    sink.write(chunk)
        except (zipfile.BadZipFile, NotImplementedError, OSError) as error:
            raise InvalidBundle(f"The zip entry {info.filename!r} cannot be unpacked ({error}).") from None
