"""Turn an exercise's nbgrader source notebook into what participants get: the exercise (no solutions, no hidden
tests) to download, and after the deadline the reference solution (still no hidden tests)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import nbformat

from exercises.bundles import Bundle
from exercises.errors import InvalidBundle

# Markers that must never reach a participant; checked after nbgrader's own preprocessors ran.
SECRET_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # a fixed timestamp: the same bundle always gives the same bytes


def student_notebook(source_path: Path) -> nbformat.NotebookNode:
    """Return the released notebook: solutions replaced by nbgrader's stub, hidden tests and outputs removed."""
    # nbgrader takes seconds to import: load it when a notebook is released, not with every page of the site.
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions

    notebook = nbformat.read(Path(source_path), as_version=4)
    resources: dict = {}
    try:
        for preprocessor in (ClearSolutions(), ClearHiddenTests(), ClearOutput()):
            notebook, resources = preprocessor.preprocess(notebook, resources)
    except RuntimeError as error:  # nbgrader's complaint about markers outside solution cells
        raise InvalidBundle(f"The source notebook cannot be released: {error}") from None
    for index, cell in enumerate(notebook.cells):
        if any(marker in cell.source for marker in SECRET_MARKERS):
            raise InvalidBundle(
                f"Cell {index} of the source notebook still holds a solution or hidden-test marker after "
                "release; give that cell nbgrader metadata (solution or grade) or remove the marker."
            )
    return notebook


SOLUTION_MARKER_LINES = ("### BEGIN SOLUTION", "### END SOLUTION")


def solution_notebook(source_path: Path) -> nbformat.NotebookNode:
    """Return the reference solution as participants may read it after the deadline.

    The solutions stay, without their nbgrader marker lines; hidden tests and outputs are removed, as in the
    released exercise. Raise InvalidBundle when a secret marker is left over.
    """
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput

    notebook = nbformat.read(Path(source_path), as_version=4)
    resources: dict = {}
    try:
        for preprocessor in (ClearHiddenTests(), ClearOutput()):
            notebook, resources = preprocessor.preprocess(notebook, resources)
    except RuntimeError as error:
        raise InvalidBundle(f"The source notebook's solution cannot be released: {error}") from None
    for index, cell in enumerate(notebook.cells):
        lines = cell.source.splitlines()
        cell.source = "\n".join(line for line in lines if line.strip() not in SOLUTION_MARKER_LINES)
        if any(marker in cell.source for marker in SECRET_MARKERS):
            raise InvalidBundle(
                f"Cell {index} of the source notebook still holds a solution or hidden-test marker; "
                "give that cell nbgrader metadata (solution or grade) or remove the marker."
            )
    return notebook


def student_zip(bundle: Bundle, public_data_dir: Path) -> bytes:
    """Return a zip of the released notebook and the public data, laid out as the notebook expects.

    `public_data_dir` is the `data/` folder that the bundle's build() wrote on the public side.
    The zip holds `<slug>/<slug>.ipynb`, `<slug>/data/...` and an empty `<slug>/output/`.
    """
    slug = bundle.slug
    notebook = nbformat.writes(student_notebook(bundle.source_notebook))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o40755 if name.endswith("/") else 0o100644) << 16
            archive.writestr(info, data)

        add(f"{slug}/{slug}.ipynb", notebook.encode("utf-8"))
        add(f"{slug}/output/", b"")
        data_dir = Path(public_data_dir)
        for path in sorted(data_dir.rglob("*")):
            if path.is_file() and not path.is_symlink():
                add(f"{slug}/data/{path.relative_to(data_dir).as_posix()}", path.read_bytes())
    return buffer.getvalue()
