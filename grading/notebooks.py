"""Read an uploaded notebook as untrusted input: accept what Jupyter front ends save, keep only what runs."""

from __future__ import annotations

import json
from typing import Any

import nbformat
from nbformat import v4
from nbformat.validator import ValidationError

from exercises.outputs import OTHER_UNICODE_BOMS
from grading.errors import NotebookInvalid

# A notebook's JSON nests a handful of levels (notebook, cells, cell, metadata, a few levels of metadata);
# Python's json module recurses per level, so a hostile file nesting thousands deep would otherwise end in
# RecursionError. What lies deeper than this is refused before it is parsed.
MAX_JSON_DEPTH = 64
CELL_TYPES = {"code": v4.new_code_cell, "markdown": v4.new_markdown_cell, "raw": v4.new_raw_cell}
# Notebook metadata that tells the kernel how to run; every other key (colab, vscode, papermill, widgets...)
# belongs to the tool that saved the file and is dropped, as the outputs are.
KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info")
SAVE_AGAIN = "Save it again from Jupyter (File > Save Notebook) and upload the .ipynb file."


def prepare_validation() -> None:
    """Build the notebook schema's validator now, once per process (about 0.15 s), not on the first upload.

    Called when the WSGI application loads (hackathon.config.wsgi): every upload is validated as the current
    version 4 (see `_rebuild`), whose validator nbformat then keeps for the process's life.
    """
    nbformat.validate(v4.new_notebook())


def parse_uploaded_notebook(raw: bytes, *, max_bytes: int) -> nbformat.NotebookNode:
    """Return a clean version-4 notebook holding the upload's cells without outputs.

    Accepts what JupyterLab 4, Notebook 7, Colab, VS Code, PyCharm and papermill save: a UTF-8 byte-order
    mark, source as a string or a list of lines, outputs and execution counts (dropped), keys a tool added
    (dropped), cells without ids (given new ones) and older nbformat versions (upgraded by nbformat).

    Raises NotebookInvalid, with a sentence naming the cause and the fix, for what cannot run: a file over
    `max_bytes` (bytes), another text encoding, something that is not JSON or not a notebook, or a notebook
    without code.
    """
    if len(raw) > max_bytes:
        raise NotebookInvalid(
            f"The notebook is {len(raw) / 1e6:.1f} MB, over the limit of {max_bytes / 1e6:.0f} MB. "
            "Clear its outputs (Kernel > Restart & Clear Output) and upload it again."
        )
    document = _read_json(raw)
    if not isinstance(document, dict) or "cells" not in document and "worksheets" not in document:
        raise NotebookInvalid(f"The file is JSON but not a Jupyter notebook (it has no cells). {SAVE_AGAIN}")
    notebook = _rebuild(_as_version_4(document))
    try:
        nbformat.validate(notebook)
    except ValidationError:
        # What a tool wrote into cell metadata or attachments does not follow the schema: the code still
        # runs without it, so drop it rather than refuse.
        _drop_cell_extras(notebook)
        try:
            nbformat.validate(notebook)
        except ValidationError as error:
            raise NotebookInvalid(f"The notebook cannot be repaired ({error.message}). {SAVE_AGAIN}") from None
    try:
        nbformat.writes(notebook).encode("utf-8")
    except UnicodeEncodeError:
        raise NotebookInvalid(
            "The notebook holds text that is not valid Unicode (an unpaired surrogate escape such as \\ud800); "
            f"remove it. {SAVE_AGAIN}"
        ) from None
    if not any(cell.cell_type == "code" and cell.source.strip() for cell in notebook.cells):
        raise NotebookInvalid("The notebook has no code to run. Upload the notebook with your solution.")
    return notebook


