"""Read the untrusted files a participant's job left in output/: no symlinks, size capped, parsed strictly."""

from __future__ import annotations

import codecs
import csv
import errno
import io
import math
import os
import stat
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from exercises.errors import InvalidPredictions

MiB = 1024 * 1024
MAX_CSV_BYTES = 16 * MiB
MAX_NPY_BYTES = 512 * MiB
MAX_MODEL_BYTES = 64 * MiB
NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float: nothing else is a prediction


def read_untrusted_file(path: Path, max_bytes: int) -> bytes:
    """Return the bytes of a regular file written by untrusted code; refuse links, devices and big files.

    O_NOFOLLOW refuses a symlink at the last component; fstat on the opened descriptor (not the
    name) checks the kind and size of what was actually opened, so a swap after the check is harmless.
    O_NONBLOCK keeps a FIFO left in place of the file from blocking the reader.
    """
    name = Path(path).name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InvalidPredictions(f"Your notebook did not write output/{name}; save it there.") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise InvalidPredictions(f"output/{name} is a symbolic link; save the file itself, not a link.") from None
        raise InvalidPredictions(f"output/{name} cannot be read ({error.strerror}); save it again.") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidPredictions(f"output/{name} is not a regular file; save a plain file there.")
        if info.st_size > max_bytes:
            raise InvalidPredictions(
                f"output/{name} is {info.st_size / MiB:.1f} MiB, more than the {max_bytes / MiB:.0f} MiB "
                "allowed; save only what the exercise asks for."
            )
        chunks, total = [], 0
        while True:  # read at most max_bytes + 1 even if the file grows after fstat
            chunk = os.read(fd, min(1 * MiB, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise InvalidPredictions(f"output/{name} grew past {max_bytes / MiB:.0f} MiB while read.")
        return b"".join(chunks)
    finally:
        os.close(fd)


MAX_MODEL_ENTRIES = 256
MAX_MODEL_UNPACKED_BYTES = 512 * MiB
MAX_MODEL_RATIO = 100.0  # a zip bomb packs far more; Keras' weights (float32) hardly compress at all


def check_keras_archive(raw: bytes, name: str) -> None:
    """Check a `.keras` file's zip directory before anything unpacks it: entry count, declared sizes, config.

    Keras 3 saves a model as a zip holding config.json, metadata.json and model.weights.h5. The sizes are
    read from the central directory, which costs nothing to read and nothing to allocate; a file that
    declares more than the limits, or that is no such zip, raises InvalidPredictions with a sentence.
    """
    fix = f"save it with model.save('output/{name}') (Keras 3's .keras format)"
    # The end-of-central-directory record states the entry count: check it before zipfile parses every entry.
    end = raw.rfind(b"PK\x05\x06", max(0, len(raw) - 65_557))
    if end >= 0 and len(raw) >= end + 22:
        declared_entries = int.from_bytes(raw[end + 10 : end + 12], "little")
        if declared_entries > MAX_MODEL_ENTRIES:
            raise InvalidPredictions(
                f"output/{name} declares {declared_entries} files, more than a Keras model has; {fix}."
            )
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError):
        raise InvalidPredictions(f"output/{name} is not a Keras model file (not a .keras zip); {fix}.") from None
    if len(entries) > MAX_MODEL_ENTRIES:
        raise InvalidPredictions(f"output/{name} holds {len(entries)} files, more than a Keras model has; {fix}.")
    unpacked = sum(info.file_size for info in entries)
    if unpacked > MAX_MODEL_UNPACKED_BYTES or unpacked > MAX_MODEL_RATIO * max(len(raw), 1) + MiB:
        raise InvalidPredictions(
            f"output/{name} declares {unpacked / MiB:.0f} MiB once unpacked, more than a model of this exercise "
            f"needs ({MAX_MODEL_UNPACKED_BYTES / MiB:.0f} MiB at most, {MAX_MODEL_RATIO:.0f} times its size); {fix}."
        )
    if "config.json" not in {info.filename for info in entries}:
        raise InvalidPredictions(f"output/{name} has no config.json, so it is not a Keras 3 model; {fix}.")


def copy_untrusted_file(source: Path, destination: Path, max_bytes: int = MAX_MODEL_BYTES) -> None:
    """Copy a regular file written by untrusted code, with the checks of read_untrusted_file.

    A `.keras` model is also checked with check_keras_archive before it is copied.
    """
    data = read_untrusted_file(source, max_bytes)
    if Path(source).suffix == ".keras":
        check_keras_archive(data, Path(source).name)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(data)


def _describe_ids(ids: list[int] | np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(i)) for i in list(ids)[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


# Byte-order marks of the Unicode encodings other than UTF-8 that editors save text in (UTF-32 first: its
# little-endian mark starts with UTF-16's). Every reader of a participant's text names the encoding it found.
OTHER_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def decode_csv_text(raw: bytes, name: str) -> str:
    """Return the text of a participant's CSV file: UTF-8 with or without a byte-order mark.

    Raises InvalidPredictions naming the encoding to use when the bytes are UTF-16/32 or not text.
    """
    for bom, encoding in OTHER_UNICODE_BOMS:
        if raw.startswith(bom):
            raise InvalidPredictions(
                f"output/{name} is {encoding} text; save it as UTF-8 (pandas' to_csv does by default)."
            )
    try:
        return raw.decode("utf-8-sig")  # pandas with encoding="utf-8-sig" and Excel add a byte-order mark
    except UnicodeDecodeError:
        raise InvalidPredictions(
            f"output/{name} is not UTF-8 text; save it as UTF-8 (pandas' to_csv does by default)."
        ) from None


def _csv_delimiter(header_line: str) -> str:
    """Return the delimiter a CSV writer used, from the header: the most frequent of comma, semicolon, tab.

    Counting is linear and bounded to the line's first 4096 characters (csv.Sniffer is quadratic on a long
    line, which a participant controls). A tie, or none of them, means comma.
    """
    prefix = header_line[:4096]
    counts = {delimiter: prefix.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > counts[","] else ","


def _first_line(content: str) -> str:
    """Return the first line that is not blank, without splitting the whole text."""
    start = 0
    while start < len(content):
        end = content.find("\n", start)
        end = len(content) if end < 0 else end
        line = content[start:end].rstrip("\r")
        if line.strip():
            return line
        start = end + 1
    return ""


def _cell_number(text: str, kind: type, line: int, column: str, name: str) -> Any:
    value = text.strip()
    if kind is int and value.lstrip("+-").isdigit() and len(value) <= 20:
        whole = int(value)  # exact: float() would round ids above 2**53
        if abs(whole) <= 2**62:
            return whole
    try:
        number = float(value)
    except ValueError:
        raise InvalidPredictions(
            f"Line {line} of output/{name}: the {column} {value[:40]!r} is not a number."
        ) from None
    if kind is int:
        if not np.isfinite(number) or number != int(number) or abs(number) > 2**62:
            raise InvalidPredictions(f"Line {line} of output/{name}: the id {value[:40]!r} is not a whole number.")
        return int(number)
    if not np.isfinite(number):
        raise InvalidPredictions(
            f"Line {line} of output/{name}: the score is {value[:40]}; "
            "every score must be a finite number (no NaN or infinity)."
        )
    return number


def parse_scores_csv(text: bytes, expected_ids: np.ndarray, name: str = "predictions.csv") -> np.ndarray:
    """Parse CSV with an `id` and a `score` column and return the scores in the order of `expected_ids`.

    Read with the standard library's CSV reader, so whatever a CSV writer produces works: quoted fields,
    CRLF line ends, a byte-order mark, spaces around values, scientific notation, a comma, semicolon or tab
    delimiter, other columns such as pandas' index (ignored). Every expected id must appear exactly once.
    At most about twice len(expected_ids) rows are ever held: a longer file is refused while it is read.

    Raises InvalidPredictions with a sentence saying which line or id is wrong and how to fix it.
    """
    expected = np.asarray(expected_ids, dtype=np.int64)
    content = decode_csv_text(text, name)
    first_line = _first_line(content)
    if not first_line:
        raise InvalidPredictions(f"output/{name} is empty; write the header id,score and one row per id.")
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=_csv_delimiter(first_line), skipinitialspace=True)
    try:
        header: list[str] = []
        for row in reader:  # blank lines before the header are harmless
            header = [cell.strip().strip("\ufeff").lower() for cell in row]
            if any(header):
                break
        if "id" not in header or "score" not in header:
            raise InvalidPredictions(
                f"The first line of output/{name} must name the columns id and score, but it is "
                f"{first_line[:80]!r}; write the file with pandas' to_csv from a DataFrame with those two columns."
            )
        if header.count("id") > 1 or header.count("score") > 1:
            raise InvalidPredictions(f"The header of output/{name} names a column twice: {first_line[:80]!r}.")
        id_column, score_column = header.index("id"), header.index("score")
        limit = 2 * expected.size + 100  # a few repeats or strays are reported by id below
        # Grown as rows arrive, up to the limit: a file of blank lines allocates nothing for rows it lacks.
        capacity = min(limit, 1024)
        ids = np.empty(capacity, dtype=np.int64)
        scores = np.empty(capacity, dtype=np.float64)
        count = 0
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # a blank line, e.g. a trailing one, is harmless
            if len(row) != len(header):
                raise InvalidPredictions(
                    f"Line {line} of output/{name} holds {len(row)} values but the header names {len(header)} "
                    "columns; write one id and one score per row."
                )
            if count >= limit:
                raise InvalidPredictions(
                    f"output/{name} has more rows than the {expected.size} test ids; write one row per row "
                    "of data/test.csv."
                )
            if count >= capacity:
                capacity = min(limit, 2 * capacity)
                ids, scores = np.resize(ids, capacity), np.resize(scores, capacity)
            ids[count] = _cell_number(row[id_column], int, line, "id", name)
            scores[count] = _cell_number(row[score_column], float, line, "score", name)
            count += 1
    except csv.Error as error:
        raise InvalidPredictions(f"output/{name} is not readable as CSV (line {reader.line_num}: {error}).") from None
    return _in_expected_order(ids[:count], scores[:count], expected, name)


def _in_expected_order(ids: np.ndarray, scores: np.ndarray, expected: np.ndarray, name: str) -> np.ndarray:
    unique, counts = np.unique(ids, return_counts=True)
    duplicated = unique[counts > 1]
    if duplicated.size:
        raise InvalidPredictions(f"output/{name} repeats some ids ({_describe_ids(duplicated)}); give each id one row.")
    missing = np.setdiff1d(expected, ids)
    if missing.size:
        raise InvalidPredictions(
            f"output/{name} has no score for {missing.size} test ids ({_describe_ids(missing)}); "
            "predict every row of data/test.csv."
        )
    extra = np.setdiff1d(ids, expected)
    if extra.size:
        raise InvalidPredictions(
            f"output/{name} has ids that are not in the test set ({_describe_ids(extra)}); "
            "use the id column of data/test.csv."
        )
    order = np.argsort(ids)
    positions = np.searchsorted(ids[order], expected)
    return scores[order][positions]


def read_scores_csv(output_dir: Path, expected_ids: np.ndarray, max_bytes: int = MAX_CSV_BYTES) -> np.ndarray:
    """Read output/predictions.csv and return the scores in the order of `expected_ids`."""
    raw = read_untrusted_file(Path(output_dir) / "predictions.csv", max_bytes)
    return parse_scores_csv(raw, expected_ids)


NPY_HEADER_LIMIT = 10_000  # bytes; numpy's own default cap on a header it is willing to parse
Shape = tuple[int | None, ...]  # None: any length along that axis


def parse_npy(raw: bytes, name: str, shapes: Sequence[Shape] | None = None, *, shape_text: str = "") -> np.ndarray:
    """Return the numeric array in `.npy` bytes, read-only and without copying, never unpickling.

    The header is read and checked before anything is allocated: the dtype must be a plain number (bool,
    int, float), the shape one of `shapes` when given, and the bytes it declares (shape x item size) must be
    exactly the bytes the file holds, so a 128-byte file that declares terabytes is refused, not allocated.
    `shape_text` describes the expected shape in the refusal (by default, `shapes` themselves).

    Raises InvalidPredictions with a sentence naming what is wrong and how to save the file.
    """
    if raw.startswith(b"PK"):
        raise InvalidPredictions(f"output/{name} is an .npz archive; save one array with np.save.")
    stream = io.BytesIO(raw)
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_1_0(stream, max_header_size=NPY_HEADER_LIMIT)
        else:
            shape, fortran_order, dtype = npy_format.read_array_header_2_0(stream, max_header_size=NPY_HEADER_LIMIT)
    except Exception as error:  # numpy's header parser raises many types on hostile headers (TokenError...)
        if "pickle" in str(error).lower() or raw[:1] == b"\x80":
            raise InvalidPredictions(
                f"output/{name} holds Python objects (pickle), which are refused; save a numeric array with np.save."
            ) from None
        raise InvalidPredictions(
            f"output/{name} is not a valid .npy array ({type(error).__name__}: {str(error)[:120]}); "
            "save it with np.save."
        ) from None
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise InvalidPredictions(
            f"output/{name} is not a valid .npy array: its header declares the shape {str(shape)[:60]}; "
            "save it with np.save."
        )
    if dtype.hasobject:
        raise InvalidPredictions(
            f"output/{name} holds Python objects (pickle), which are refused; save a numeric array with np.save."
        )
    if dtype.kind not in NUMERIC_KINDS or dtype.names is not None or dtype.subdtype is not None:
        raise InvalidPredictions(f"output/{name} holds values of type {dtype}; save numbers (bool, int or float).")
    if shapes is not None and not any(_shape_fits(shape, allowed) for allowed in shapes):
        described = shape_text or " or ".join(str(tuple("any" if n is None else n for n in a)) for a in shapes)
        raise InvalidPredictions(f"output/{name} must have shape {described}, but it declares {shape}.")
    declared = math.prod(shape) * dtype.itemsize  # Python integers: no overflow, nothing allocated
    present = len(raw) - stream.tell()
    if declared != present:
        raise InvalidPredictions(
            f"output/{name} is not a valid .npy array: its header declares shape {shape} ({declared} bytes of "
            f"{dtype}) but the file holds {present} bytes of data; save it again with np.save."
        )
    array = np.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=stream.tell())
    return array.reshape(shape, order="F" if fortran_order else "C")


def _shape_fits(shape: tuple[int, ...], allowed: Shape) -> bool:
    return len(shape) == len(allowed) and all(
        want is None or want == got for got, want in zip(shape, allowed, strict=True)
    )


def npy_bytes_for(shapes: Sequence[Shape], *, any_length: int = 0) -> int:
    """Return the largest size in bytes a `.npy` file of one of `shapes` can rightly have (float64 values).

    `any_length` bounds an axis given as None. The header (at most NPY_HEADER_LIMIT) is included.
    """
    largest = max(math.prod(any_length if n is None else n for n in shape) for shape in shapes)
    return largest * 8 + NPY_HEADER_LIMIT + 128


def read_npy(path: Path, max_bytes: int = MAX_NPY_BYTES, shapes: Sequence[Shape] | None = None) -> np.ndarray:
    """Read one untrusted numeric .npy array of one of `shapes`, at most `max_bytes` bytes on disk."""
    return parse_npy(read_untrusted_file(path, max_bytes), Path(path).name, shapes)


def read_masks_npy(
    output_dir: Path, image_shape: tuple[int, int], count: int, max_bytes: int = MAX_NPY_BYTES
) -> np.ndarray:
    """Read output/masks.npy and return float masks of shape (count, height, width) with values in [0, 1].

    A trailing channel of size 1 (Keras' (images, height, width, 1)) is accepted and dropped.
    """
    expected = (count, *image_shape)
    # Any number of masks passes the header check, so that a wrong count gets its own sentence below.
    shapes: list[Shape] = [(None, *image_shape), (None, *image_shape, 1)]
    path = Path(output_dir) / "masks.npy"
    raw = read_untrusted_file(path, min(max_bytes, npy_bytes_for([(2 * count, *image_shape)])))
    masks = parse_npy(raw, "masks.npy", shapes, shape_text=f"{expected} (images, height, width)")
    if masks.ndim == 4:
        masks = masks[..., 0]
    if masks.shape[0] != count:
        raise InvalidPredictions(
            f"output/masks.npy must hold one mask per test image, {count} in all, in the order of the "
            f"test images, but it holds {masks.shape[0]}; predict an empty mask rather than none."
        )
    masks = masks.astype(np.float32)
    if not np.isfinite(masks).all():
        raise InvalidPredictions("output/masks.npy holds NaN or infinite values; save probabilities or 0/1.")
    if masks.size and (masks.min() < 0.0 or masks.max() > 1.0):
        raise InvalidPredictions(
            "output/masks.npy values must lie between 0 and 1 (probabilities or 0/1); "
            "divide 0/255 masks by 255 before saving."
        )
    return masks
