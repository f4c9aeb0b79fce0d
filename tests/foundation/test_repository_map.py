"""The README's map of the repository ("Where things are") matches the tree: what it names exists and the reverse."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.foundation.test_readme import ROOT

# Folders every Django app has by convention: a newcomer finds them without the map.
DJANGO_FOLDERS = {"management", "migrations", "templatetags", "templates", "static"}
APPS = ("sandbox", "exercises", "hackathon", "grading")


def map_rows() -> list[tuple[list[str], str]]:
    """Return the map's rows: the paths of the first column, and the text of the second."""
    section = (ROOT / "README.md").read_text().split("## Where things are", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            rows.append((re.findall(r"`([^`]+)`", cells[0]), cells[1]))
    return rows


def tracked_files() -> list[str]:
    """Return the files git tracks (the tree the map describes), or skip where this is no git checkout."""
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("the repository map is checked against git's list of files, and this is no git checkout")
    return listed.stdout.splitlines()


def named_in_column(text: str) -> list[str]:
    """Return the files and folders a row's text names in backticks (`x.py`, `x/`, `docs/x.md`; not URLs, `/x/`)."""
    names = re.findall(r"`([^`\s]+)`", text)
    return [name for name in names if name.endswith(("/", ".py", ".md")) and not name.startswith("/")]


def test_the_map_has_rows():
    assert len(map_rows()) >= 8, "the 'Where things are' table was not found in the README"


def test_every_path_in_the_first_column_exists():
    missing = [path for paths, _ in map_rows() for path in paths if not (ROOT / path).exists()]
    assert not missing, f"the README's map names paths that do not exist: {missing}"


def test_every_top_level_folder_is_in_the_first_column():
    folders = {name.split("/", 1)[0] for name in tracked_files() if "/" in name and not name.startswith(".")}
    named = {path.rstrip("/").split("/", 1)[0] for paths, _ in map_rows() for path in paths}
    assert folders - named == set(), f"top-level folders the README's map does not name: {sorted(folders - named)}"


def test_every_file_and_folder_a_row_names_exists_under_its_path():
    wrong = []
    for paths, text in map_rows():
        for name in named_in_column(text):
            bare = name.rstrip("/")
            found = (ROOT / bare).exists() or any(
                path.name == Path(bare).name and str(path).endswith(bare)
                for folder in paths
                for path in (ROOT / folder).rglob(Path(bare).name)
            )
            if not found:
                wrong.append(f"{name} (row {', '.join(paths)})")
    assert not wrong, f"the README's map names what is not there: {wrong}"


def test_every_package_of_the_apps_is_named_in_its_row():
    text = {path.rstrip("/"): column for paths, column in map_rows() for path in paths}
    packages = {
        str(Path(name).parent)
        for name in tracked_files()
        if name.endswith("/__init__.py") and name.split("/", 1)[0] in APPS and "/" in str(Path(name).parent)
    }
    unnamed = []
    for package in sorted(packages):
        app, rest = package.split("/", 1)
        if set(rest.split("/")) & DJANGO_FOLDERS or package in text:
            continue
        row = text.get(app, "")
        if f"`{rest}/`" not in row and f"`{package}/`" not in row:
            unnamed.append(package)
    assert not unnamed, f"packages the README's map does not name in their app's row: {unnamed}"
