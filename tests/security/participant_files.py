"""Build participant files as the ecosystem's tools save them (Jupyter front ends, pandas, np.save, Keras 3)."""

from __future__ import annotations

import io
import json
import struct
import uuid
import zipfile
from typing import Any

import numpy as np
from hypothesis import strategies as st
from numpy.lib import format as npy_format

from sandbox.errors import UserFacingError

MiB = 1024 * 1024
FRONT_ENDS = ("jupyterlab", "colab", "vscode", "pycharm", "papermill", "older_minor")
TIMESTAMP = "2025-03-01T10:00:00.123456Z"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": "3.12.1",
}


def assert_sentence(error: UserFacingError) -> None:
    """The refusal is a sentence a person can read: non-empty, short, ending with a full stop."""
    message = error.message
    assert isinstance(message, str) and message.strip(), error
    assert message.rstrip().endswith("."), message
    assert len(message) < 600, (len(message), message[:300])


# Lines of cell source: any text (NUL and astral characters included; lone surrogates are not text).
source_lines = st.lists(st.text(max_size=30).map(lambda s: s.replace("\r", "").replace("\n", "")), max_size=5).map(
    lambda lines: [line + "\n" for line in lines[:-1]] + lines[-1:]
)
code_lines = st.tuples(st.sampled_from(["x = 1", "import numpy as np", "print('hi')"]), source_lines).map(
    lambda pair: [pair[0] + "\n", *pair[1]]
)
cells_spec = (
    st.lists(st.tuples(st.sampled_from(["code", "markdown", "raw"]), source_lines), max_size=5)
    .flatmap(lambda cells: st.tuples(st.just(cells), code_lines, st.integers(0, len(cells))))
    .map(lambda t: [*t[0][: t[2]], ("code", t[1]), *t[0][t[2] :]])
)


def _outputs(count: int) -> list[dict[str, Any]]:
    return [
        {"name": "stdout", "output_type": "stream", "text": ["hi\n", "there"]},
        {"output_type": "stream", "name": "stderr", "text": "warn\n", "metadata": {}},  # some tools add metadata
        {"data": {"text/plain": ["1"]}, "execution_count": count, "metadata": {}, "output_type": "execute_result"},
        {
            "data": {"image/png": "iVBORw0KGgo=", "text/plain": ["<Figure>"]},
            "metadata": {},
            "output_type": "display_data",
        },
        {"ename": "ValueError", "evalue": "x", "output_type": "error", "traceback": ["\x1b[31mValueError\x1b[0m"]},
    ]


