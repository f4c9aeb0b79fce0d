"""The release: participants get the notebook without solutions or hidden tests, and the public data only."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import nbformat
import pytest

from exercises.bundles import build_data, builtin_bundle
from exercises.errors import InvalidBundle
from exercises.release import student_notebook, student_zip

HIDDEN = {
    "breast-cancer": ("LogisticRegression", 'predictions["score"].nunique() > 1'),
    "met-anomaly": ("GaussianNoise(0.1)", "assert decoder.predict(codes, verbose=0).shape == (10, n_features)"),
}


@pytest.mark.parametrize("slug", sorted(HIDDEN))
def test_the_released_notebook_has_no_solution_and_no_hidden_tests(slug: str) -> None:
    source = builtin_bundle(slug).source_notebook
    solution, hidden_test = HIDDEN[slug]
    original = "\n".join(cell.source for cell in nbformat.read(source, as_version=4).cells)
    assert solution in original and hidden_test in original  # the test looks for something really there
    released = "\n".join(cell.source for cell in student_notebook(source).cells)
    assert solution not in released and hidden_test not in released
    # the markers, the placeholders and the visible checks of every exercise: test_builtin_bundles.py


def test_the_released_notebook_has_no_outputs(tmp_path: Path) -> None:
    notebook = nbformat.read(builtin_bundle("breast-cancer").source_notebook, as_version=4)
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="secret training log")]
    notebook.cells[1].execution_count = 3
    source = tmp_path / "source.ipynb"
    nbformat.write(notebook, source)
    released = student_notebook(source)
    assert all(cell.get("outputs", []) == [] for cell in released.cells)
    assert "secret training log" not in nbformat.writes(released)


def test_a_solution_marker_outside_a_solution_cell_is_refused(tmp_path: Path) -> None:
    notebook = nbformat.read(builtin_bundle("breast-cancer").source_notebook, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"))
    source = tmp_path / "source.ipynb"
    nbformat.write(notebook, source)
    with pytest.raises(InvalidBundle, match="cannot be released|still holds"):
        student_notebook(source)


def test_the_student_zip_holds_the_released_notebook_and_public_data_only(tmp_path: Path) -> None:
    bundle = builtin_bundle("breast-cancer")
    build_data(bundle, tmp_path / "public", tmp_path / "hidden", 5)
    data = student_zip(bundle, tmp_path / "public" / "data")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
        notebook = archive.read("breast-cancer/breast-cancer.ipynb").decode()
        public_test = archive.read("breast-cancer/data/test.csv")
    assert names == [
        "breast-cancer/breast-cancer.ipynb",
        "breast-cancer/data/test.csv",
        "breast-cancer/data/train.csv",
        "breast-cancer/output/",
    ]
    assert "LogisticRegression" not in notebook
    assert public_test == (tmp_path / "public" / "data" / "test.csv").read_bytes()
    assert public_test != (tmp_path / "hidden" / "data" / "test.csv").read_bytes()
    assert student_zip(bundle, tmp_path / "public" / "data") == data  # the same bytes every time
