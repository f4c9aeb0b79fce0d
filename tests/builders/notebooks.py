"""Builders of participants' notebooks: cells that run in a second on breast-cancer, and .ipynb files made of cells.

Plain Python and nbformat, no Django: the browser tests' seeding script (tests/e2e/site_data.py) imports it too.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

# The pieces of a breast-cancer notebook: read the test rows, write a score per id.
READ_TEST_ROWS = """
import csv
with open("data/test.csv") as f:
    rows = list(csv.DictReader(f))
"""
WRITE_CONSTANT_SCORES = """
with open("output/predictions.csv", "w") as f:
    f.write("id,score\\n" + "".join(f"{r['id']},0.5\\n" for r in rows))
"""
WRITE_FEATURE_SCORES = """
# Malignant tumours (label 1 in this exercise) have larger nuclei: the mean radius alone ranks them well.
with open("output/predictions.csv", "w") as f:
    f.write("id,score\\n" + "".join(f"{r['id']},{float(r['mean_radius'])}\\n" for r in rows))
"""
# One cell each: a constant score (ROC AUC 0.5), or the mean radius (about 0.9).
CONSTANT_SCORES = READ_TEST_ROWS + WRITE_CONSTANT_SCORES
FEATURE_SCORES = READ_TEST_ROWS + WRITE_FEATURE_SCORES


def notebook_text(*sources: str, kernel: str = "python3", strip: bool = False) -> str:
    """Return an .ipynb document with one code cell per source (stripped of surrounding blank lines if asked)."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source.strip() if strip else source) for source in sources]
    return nbformat.writes(notebook)


def notebook_bytes(*sources: str, kernel: str = "python3") -> bytes:
    """Return an .ipynb file with one code cell per source, as bytes to upload."""
    return notebook_text(*sources, kernel=kernel).encode()


def write_notebook(path: Path, *sources: str, kernel: str = "python3") -> Path:
    """Write a notebook with one code cell per source, claiming the named kernel; return its path."""
    path.write_text(notebook_text(*sources, kernel=kernel))
    return path
