"""Build the breast-cancer exercise's data: a training table, a public test sample and the hidden test set."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer

PUBLIC_SAMPLE_ROWS = 56  # about 10% of the 569 patients: inputs public, truth kept for check runs
HIDDEN_ROWS = 170  # about 30%: the hidden test set, half public board and half private


def _column_names(names: list[str]) -> list[str]:
    return [name.replace(" ", "_") for name in names]


def _stratified_take(rng: np.random.Generator, labels: np.ndarray, pool: np.ndarray, count: int) -> np.ndarray:
    """Take `count` rows of `pool` keeping the class balance of the pool."""
    taken = []
    for value in (0, 1):
        rows = pool[labels[pool] == value]
        share = round(count * rows.size / pool.size)
        taken.append(rng.permutation(rows)[:share])
    return np.sort(np.concatenate(taken))


def _half_public(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """Mark a stratified half of the rows as the public part, so both parts hold both classes."""
    public = np.zeros(labels.size, dtype=bool)
    for value in (0, 1):
        rows = rng.permutation(np.flatnonzero(labels == value))
        public[rows[: rows.size // 2]] = True
    return public


def _write_table(path: Path, header: list[str], rows: np.ndarray, first: np.ndarray, first_name: str) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([first_name, *header] if first_name == "id" else [*header, first_name])
        for lead, row in zip(first, rows, strict=True):
            values = [repr(float(v)) for v in row]
            writer.writerow([int(lead), *values] if first_name == "id" else [*values, int(lead)])


def build(public_dir: Path, hidden_dir: Path, secret_seed: int) -> None:
    """Split the data set by the secret seed and write data/ and answers.npz for both sides."""
    dataset = load_breast_cancer()
    features = dataset.data.astype(np.float64)
    # scikit-learn codes malignant as 0; the exercise asks for the probability of malignancy
    labels = (dataset.target == 0).astype(np.uint8)
    columns = _column_names(list(dataset.feature_names))
    rng = np.random.default_rng(secret_seed)

    everyone = np.arange(labels.size)
    hidden = _stratified_take(rng, labels, everyone, HIDDEN_ROWS)
    rest = np.setdiff1d(everyone, hidden)
    sample = _stratified_take(rng, labels, rest, PUBLIC_SAMPLE_ROWS)
    train = rng.permutation(np.setdiff1d(rest, sample))

    # random ids, so an id says nothing about the row of scikit-learn's table it came from
    ids = rng.choice(np.arange(100_000, 1_000_000), size=hidden.size + sample.size, replace=False)
    hidden_ids, sample_ids = ids[: hidden.size], ids[hidden.size :]
    hidden, sample = rng.permutation(hidden), rng.permutation(sample)

    for side, test_rows, test_ids in ((public_dir, sample, sample_ids), (hidden_dir, hidden, hidden_ids)):
        data = Path(side) / "data"
        data.mkdir(parents=True, exist_ok=True)
        _write_table(data / "train.csv", columns, features[train], labels[train], "label")
        _write_table(data / "test.csv", columns, features[test_rows], test_ids, "id")
        np.savez(
            Path(side) / "answers.npz",
            ids=test_ids.astype(np.int64),
            labels=labels[test_rows],
            public=_half_public(rng, labels[test_rows]),
        )