def front_end_notebook(front_end: str, cells: list[tuple[str, list[str]]], minor: int = 5) -> dict[str, Any]:
    """Return the JSON document `front_end` saves for these cells (type, source lines), outputs included."""
    nb_metadata: dict[str, Any] = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)}
    nbformat_minor = 5
    if front_end == "colab":
        nbformat_minor = 0
        nb_metadata = {
            "colab": {"provenance": [], "gpuType": "T4", "name": "solution.ipynb"},
            "kernelspec": {"name": "python3", "display_name": "Python 3"},
            "language_info": {"name": "python"},
            "accelerator": "GPU",
        }
    elif front_end == "vscode":
        nb_metadata["vscode"] = {"interpreter": {"hash": "a" * 64}}
        nb_metadata["orig_nbformat"] = 4
        nbformat_minor = 2
    elif front_end == "pycharm":
        nbformat_minor = 0
        nb_metadata["pycharm"] = {"stem_cell": {"cell_type": "raw", "source": [], "metadata": {"collapsed": False}}}
    elif front_end == "papermill":
        nbformat_minor = 4
        nb_metadata["papermill"] = {
            "default_parameters": {},
            "duration": 2.5,
            "end_time": TIMESTAMP,
            "environment_variables": {},
            "exception": None,
            "input_path": "solution.ipynb",
            "output_path": "out.ipynb",
            "parameters": {"alpha": 0.1},
            "start_time": TIMESTAMP,
            "version": "2.6.0",
        }
    elif front_end == "older_minor":
        nbformat_minor = minor
    document: dict[str, Any] = {"cells": [], "metadata": nb_metadata, "nbformat": 4, "nbformat_minor": nbformat_minor}
    for number, (cell_type, lines) in enumerate(cells, start=1):
        cell: dict[str, Any] = {"cell_type": cell_type, "metadata": {}, "source": lines}
        if front_end == "jupyterlab":
            cell["id"] = uuid.UUID(int=number).hex[:8]
            if cell_type == "code":
                cell["metadata"] = {
                    "execution": {f"iopub.{k}": TIMESTAMP for k in ("execute_input", "status.busy", "status.idle")}
                    | {"shell.execute_reply": TIMESTAMP},
                    "tags": [],
                }
        elif front_end == "colab":
            cell["source"] = "".join(lines)  # Colab writes lists; a plain string must work too
            cell["metadata"] = {"id": f"cell{number}"}
            if cell_type == "code":
                cell["metadata"] |= {
                    "colab": {"base_uri": "https://localhost:8080/"},
                    "outputId": str(uuid.UUID(int=number)),
                }
        elif front_end == "vscode":
            cell["id"] = uuid.UUID(int=number).hex
        elif front_end == "pycharm":
            cell["metadata"] = {"pycharm": {"name": "#%%\n"}, "collapsed": False}
        elif front_end == "papermill":
            cell["metadata"] = {
                "papermill": {
                    "duration": 0.01,
                    "end_time": TIMESTAMP,
                    "exception": False,
                    "start_time": TIMESTAMP,
                    "status": "completed",
                },
                "execution": {"iopub.execute_input": TIMESTAMP, "shell.execute_reply": TIMESTAMP},
                "tags": ["parameters"] if number == 1 else ["injected-parameters"] if number == 2 else [],
            }
        if cell_type == "code":
            cell["execution_count"] = number
            cell["outputs"] = _outputs(number)
        document["cells"].append(cell)
    return document


def encode_notebook(document: dict[str, Any], *, bom: bool, crlf: bool, indent: int | None, ascii_only: bool) -> bytes:
    """Serialize as an editor might: indented or not, escaped or raw UTF-8, CRLF between lines, a byte-order mark."""
    text = json.dumps(document, indent=indent, ensure_ascii=ascii_only)
    if crlf:
        text = text.replace("\n", "\r\n")  # only JSON's own line breaks: those inside strings are escaped as \n
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def npy_file(header: str, data: bytes = b"", version: tuple[int, int] = (1, 0)) -> bytes:
    """Return an .npy file with this literal header text, as a hand-made (or hostile) writer would produce it."""
    encoded = header.encode("utf8")  # numpy decodes versions 1 and 2 as latin-1: any bytes pass
    length = struct.pack("<H" if version == (1, 0) else "<I", len(encoded))
    return npy_format.magic(*version) + length + encoded + data


def npy_header(shape: tuple[int, ...], descr: str = "<f8", fortran: bool = False) -> str:
    return repr({"descr": descr, "fortran_order": fortran, "shape": shape})


def saved(array: np.ndarray, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **kwargs)
    return buffer.getvalue()


def keras_like_zip(
    weights: bytes, compression: int = zipfile.ZIP_DEFLATED, extra: dict[str, bytes] | None = None
) -> bytes:
    """Return a zip laid out as Keras 3's model.save writes a .keras file."""
    buffer = io.BytesIO()
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "layers": []}}
    metadata = {"keras_version": "3.15.1", "date_saved": "2025-03-01@10:00:00"}
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", weights)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def with_declared_size(raw: bytes, entry: str, size: int) -> bytes:
    """Rewrite the uncompressed size the central directory declares for `entry` (no zip64: at most 4 GiB - 1)."""
    data = bytearray(raw)
    position = data.find(b"PK\x01\x02")
    while position != -1:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46 : position + 46 + name_length] == entry.encode():
            struct.pack_into("<L", data, position + 24, size)
            return bytes(data)
        position = data.find(b"PK\x01\x02", position + 4)
    raise AssertionError(f"no entry {entry}")


def central_directory_only(entries: int) -> bytes:
    """Return a zip of `entries` empty one-letter files declared in the central directory, with no file data."""
    record = struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0)
    directory = (record + b"a") * entries
    count = min(entries, 0xFFFF)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), 0, 0)
    return directory + end
