"""Read an uploaded notebook as untrusted input: size, JSON, nbformat schema, then strip its outputs."""

from __future__ import annotations

import json

import nbformat
from nbformat.validator import ValidationError

from grading.errors import NotebookInvalid


def parse_uploaded_notebook(raw: bytes, *, max_bytes: int) -> nbformat.NotebookNode:
    """Return the notebook with outputs cleared, or raise NotebookInvalid saying what is wrong."""
    if len(raw) > max_bytes:
        raise NotebookInvalid(
            f"The notebook is {len(raw) / 1e6:.1f} MB, over the limit of {max_bytes / 1e6:.0f} MB. "
            "Clear its outputs (Kernel > Restart & Clear Output) and upload it again."
        )
    if not raw.strip():
        raise NotebookInvalid("The file is empty. Upload the .ipynb file saved from Jupyter.")
    try:
        text = raw.decode("utf-8")
        notebook = nbformat.reads(text, as_version=4)
    except UnicodeDecodeError:
        raise NotebookInvalid("The file is not text. Upload the .ipynb file saved from Jupyter.") from None
    except (json.JSONDecodeError, nbformat.reader.NotJSONError):
        raise NotebookInvalid("The file is not a Jupyter notebook (it is not JSON). Upload the .ipynb file.") from None
    except Exception as error:  # nbformat raises several types for unreadable versions and shapes
        raise NotebookInvalid(f"The notebook cannot be read ({error}). Save it again from Jupyter.") from None
    try:
        nbformat.validate(notebook)
    except ValidationError as error:
        raise NotebookInvalid(
            f"The notebook does not follow the Jupyter format: {error.message}. Save it again from Jupyter."
        ) from None
    if not any(cell.cell_type == "code" and cell.source.strip() for cell in notebook.cells):
        raise NotebookInvalid("The notebook has no code to run. Upload the notebook with your solution.")
    return strip_outputs(notebook)


def strip_outputs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Clear every output and execution count: stored submissions hold code, not results."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.get("metadata", {}).pop("execution", None)
    return notebook
