"""Reading a job's untrusted output/: every malformed or dangerous file is refused with a clear sentence."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from exercises.errors import InvalidPredictions
from exercises.outputs import read_masks_npy, read_npy, read_scores_csv, read_untrusted_file

IDS = np.array([101, 205, 307], dtype=np.int64)


def write_csv(folder: Path, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "predictions.csv").write_text(text)
    return folder


def test_scores_come_back_in_the_order_of_the_expected_ids(tmp_path: Path) -> None:
    output = write_csv(tmp_path / "output", "id,score\n307,0.3\n101,0.1\n205,2e-1\n")
    assert read_scores_csv(output, IDS).tolist() == [0.1, 0.2, 0.3]


def test_a_byte_order_mark_and_a_trailing_blank_line_are_harmless(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.mkdir()
    (output / "predictions.csv").write_bytes(b"\xef\xbb\xbfid,score\r\n101,1\r\n205,0\r\n307,0.5\r\n\r\n")
    assert read_scores_csv(output, IDS).tolist() == [1.0, 0.0, 0.5]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("ids,scores\n101,0.1\n205,0.2\n307,0.3\n", "must name the columns id and score"),
        ("score,id\n101,0.1\n205,0.2\n307,0.3\n", "Line 2 .*the id '0.1' is not a whole number"),
        ("id,score\n101,0.1\n205,nan\n307,0.3\n", "Line 3 .*finite number"),
        ("id,score\n101,0.1\n205,inf\n307,0.3\n", "Line 3 .*finite number"),
        ("id,score\n101,0.1\n205,-Infinity\n307,0.3\n", "finite number"),
        ("id,score\n101,0.1\n205,high\n307,0.3\n", "Line 3 .*'high' is not a number"),
        ("id,score\n101,0.1\n205.5,0.2\n307,0.3\n", "Line 3 .*not a whole number"),
        ("id,score\n101,0.1,7\n205,0.2\n307,0.3\n", "Line 2 .*holds 3 values but the header names 2 columns"),
        ("id,score\n101,0.1\n101,0.2\n205,0.2\n307,0.3\n", r"repeats some ids \(101\)"),
        ("id,score\n101,0.1\n205,0.2\n", r"no score for 1 test ids \(307\)"),
        ("id,score\n101,0.1\n205,0.2\n307,0.3\n999,0.4\n", r"ids that are not in the test set \(999\)"),
    ],
)
def test_a_malformed_predictions_csv_is_refused_with_a_clear_message(tmp_path: Path, text: str, message: str) -> None:
    output = write_csv(tmp_path / "output", text)
    with pytest.raises(InvalidPredictions, match=message):
        read_scores_csv(output, IDS)


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.mkdir()
    (output / "predictions.csv").write_bytes(b"id,score\n101,\xff\xfe\n")
    with pytest.raises(InvalidPredictions, match="not UTF-8"):
        read_scores_csv(output, IDS)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidPredictions, match=r"did not write output/predictions\.csv"):
        read_scores_csv(tmp_path, IDS)


def test_a_symlink_is_refused_even_to_a_valid_file(tmp_path: Path) -> None:
    real = write_csv(tmp_path / "elsewhere", "id,score\n101,0.1\n205,0.2\n307,0.3\n") / "predictions.csv"
    output = tmp_path / "output"
    output.mkdir()
    (output / "predictions.csv").symlink_to(real)
    with pytest.raises(InvalidPredictions, match="symbolic link"):
        read_scores_csv(output, IDS)


def test_a_symlink_to_a_host_secret_is_refused(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.mkdir()
    (output / "masks.npy").symlink_to("/etc/shadow")
    with pytest.raises(InvalidPredictions, match="symbolic link"):
        read_npy(output / "masks.npy")


def test_a_fifo_or_folder_in_place_of_the_file_is_refused_without_blocking(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.mkdir()
    os.mkfifo(output / "predictions.csv")
    with pytest.raises(InvalidPredictions, match="not a regular file"):
        read_scores_csv(output, IDS)
    (output / "masks.npy").mkdir()
    with pytest.raises(InvalidPredictions, match="not a regular file"):
        read_npy(output / "masks.npy")


def test_a_file_over_the_size_cap_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    output = write_csv(tmp_path / "output", "id,score\n" + "101,0.1\n" * 2000)
    with pytest.raises(InvalidPredictions, match="MiB allowed"):
        read_scores_csv(output, IDS, max_bytes=1024)
    with pytest.raises(InvalidPredictions, match="MiB allowed"):
        read_untrusted_file(output / "predictions.csv", 100)


def save_masks(folder: Path, array: np.ndarray) -> Path:
    folder.mkdir(exist_ok=True)
    np.save(folder / "masks.npy", array, allow_pickle=True)
    return folder


def test_masks_of_the_right_shape_are_read_as_floats(tmp_path: Path) -> None:
    output = save_masks(tmp_path / "output", np.ones((3, 4, 4, 1), dtype=np.uint8))
    masks = read_masks_npy(output, (4, 4), 3)
    assert masks.shape == (3, 4, 4) and masks.dtype == np.float32 and masks.min() == 1.0


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((2, 4, 4)), "one mask per test image, 3 in all"),
        (np.zeros((3, 4, 5)), r"must have shape \(3, 4, 4\)"),
        (np.zeros((3, 16)), r"must have shape \(3, 4, 4\)"),
        (np.full((3, 4, 4), np.nan), "NaN or infinite"),
        (np.full((3, 4, 4), 255, dtype=np.uint8), "between 0 and 1"),
        (np.full((3, 4, 4), "x"), "holds values of type <U1"),
        (np.array([{"a": 1}] * 3, dtype=object), "pickle"),
        (np.zeros((3, 4, 4), dtype=np.complex64), "holds values of type complex64"),
    ],
)
def test_malformed_masks_are_refused_with_a_clear_message(tmp_path: Path, array: np.ndarray, message: str) -> None:
    output = save_masks(tmp_path / "output", array)
    with pytest.raises(InvalidPredictions, match=message):
        read_masks_npy(output, (4, 4), 3)


def test_a_pickle_renamed_to_npy_is_refused_and_never_unpickled(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.mkdir()
    (output / "masks.npy").write_bytes(pickle.dumps(np.zeros((3, 4, 4))))
    with pytest.raises(InvalidPredictions, match="masks.npy"):
        read_masks_npy(output, (4, 4), 3)


def test_an_npz_archive_is_refused(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.mkdir()
    with (output / "masks.npy").open("wb") as handle:
        np.savez(handle, masks=np.zeros((3, 4, 4)))
    with pytest.raises(InvalidPredictions, match="npz archive"):
        read_masks_npy(output, (4, 4), 3)


def test_a_truncated_npy_is_refused(tmp_path: Path) -> None:
    output = save_masks(tmp_path / "output", np.zeros((3, 4, 4)))
    data = (output / "masks.npy").read_bytes()
    (output / "masks.npy").write_bytes(data[:-20])
    with pytest.raises(InvalidPredictions, match="not a valid .npy array"):
        read_masks_npy(output, (4, 4), 3)
