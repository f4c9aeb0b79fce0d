"""Read the untrusted files a participant's job left in output/: no symlinks, size capped, parsed strictly."""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

import numpy as np

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


def copy_untrusted_file(source: Path, destination: Path, max_bytes: int = MAX_MODEL_BYTES) -> None:
    """Copy a regular file written by untrusted code, with the checks of read_untrusted_file."""
    data = read_untrusted_file(source, max_bytes)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(data)


def _describe_ids(ids: list[int] | np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(i)) for i in list(ids)[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def parse_scores_csv(text: bytes, expected_ids: np.ndarray, name: str = "predictions.csv") -> np.ndarray:
    """Parse `id,score` CSV text and return the scores in the order of `expected_ids`.

    Strict on purpose: one header `id,score`, then one `integer,number` per line, every expected
    id exactly once, nothing else. A person learns exactly which line or id is wrong.
    """
    try:
        content = text.decode("utf-8-sig")  # pandas and Excel may add a byte-order mark
    except UnicodeDecodeError:
        raise InvalidPredictions(f"output/{name} is not UTF-8 text; write it with pandas' to_csv.") from None
    lines = content.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()  # a trailing blank line is harmless
    if not lines:
        raise InvalidPredictions(f"output/{name} is empty; write the header id,score and one row per id.")
    header = [cell.strip() for cell in lines[0].split(",")]
    if header != ["id", "score"]:
        raise InvalidPredictions(
            f"The first line of output/{name} must be the header id,score, but it is {lines[0][:80]!r}; "
            "write it with index=False."
        )
    ids = np.empty(len(lines) - 1, dtype=np.int64)
    scores = np.empty(len(lines) - 1, dtype=np.float64)
    for row, line in enumerate(lines[1:]):
        cells = line.split(",")
        if len(cells) != 2:
            raise InvalidPredictions(
                f"Line {row + 2} of output/{name} must hold two values, id and score, but it holds "
                f"{len(cells)}: {line[:80]!r}."
            )
        try:
            ids[row] = int(cells[0].strip())
        except (ValueError, OverflowError):
            raise InvalidPredictions(
                f"Line {row + 2} of output/{name}: the id {cells[0][:40]!r} is not a whole number."
            ) from None
        try:
            scores[row] = float(cells[1].strip())
        except ValueError:
            raise InvalidPredictions(
                f"Line {row + 2} of output/{name}: the score {cells[1][:40]!r} is not a number."
            ) from None
        if not np.isfinite(scores[row]):
            raise InvalidPredictions(
                f"Line {row + 2} of output/{name}: the score is {cells[1].strip()}; "
                "every score must be a finite number (no NaN or infinity)."
            )
    unique, counts = np.unique(ids, return_counts=True)
    duplicated = unique[counts > 1]
    if duplicated.size:
        raise InvalidPredictions(f"output/{name} repeats some ids ({_describe_ids(duplicated)}); give each id one row.")
    expected = np.asarray(expected_ids, dtype=np.int64)
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


def parse_npy(raw: bytes, name: str) -> np.ndarray:
    """Parse .npy bytes into a numeric array without ever unpickling."""
    try:
        loaded = np.load(io.BytesIO(raw), allow_pickle=False)
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise InvalidPredictions(
                f"output/{name} holds Python objects (pickle), which are refused; save a numeric array with np.save."
            ) from None
        raise InvalidPredictions(f"output/{name} is not a valid .npy array ({error}); save it with np.save.") from None
    except (OSError, EOFError) as error:
        raise InvalidPredictions(f"output/{name} is not a valid .npy array ({error}); save it with np.save.") from None
    if not isinstance(loaded, np.ndarray):
        loaded.close()  # an .npz archive: np.load returned an NpzFile
        raise InvalidPredictions(f"output/{name} is an .npz archive; save one array with np.save.")
    if loaded.dtype.kind not in NUMERIC_KINDS:
        raise InvalidPredictions(
            f"output/{name} holds values of type {loaded.dtype}; save numbers (bool, int or float)."
        )
    return loaded


def read_npy(path: Path, max_bytes: int = MAX_NPY_BYTES) -> np.ndarray:
    """Read one untrusted numeric .npy array."""
    return parse_npy(read_untrusted_file(path, max_bytes), Path(path).name)


def read_masks_npy(
    output_dir: Path, image_shape: tuple[int, int], count: int, max_bytes: int = MAX_NPY_BYTES
) -> np.ndarray:
    """Read output/masks.npy and return float masks of shape (count, height, width) with values in [0, 1].

    A trailing channel of size 1 (Keras' (images, height, width, 1)) is accepted and dropped.
    """
    masks = read_npy(Path(output_dir) / "masks.npy", max_bytes)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    expected = (count, *image_shape)
    if masks.ndim != 3 or masks.shape[1:] != tuple(image_shape):
        raise InvalidPredictions(
            f"output/masks.npy must have shape {expected} (images, height, width), but it has {masks.shape}."
        )
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
