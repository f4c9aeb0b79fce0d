"""Run a notebook once over the test inputs of several hidden sets, then score each set on its own.

The training data of an exercise is public and the same for every secret seed; only the test inputs differ. A
notebook with a fixed random seed therefore trains the same model whatever the test set, and predicts each test
case on its own, so one run over the concatenated test inputs gives, for each hidden set, exactly what a run on
that set alone gives: several seeds for the price of one training.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tests.builders.bundles import run_notebook

ID_STRIDE = 100_000_000  # far above every id an exercise draws: set k's ids become id + k * ID_STRIDE


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [row for row in reader if row]


def combine_test_inputs(hidden_roots: Sequence[Path], destination: Path, *, table: str, arrays: Sequence[str]) -> Path:
    """Write a data/ folder with the first set's training files and every set's test inputs, ids made distinct.

    `table` names the test CSV whose `id` column is offset per set (empty when ids are row indexes); `arrays`
    name the test .npy files, concatenated in the order of `hidden_roots`.
    """
    data = destination / "data"
    shutil.copytree(hidden_roots[0] / "data", data)
    for name in arrays:
        np.save(data / name, np.concatenate([np.load(root / "data" / name) for root in hidden_roots]))
    if table:
        header, rows = _rows(hidden_roots[0] / "data" / table)
        position = header.index("id")
        combined = []
        for k, root in enumerate(hidden_roots):
            for row in _rows(root / "data" / table)[1]:
                combined.append([*row[:position], str(int(row[position]) + k * ID_STRIDE), *row[position + 1 :]])
        with (data / table).open("w", newline="") as handle:
            csv.writer(handle).writerows([header, *combined])
    return data


def split_output(output_file: Path, counts: Sequence[int], destinations: Sequence[Path], *, row_ids: bool) -> None:
    """Split a combined output CSV into one output/ folder per hidden set, with each set's own ids back.

    With `row_ids`, ids are row indexes: set k holds rows counts[0] + ... + counts[k-1] onwards.
    """
    header, rows = _rows(output_file)
    position = header.index("id")
    starts = np.r_[0, np.cumsum(counts)]
    for k, destination in enumerate(destinations):
        mine = []
        for row in rows:
            case = int(row[position])
            if row_ids and starts[k] <= case < starts[k + 1]:
                mine.append([*row[:position], str(case - starts[k]), *row[position + 1 :]])
            elif not row_ids and case // ID_STRIDE == k:
                mine.append([*row[:position], str(case % ID_STRIDE), *row[position + 1 :]])
        destination.mkdir(parents=True, exist_ok=True)
        with (destination / output_file.name).open("w", newline="") as handle:
            csv.writer(handle).writerows([header, *mine])


def run_over_hidden_sets(
    notebook: Path,
    hidden_roots: Sequence[Path],
    workdir: Path,
    *,
    table: str,
    arrays: Sequence[str],
    output_name: str,
    counts: Sequence[int],
) -> list[Path]:
    """Run `notebook` once over all `hidden_roots`' test inputs; return one output/ folder per hidden set."""
    data = combine_test_inputs(hidden_roots, workdir / "combined", table=table, arrays=arrays)
    output = run_notebook(notebook, data, workdir / "run")
    folders = [workdir / f"set-{k}" / "output" for k in range(len(hidden_roots))]
    split_output(output / output_name, counts, folders, row_ids=not table)
    return folders