def _read_json(raw: bytes) -> Any:
    if not raw.strip():
        raise NotebookInvalid("The file is empty. Upload the .ipynb file saved from Jupyter.")
    for bom, name in OTHER_UNICODE_BOMS:
        if raw.startswith(bom) and raw.decode(name, errors="replace").lstrip("\ufeff \t\r\n").startswith("{"):
            raise NotebookInvalid(f"The notebook is saved as {name} text; save it as UTF-8 and upload it again.")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark before the JSON is what some Windows editors write
    except UnicodeDecodeError:
        raise NotebookInvalid(
            "The file is not text in UTF-8, the encoding Jupyter saves notebooks in; save it as UTF-8 from "
            "Jupyter and upload the .ipynb file."
        ) from None
    if _nesting_depth(text) > MAX_JSON_DEPTH:
        raise NotebookInvalid(f"The file nests its data too deeply to be a notebook. {SAVE_AGAIN}")
    try:
        return json.loads(text)
    except ValueError:
        raise NotebookInvalid("The file is not a Jupyter notebook (it is not JSON). Upload the .ipynb file.") from None


def _nesting_depth(text: str) -> int:
    """Return how deep brackets nest in JSON text, ignoring those inside strings; linear time."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _as_version_4(document: dict[str, Any]) -> dict[str, Any]:
    """Return the document in nbformat 4; older major versions are converted by nbformat itself."""
    major = document.get("nbformat", 4)
    if not isinstance(major, int) or isinstance(major, bool):
        raise NotebookInvalid(f"The notebook's format version {_quoted(major)} is not a number. {SAVE_AGAIN}")
    if major == 4:
        return document
    if major > 4:
        raise NotebookInvalid(
            f"The notebook uses format version {_quoted(major)}, newer than this platform reads (4); save it as a "
            "version-4 notebook (the format JupyterLab 4 and Notebook 7 save)."
        )
    try:
        converted = nbformat.convert(nbformat.from_dict(document), 4)
    except Exception as error:  # nbformat's converters raise many types on malformed old documents
        raise NotebookInvalid(
            f"The notebook uses the old format version {_quoted(major)} and cannot be converted "
            f"({type(error).__name__}); "
            "open it in JupyterLab and save it again, which upgrades it."
        ) from None
    return dict(converted)


def _quoted(value: Any, limit: int = 40) -> str:
    """Return a short quotation of a value from the file for a message: a hostile file can hold megabytes."""
    text = repr(value) if not isinstance(value, int) else str(value) if value.bit_length() < 200 else "(huge)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _rebuild(document: dict[str, Any]) -> nbformat.NotebookNode:
    """Build a fresh notebook from the parts that run: each cell's type, source and metadata."""
    cells = document.get("cells")
    if not isinstance(cells, list):
        raise NotebookInvalid(f"The notebook cannot be read: its cells are not a list. {SAVE_AGAIN}")
    notebook = v4.new_notebook()
    metadata = document.get("metadata")
    if isinstance(metadata, dict):
        notebook.metadata.update({k: metadata[k] for k in KEPT_NOTEBOOK_METADATA if isinstance(metadata.get(k), dict)})
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise NotebookInvalid(f"Cell {number} of the notebook is not a cell. {SAVE_AGAIN}")
        cell_type = cell.get("cell_type")
        make = CELL_TYPES.get(cell_type) if isinstance(cell_type, str) else None
        if make is None:
            raise NotebookInvalid(
                f"Cell {number} has the unknown type {str(cell.get('cell_type'))[:40]!r}; "
                "change it to Code or Markdown and save again."
            )
        new = make(source=_source_text(cell.get("source", ""), number))
        cell_metadata = cell.get("metadata")
        if isinstance(cell_metadata, dict):
            cell_metadata = {k: v for k, v in cell_metadata.items() if k != "execution"}
            new.metadata.update(cell_metadata)
        if cell.get("cell_type") == "markdown" and isinstance(cell.get("attachments"), dict):
            new.attachments = cell["attachments"]
        notebook.cells.append(new)
    return notebook


def _drop_cell_extras(notebook: nbformat.NotebookNode) -> None:
    for cell in notebook.cells:
        cell.metadata = nbformat.NotebookNode()
        cell.pop("attachments", None)


def _source_text(source: Any, number: int) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    raise NotebookInvalid(f"The source of cell {number} is not text. {SAVE_AGAIN}")


def strip_outputs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Clear every output and execution count: stored submissions hold code, not results."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.get("metadata", {}).pop("execution", None)
    return notebook
