"""Participant files as Jupyter, pandas, np.save and Keras write them are read; the rest is refused with a sentence."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import pickle
import tempfile
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from exercises.errors import InvalidPredictions
from exercises.outputs import (
    MAX_MODEL_ENTRIES,
    check_keras_archive,
    copy_untrusted_file,
    parse_npy,
    parse_scores_csv,
    read_masks_npy,
)
from grading.errors import NotebookInvalid
from grading.notebooks import MAX_JSON_DEPTH, parse_uploaded_notebook
from tests.security.participant_files import (
    FRONT_ENDS,
    MiB,
    assert_sentence,
    cells_spec,
    central_directory_only,
    encode_notebook,
    front_end_notebook,
    json_values,
    keras_like_zip,
    npy_file,
    npy_header,
    saved,
    with_declared_size,
)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOTEBOOK_LIMIT = 10 * MiB


def _refusal(error_type: type[Exception], call: Callable[[], Any]) -> Exception:
    """Run `call`, which must raise `error_type` (and nothing else) with a sentence."""
    with pytest.raises(error_type) as caught:
        call()
    assert_sentence(caught.value)
    return caught.value


def _accepted_or_refused(error_type: type[Exception], call: Callable[[], Any]) -> Any:
    """Run `call` on odd input: a result, or `error_type` with a sentence; any other exception fails the test."""
    try:
        return call()
    except error_type as error:
        assert_sentence(error)
        return None


def _peak_bytes(call: Callable[[], Any]) -> int:
    """Return the peak bytes the call allocates, once its one-time costs (lazy imports, caches) are paid."""
    with contextlib.suppress(InvalidPredictions):
        call()  # the first call's one-off allocations made the bound flaky (1.2 MB once, never again)
    tracemalloc.start()
    try:
        call()
    except InvalidPredictions:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# ----------------------------------------------------------------------------------------------- notebooks


def _parse_notebook(raw: bytes) -> nbformat.NotebookNode:
    return parse_uploaded_notebook(raw, max_bytes=NOTEBOOK_LIMIT)


def _assert_same_cells(notebook: nbformat.NotebookNode, cells: list[tuple[str, list[str]]]) -> None:
    assert notebook.nbformat == 4
    assert [(cell.cell_type, cell.source) for cell in notebook.cells] == [
        (kind, "".join(lines)) for kind, lines in cells
    ]
    for cell in notebook.cells:
        assert "execution" not in cell.metadata
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert set(notebook.metadata) <= {"kernelspec", "language_info"}
    nbformat.validate(notebook)


@FAST
@given(
    front_end=st.sampled_from(FRONT_ENDS),
    minor=st.integers(0, 4),
    cells=cells_spec,
    bom=st.booleans(),
    crlf=st.booleans(),
    indent=st.sampled_from([None, 1, 2]),
    ascii_only=st.booleans(),
)
def test_a_notebook_saved_by_jupyterlab_colab_vscode_pycharm_or_papermill_is_accepted_with_its_sources_and_no_outputs(
    front_end: str, minor: int, cells: list, bom: bool, crlf: bool, indent: int | None, ascii_only: bool
) -> None:
    document = front_end_notebook(front_end, cells, minor)
    raw = encode_notebook(document, bom=bom, crlf=crlf, indent=indent, ascii_only=ascii_only)
    notebook = _parse_notebook(raw)
    _assert_same_cells(notebook, cells)
    assert nbformat.writes(notebook).encode("utf-8")  # what the platform stores must be UTF-8 again


@FEW
@given(cells=cells_spec)
def test_a_notebook_in_nbformat_3_with_worksheets_is_upgraded_with_its_sources(cells: list) -> None:
    v3 = nbformat.v3
    old_cells = [
        v3.new_code_cell(input="".join(lines), prompt_number=1, outputs=[v3.new_output("stream", output_text="hi\n")])
        if kind == "code"
        else v3.new_text_cell(kind, source="".join(lines))
        for kind, lines in cells
    ]
    old = v3.new_notebook(worksheets=[v3.new_worksheet(cells=old_cells)], metadata=v3.new_metadata())
    notebook = _parse_notebook(nbformat.v3.nbjson.writes(old).encode("utf-8"))
    _assert_same_cells(notebook, cells)


def test_the_notebooks_nbformat_itself_writes_are_accepted() -> None:
    for minor in range(6):
        current = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1\n")])
        current.nbformat_minor = minor
        if minor < 5:
            del current.cells[0]["id"]
        assert _parse_notebook(nbformat.writes(current, version=4).encode()).cells[0].source == "x = 1\n"


@FAST
@given(raw=st.binary(max_size=300))
def test_random_bytes_uploaded_as_a_notebook_are_refused_with_a_sentence(raw: bytes) -> None:
    _refusal(NotebookInvalid, lambda: _parse_notebook(raw))


@FAST
@given(cells=cells_spec, data=st.data())
def test_a_truncated_notebook_is_refused_with_a_sentence(cells: list, data: st.DataObject) -> None:
    raw = encode_notebook(front_end_notebook("jupyterlab", cells), bom=False, crlf=False, indent=1, ascii_only=True)
    cut = data.draw(st.integers(0, len(raw) - 2))
    _refusal(NotebookInvalid, lambda: _parse_notebook(raw[:cut]))


@FAST
@given(document=json_values)
def test_json_that_is_not_a_notebook_is_refused_with_a_sentence(document: Any) -> None:
    raw = json.dumps(document).encode()
    _refusal(NotebookInvalid, lambda: _parse_notebook(raw))


@FEW
@given(depth=st.integers(MAX_JSON_DEPTH + 1, 200_000), opener=st.sampled_from(["[", '{"a":', '[{"b":']))
def test_json_nested_thousands_deep_is_refused_with_a_sentence_not_a_recursion_error(depth: int, opener: str) -> None:
    raw = ('{"cells": [' + opener * depth).encode()
    _refusal(NotebookInvalid, lambda: _parse_notebook(raw))


@FEW
@given(digits=st.integers(20, 4200), where=st.sampled_from(["metadata", "nbformat_minor", "execution_count"]))
def test_huge_numbers_in_a_notebook_are_accepted_or_refused_with_a_sentence(digits: int, where: str) -> None:
    document = front_end_notebook("jupyterlab", [("code", ["x = 1"])])
    cell = document["cells"][0]
    target = {"metadata": cell["metadata"], "nbformat_minor": document, "execution_count": cell}[where]
    target[where if where != "metadata" else "size"] = 10**digits
    _accepted_or_refused(NotebookInvalid, lambda: _parse_notebook(json.dumps(document).encode()))


def test_a_notebook_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    raw = b'{"cells": [' + b" " * 2000 + b"]}"
    error = _refusal(NotebookInvalid, lambda: parse_uploaded_notebook(raw, max_bytes=1000))
    assert "MB" in error.message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_a_notebook_saved_in_utf_16_or_32_is_refused_naming_the_encoding(encoding: str) -> None:
    text = json.dumps(front_end_notebook("jupyterlab", [("code", ["x = 1"])]))
    bom = {"utf-16-be": b"\xfe\xff", "utf-32-be": b"\x00\x00\xfe\xff"}.get(encoding, b"")
    error = _refusal(NotebookInvalid, lambda: _parse_notebook(bom + text.encode(encoding)))
    assert "UTF-8" in error.message


# The cell type is a hashable scalar here: a list or an object there is test_a_cell_type_that_is_a_list_... below.
CELL_FIELDS = ("cell_type", "source", "metadata", "outputs", "execution_count", "attachments", "id")


@FAST
@given(
    field=st.sampled_from(CELL_FIELDS + ("cells", "metadata.kernelspec", "metadata.language_info", "cell")),
    value=json_values,
    cell_number=st.integers(0, 2),
)
def test_wrong_types_anywhere_in_the_cells_are_accepted_or_refused_with_a_sentence_never_another_exception(
    field: str, value: Any, cell_number: int
) -> None:
    document = front_end_notebook("jupyterlab", [("code", ["x = 1"]), ("markdown", ["# t"]), ("code", ["y = 2"])])
    if field == "cell_type" and isinstance(value, list | dict):
        value = json.dumps(value)
    if field == "cells":
        document["cells"] = value
    elif field == "cell":
        document["cells"][cell_number] = value
    elif field.startswith("metadata."):
        document["metadata"][field.split(".")[1]] = value
    else:
        document["cells"][cell_number][field] = value
    notebook = _accepted_or_refused(NotebookInvalid, lambda: _parse_notebook(json.dumps(document).encode()))
    if notebook is not None:
        nbformat.validate(notebook)
        assert all(cell.get("outputs", []) == [] for cell in notebook.cells)


@FEW
@given(text=st.text(max_size=50))
def test_nul_characters_in_sources_are_kept_as_text(text: str) -> None:
    source = "x = 1\n" + text + "\x00"
    notebook = _parse_notebook(json.dumps(front_end_notebook("vscode", [("code", [source])])).encode())
    assert notebook.cells[0].source == source


def test_a_cell_type_that_is_a_list_is_refused_with_a_sentence() -> None:
    raw = b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": ["code"], "source": "x"}]}'
    _refusal(NotebookInvalid, lambda: _parse_notebook(raw))


@pytest.mark.parametrize("version", ["10" + "0" * 4000, '"' + "x" * 5000 + '"'])
def test_a_huge_format_version_is_refused_with_a_short_sentence(version: str) -> None:
    raw = ('{"nbformat": ' + version + ', "cells": [{"cell_type": "code", "source": "x"}]}').encode()
    _refusal(NotebookInvalid, lambda: _parse_notebook(raw))


def test_a_lone_surrogate_escape_in_a_source_is_refused_or_the_notebook_can_be_stored_as_utf8() -> None:
    raw = b'{"nbformat": 4, "metadata": {}, "cells": [{"cell_type": "code", "source": "x = \\ud800"}]}'
    notebook = _accepted_or_refused(NotebookInvalid, lambda: _parse_notebook(raw))
    if notebook is not None:
        nbformat.writes(notebook).encode()  # what grading.services.submit stores


# ------------------------------------------------------------------------------------------------------ CSV

ids_and_scores = st.lists(st.integers(0, 10**9), min_size=1, max_size=40, unique=True).flatmap(
    lambda ids: st.tuples(
        st.just(ids),
        st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=len(ids), max_size=len(ids)),
        st.permutations(range(len(ids))),
    )
)
QUOTING = [csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC, csv.QUOTE_NONE, csv.QUOTE_STRINGS, csv.QUOTE_NOTNULL]


@FAST
@given(
    data=ids_and_scores,
    quoting=st.sampled_from(QUOTING),
    index=st.booleans(),
    float_format=st.sampled_from([None, "%.17g", "%.17e", "%.16E"]),
    lineterminator=st.sampled_from(["\n", "\r\n"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig"]),
    sep=st.sampled_from([",", ";", "\t"]),
    extra_column=st.booleans(),
)
def test_a_csv_written_by_pandas_to_csv_gives_back_its_scores_in_the_expected_order(
    data: tuple,
    quoting: int,
    index: bool,
    float_format: str | None,
    lineterminator: str,
    encoding: str,
    sep: str,
    extra_column: bool,
) -> None:
    ids, scores, order = data
    frame = pd.DataFrame({"id": [ids[i] for i in order], "score": [scores[i] for i in order]})
    if extra_column:
        frame.insert(0, "label", "a")
    if sep == "\t" and index:
        frame.index.name = "row"  # an unnamed index with tabs: test_a_tab_separated_csv_with_pandas_default_index_...
    raw = frame.to_csv(
        index=index,
        quoting=quoting,
        float_format=float_format,
        lineterminator=lineterminator,
        sep=sep,
        encoding=encoding,
    ).encode(encoding)
    np.testing.assert_array_equal(parse_scores_csv(raw, np.array(ids)), np.array(scores))


@FAST
@given(data=ids_and_scores, dialect=st.sampled_from(csv.list_dialects()), spaces=st.booleans())
def test_a_csv_written_by_the_csv_module_in_each_dialect_gives_back_its_scores(
    data: tuple, dialect: str, spaces: bool
) -> None:
    ids, scores, order = data
    text = io.StringIO(newline="")
    writer = csv.writer(text, dialect)
    writer.writerow(["id", "score"])
    writer.writerows([ids[i], scores[i]] for i in order)
    content = text.getvalue()
    if spaces:  # "id, score" and "1, 0.5", as people write by hand
        delimiter = csv.get_dialect(dialect).delimiter
        content = content.replace(delimiter, delimiter + " ")
    np.testing.assert_array_equal(parse_scores_csv(content.encode(), np.array(ids)), np.array(scores))


@FAST
@given(data=ids_and_scores, bad=st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "", "x", "1,5", "0x1"]))
def test_a_score_that_is_nan_infinite_or_not_a_number_is_refused_naming_its_line(data: tuple, bad: str) -> None:
    ids, scores, _ = data
    rows = [f"{i},{s!r}" for i, s in zip(ids, scores, strict=True)]
    rows[-1] = f'{ids[-1]},"{bad}"'
    error = _refusal(
        InvalidPredictions, lambda: parse_scores_csv(("id,score\n" + "\n".join(rows)).encode(), np.array(ids))
    )
    assert "Line" in error.message


@FAST
@given(data=ids_and_scores, change=st.sampled_from(["missing", "extra", "duplicate"]), where=st.integers(0, 10**6))
def test_missing_extra_or_repeated_ids_are_refused_naming_them(data: tuple, change: str, where: int) -> None:
    ids, scores, _ = data
    rows = list(zip(ids, scores, strict=True))
    position = where % len(rows)
    if change == "missing":
        del rows[position]
    elif change == "extra":
        rows.append((max(ids) + 1, 0.5))
    else:
        rows.insert(position, rows[position])
    raw = ("id,score\n" + "".join(f"{i},{s!r}\n" for i, s in rows)).encode()
    _refusal(InvalidPredictions, lambda: parse_scores_csv(raw, np.array(ids)))


@FAST
@given(
    data=ids_and_scores,
    garbage=st.lists(st.text(max_size=30), min_size=1, max_size=3),
    where=st.integers(0, 10**6),
)
def test_garbage_rows_in_a_csv_are_refused_with_a_sentence_or_ignored_when_blank(
    data: tuple, garbage: list, where: int
) -> None:
    ids, scores, _ = data
    lines = ["id,score", *(f"{i},{s!r}" for i, s in zip(ids, scores, strict=True))]
    for text in garbage:
        lines.insert(1 + where % len(lines), text)
    result = _accepted_or_refused(
        InvalidPredictions, lambda: parse_scores_csv("\n".join(lines).encode(), np.array(ids))
    )
    if result is not None:
        np.testing.assert_array_equal(result, np.array(scores))


@FAST
@given(
    raw=st.binary(max_size=400) | st.text(max_size=200).map(str.encode), ids=st.lists(st.integers(0, 50), max_size=5)
)
def test_random_bytes_or_text_as_a_csv_are_refused_with_a_sentence_never_another_exception(
    raw: bytes, ids: list
) -> None:
    _accepted_or_refused(InvalidPredictions, lambda: parse_scores_csv(raw, np.array(ids, dtype=np.int64)))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "latin-1", "cp1252"])
def test_a_csv_in_another_encoding_is_refused_naming_utf_8(encoding: str) -> None:
    text = "id,score,note\n1,0.5,café\n"
    raw = {"utf-16-be": b"\xfe\xff", "utf-32-be": b"\x00\x00\xfe\xff"}.get(encoding, b"") + text.encode(encoding)
    error = _refusal(InvalidPredictions, lambda: parse_scores_csv(raw, np.array([1])))
    assert "UTF-8" in error.message


@FEW
@given(
    rows=st.integers(1, 20_000),
    line=st.sampled_from(["{i},0.{i}\n", "{i},1e-5\n", "x\n", ",\n", "\n", '"{i}","{i}"\n', "{i}" * 30 + "\n"]),
)
def test_reading_a_csv_allocates_a_bounded_multiple_of_its_size(rows: int, line: str) -> None:
    raw = ("id,score\n" + "".join(line.format(i=i) for i in range(rows))).encode()
    peak = _peak_bytes(lambda: parse_scores_csv(raw, np.arange(rows)))
    assert peak < 12 * len(raw) + 1 * MiB, (peak, len(raw))


@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_NONE])
def test_a_tab_separated_csv_with_pandas_default_index_gives_back_its_scores(quoting: int) -> None:
    frame = pd.DataFrame({"id": [3, 1], "score": [0.25, 0.5]})
    raw = frame.to_csv(sep="\t", quoting=quoting).encode()  # b"\tid\tscore\n0\t3\t0.25\n1\t1\t0.5\n"
    np.testing.assert_array_equal(parse_scores_csv(raw, np.array([1, 3])), [0.5, 0.25])


def test_a_csv_of_many_short_lines_is_refused_without_holding_every_line() -> None:
    raw = b"ab\n" * 1_000_000  # 3 MB; 16 MiB are allowed
    peak = _peak_bytes(lambda: parse_scores_csv(raw, np.arange(10)))
    assert peak < 12 * len(raw) + 1 * MiB, (peak, len(raw))


def test_a_long_header_line_is_read_or_refused_with_a_sentence() -> None:
    # csv.Sniffer took 2-4 s on this 24 kB line, quadratic in its length; the delimiter is now counted.
    raw = b"id,score" + b',";' * 8_000 + b"\n1,2\n"
    _accepted_or_refused(InvalidPredictions, lambda: parse_scores_csv(raw, np.array([1])))


def test_large_ids_are_read_exactly() -> None:
    ids = np.array([2**53 + 1, 2**53 + 3])
    raw = f"id,score\n{ids[0]},0.25\n{ids[1]},0.75\n".encode()
    np.testing.assert_array_equal(parse_scores_csv(raw, ids), [0.25, 0.75])


# ------------------------------------------------------------------------------------------------------ npy

NUMERIC_DTYPES = st.sampled_from(
    ["?", "i1", "<i2", ">i4", "<i8", "u1", "<u2", "<u4", ">u8", "<f2", "<f4", ">f4", "<f8", ">f8"]
).map(np.dtype)


@FAST
@given(
    array=NUMERIC_DTYPES.flatmap(
        lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    ),
    fortran=st.booleans(),
    loose=st.booleans(),
)
def test_an_array_saved_with_np_save_is_read_back_equal_in_c_or_fortran_order(
    array: np.ndarray, fortran: bool, loose: bool
) -> None:
    if fortran:
        array = np.asfortranarray(array)
    expected_shape = tuple(None if loose and axis == 0 else n for axis, n in enumerate(array.shape))
    result = parse_npy(saved(array), "result.npy", [(7, 7, 7, 7, 7), expected_shape])
    assert result.dtype == array.dtype and result.shape == array.shape
    np.testing.assert_array_equal(result, array)


@FEW
@given(
    count=st.integers(1, 4),
    size=st.tuples(st.integers(1, 8), st.integers(1, 8)),
    channel=st.booleans(),
    dtype=st.sampled_from(["?", "u1", "<f4", "<f8", "<f2"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_masks_saved_with_np_save_are_read_as_floats_of_the_expected_shape(
    count: int, size: tuple, channel: bool, dtype: str, seed: int
) -> None:
    masks = np.random.default_rng(seed).random((count, *size)) > 0.5
    stored = masks.astype(dtype)
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "masks.npy").write_bytes(saved(stored[..., None] if channel else stored))
        result = read_masks_npy(Path(folder), size, count)
    assert result.dtype == np.float32 and result.shape == (count, *size)
    np.testing.assert_array_equal(result, masks.astype(np.float32))


huge_side = st.integers(0, 10**13) | st.sampled_from([10**13, 2**63, 10**40])


@FAST
@given(
    shape=st.lists(huge_side, min_size=1, max_size=4).map(tuple) | st.just((10**13, 128, 128)),
    data_bytes=st.integers(0, 4096),
    descr=st.sampled_from(["<f8", "|u1", "|b1", "<f4"]),
    version=st.sampled_from([(1, 0), (2, 0), (3, 0)]),
)
def test_a_header_that_lies_about_the_shape_is_refused_without_allocating_what_it_declares(
    shape: tuple, data_bytes: int, descr: str, version: tuple
) -> None:
    itemsize = np.dtype(descr).itemsize
    raw = npy_file(npy_header(shape, descr), bytes(data_bytes), version)
    declared = int(np.prod(np.array(shape, dtype=object))) * itemsize
    if declared == data_bytes:
        return  # an honest header
    peak = _peak_bytes(lambda: _refusal(InvalidPredictions, lambda: parse_npy(raw, "result.npy")))
    assert peak < 4 * len(raw) + 16 * MiB


@FEW
@given(count=st.integers(1, 3), declared=st.integers(4, 10**13), side=st.integers(1, 16))
def test_masks_whose_header_declares_more_images_than_sent_are_refused_without_allocating_them(
    count: int, declared: int, side: int
) -> None:
    raw = npy_file(npy_header((declared, side, side), "<f4"), bytes(4 * side * side))
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "masks.npy").write_bytes(raw)
        peak = _peak_bytes(
            lambda: _refusal(InvalidPredictions, lambda: read_masks_npy(Path(folder), (side, side), count))
        )
    assert peak < 4 * len(raw) + 16 * MiB


@FEW
@given(bad=st.sampled_from(["nan", "negative", "over_one", "count"]), size=st.integers(1, 6))
def test_masks_with_nan_values_outside_zero_one_or_the_wrong_count_are_refused(bad: str, size: int) -> None:
    masks = np.zeros((3, size, size), np.float32)
    masks[0, 0, 0] = {"nan": np.nan, "negative": -0.5, "over_one": 255.0, "count": 0.0}[bad]
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "masks.npy").write_bytes(saved(masks[:2] if bad == "count" else masks))
        _refusal(InvalidPredictions, lambda: read_masks_npy(Path(folder), (size, size), 3))


NON_NUMERIC = [
    np.array([1 + 2j, 3j]),
    np.array(["a", "bc"]),
    np.array([b"a", b"bc"]),
    np.array(["2025-01-01"], dtype="datetime64[D]"),
    np.array([1], dtype="timedelta64[s]"),
    np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]),
    np.zeros(2, dtype="V8"),
]


@pytest.mark.parametrize("array", NON_NUMERIC, ids=lambda a: str(a.dtype))
def test_an_array_of_complex_string_date_structured_or_void_values_is_refused(array: np.ndarray) -> None:
    _refusal(InvalidPredictions, lambda: parse_npy(saved(array), "result.npy"))


@pytest.mark.parametrize("descr", ["('<f8', (3,))", "[('a', '<f8', (3,))]", "'<c8'", "'|O'", "'<U1'", "'<M8[s]'"])
def test_a_header_declaring_a_subarray_or_other_non_numeric_dtype_is_refused(descr: str) -> None:
    header = "{'descr': " + descr + ", 'fortran_order': False, 'shape': (2,)}"
    _refusal(InvalidPredictions, lambda: parse_npy(npy_file(header, bytes(48)), "result.npy"))


@pytest.mark.parametrize("obj", [np.array([{"a": 1}, None], dtype=object), np.array([1.0], dtype=object)])
def test_an_array_of_python_objects_is_refused_without_unpickling(obj: np.ndarray) -> None:
    error = _refusal(InvalidPredictions, lambda: parse_npy(saved(obj, allow_pickle=True), "result.npy"))
    assert "pickle" in error.message


@FEW
@given(value=json_values, protocol=st.integers(0, pickle.HIGHEST_PROTOCOL))
def test_a_pickle_or_an_npz_archive_is_refused_with_a_sentence(value: Any, protocol: int) -> None:
    _refusal(InvalidPredictions, lambda: parse_npy(pickle.dumps(value, protocol=protocol), "result.npy"))
    buffer = io.BytesIO()
    np.savez(buffer, a=np.zeros(3))
    _refusal(InvalidPredictions, lambda: parse_npy(buffer.getvalue(), "result.npy"))


@FEW
@given(length=st.integers(10_001, 70_000), version=st.sampled_from([(1, 0), (2, 0), (3, 0)]))
def test_a_header_over_ten_kilobytes_is_refused(length: int, version: tuple) -> None:
    if version == (1, 0):
        length = min(length, 65_535)
    header = npy_header((1,)) + " " * (length - len(npy_header((1,))))
    _refusal(InvalidPredictions, lambda: parse_npy(npy_file(header, bytes(8), version), "result.npy"))


@FAST
@given(raw=st.binary(max_size=300), data=st.data())
def test_random_or_truncated_bytes_as_an_npy_file_are_refused_with_a_sentence(raw: bytes, data: st.DataObject) -> None:
    _refusal(InvalidPredictions, lambda: parse_npy(raw, "result.npy"))
    valid = saved(np.arange(6, dtype="<f8").reshape(2, 3))
    cut = data.draw(st.integers(0, len(valid) - 1))
    _refusal(InvalidPredictions, lambda: parse_npy(valid[:cut], "result.npy"))


# Well-formed Python literals of the wrong kind in each of the header's three keys.
literal_values = st.recursive(
    st.none() | st.booleans() | st.integers(0, 10**30) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.lists(children, min_size=2, max_size=3).map(tuple),
    max_leaves=6,
)


@FAST
@given(key=st.sampled_from(["descr", "fortran_order", "shape", "extra"]), value=literal_values)
def test_a_header_with_a_wrong_value_of_any_kind_is_refused_with_a_sentence(key: str, value: Any) -> None:
    header = {"descr": "<f8", "fortran_order": False, "shape": (2,)}
    header[key] = value
    raw = npy_file(repr(header), bytes(16))
    _accepted_or_refused(InvalidPredictions, lambda: parse_npy(raw, "result.npy"))


@FEW
@example(header="{", data=b"")  # tokenize.TokenError: unexpected EOF in multi-line statement
@example(header="'", data=b"")  # tokenize.TokenError: unterminated string literal
@example(header="(" * 300, data=b"")  # tokenize.TokenError: too many nested parentheses
@example(header="-" * 3000 + "1", data=b"")  # RecursionError during ast construction
@example(header="{'descr': ('<f8',), 'fortran_order': False, 'shape': (1,)}", data=bytes(8))  # IndexError
@example(header="{'descr': '<f8', 'fortran_order': False, 'shape': (-2, -4)}", data=bytes(64))  # ValueError in reshape
@example(header="{'descr': '<f8', 'fortran_order': False, 'shape': (-1, -1)}", data=bytes(8))  # ValueError in reshape
@given(header=st.text(max_size=60), data=st.binary(max_size=16))
def test_a_header_that_is_not_a_valid_literal_is_refused_with_a_sentence(header: str, data: bytes) -> None:
    raw = npy_file(header.encode("utf8").decode("latin1"), data)
    _accepted_or_refused(InvalidPredictions, lambda: parse_npy(raw, "result.npy"))


# ---------------------------------------------------------------------------------------------------- keras


@FEW
@given(weights=st.binary(max_size=2000), compression=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
def test_a_keras_3_model_file_passes_the_check_and_is_copied_unchanged(weights: bytes, compression: int) -> None:
    raw = keras_like_zip(weights, compression)
    check_keras_archive(raw, "encoder.keras")
    with tempfile.TemporaryDirectory() as folder:
        source, destination = Path(folder, "out", "encoder.keras"), Path(folder, "staged", "encoder.keras")
        source.parent.mkdir()
        source.write_bytes(raw)
        copy_untrusted_file(source, destination)
        assert destination.read_bytes() == raw


@pytest.mark.slow  # importing Keras takes about 10 s
def test_a_model_file_saved_by_keras_itself_passes_the_check() -> None:
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "encoder.keras")
        model.save(path)
        check_keras_archive(path.read_bytes(), "encoder.keras")


@FEW
@given(
    size=st.integers(600 * MiB, 2**32 - 1) | st.integers(2 * MiB, 600 * MiB),
    entry=st.sampled_from(["config.json", "model.weights.h5"]),
)
def test_a_keras_zip_that_declares_enormous_unpacked_sizes_is_refused(size: int, entry: str) -> None:
    raw = with_declared_size(keras_like_zip(b"w" * 100), entry, size)
    _refusal(InvalidPredictions, lambda: check_keras_archive(raw, "encoder.keras"))


@FEW
@given(extra=st.integers(MAX_MODEL_ENTRIES - 2, MAX_MODEL_ENTRIES + 50))
def test_a_keras_zip_with_too_many_entries_is_refused(extra: int) -> None:
    raw = keras_like_zip(b"w", extra={f"f{i}": b"" for i in range(extra)})
    if extra + 3 <= MAX_MODEL_ENTRIES:
        check_keras_archive(raw, "encoder.keras")
    else:
        _refusal(InvalidPredictions, lambda: check_keras_archive(raw, "encoder.keras"))


def test_a_zip_without_config_json_is_refused_as_not_a_keras_model() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.weights.h5", b"w")
    error = _refusal(InvalidPredictions, lambda: check_keras_archive(buffer.getvalue(), "encoder.keras"))
    assert "config.json" in error.message


@FAST
@given(
    raw=st.binary(max_size=400),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4),
    cut=st.integers(0, 10**6),
)
def test_random_truncated_or_corrupted_bytes_as_a_keras_file_are_refused_with_a_sentence(
    raw: bytes, flips: list, cut: int
) -> None:
    _refusal(InvalidPredictions, lambda: check_keras_archive(raw, "encoder.keras"))
    valid = bytearray(keras_like_zip(b"weights" * 10))
    for position, value in flips:
        valid[position % len(valid)] = value
    corrupted = bytes(valid)[: len(valid) - cut % len(valid)] if cut % 2 else bytes(valid)
    _accepted_or_refused(InvalidPredictions, lambda: check_keras_archive(corrupted, "encoder.keras"))


def test_a_zip_declaring_many_entries_is_refused_before_they_are_all_parsed() -> None:
    raw = central_directory_only(12_000)  # 0.6 MB, about 8 times that allocated; 64 MiB are allowed
    peak = _peak_bytes(lambda: _refusal(InvalidPredictions, lambda: check_keras_archive(raw, "encoder.keras")))
    assert peak < 3 * len(raw) + 1 * MiB, (peak, len(raw))
