"""Synthesize chest X-ray-like images and their lung masks for the segmentation exercise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

SIZE = 128
# The training set and the public test sample come from this fixed seed, so anyone can rebuild them;
# the hidden test set comes only from the secret seed.
PUBLIC_SEED = 20_231_123
# Mixed into the secret seed so two exercises given the same secret never share a stream.
SALT = 1_001
TRAIN_COUNT = 256
PUBLIC_TEST_COUNT = 32
HIDDEN_TEST_COUNT = 96

_YY, _XX = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)


def _smooth_noise(rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Return zero-mean, unit-variance noise smoothed over `sigma` pixels."""
    field = ndimage.gaussian_filter(rng.normal(size=(SIZE, SIZE)), sigma)
    return (field - field.mean()) / (field.std() + 1e-12)


def _lung(rng: np.random.Generator, side: int, centre_y: float) -> np.ndarray:
    """Return the boolean field of one lung; `side` is -1 for the image's left half, +1 for its right."""
    cx = SIZE / 2 + side * rng.uniform(21, 29)
    cy = centre_y + rng.normal(0, 2)
    half_width = rng.uniform(13, 19)
    half_height = rng.uniform(28, 38)
    # Work on the lung's bounding box only: the field is cheaper and the rest is no lung anyway.
    rows = slice(max(int(cy - 1.3 * half_height), 0), min(int(cy + 1.3 * half_height) + 1, SIZE))
    columns = slice(max(int(cx - 1.8 * half_width), 0), min(int(cx + 1.8 * half_width) + 1, SIZE))
    dy = (_YY[rows, columns] - cy) / half_height
    # Lungs widen towards the diaphragm and have a narrow apex.
    width = half_width * (1.0 + rng.uniform(0.15, 0.35) * dy)
    dx = (_XX[rows, columns] - cx) / np.maximum(width, 1.0)
    angle = np.arctan2(dy, dx)
    # A few low harmonics make every outline different without making it implausible.
    radius = 1.0 + sum(rng.uniform(0.0, 0.07) * np.cos(k * angle + rng.uniform(0, 2 * np.pi)) for k in (2, 3, 4))
    # A rounder apex (p = 2) over a squarer base, where the costophrenic angle is sharp.
    shape = np.where(dy < 0, np.hypot(dx, dy), (np.abs(dx) ** 3 + np.abs(dy) ** 3) ** (1 / 3))
    lung = np.zeros((SIZE, SIZE), dtype=bool)
    lung[rows, columns] = shape <= radius
    return lung


def _ribs(rng: np.random.Generator, top: float) -> np.ndarray:
    """Return bright curved bands running from the spine outwards and downwards on both sides."""
    spacing = rng.uniform(8.5, 11)
    width = rng.uniform(1.4, 2.4)
    lateral = np.abs(_XX - SIZE / 2)
    # Every rib follows the same curve, shifted down by one spacing: the distance to the nearest rib
    # comes from one modulo instead of one band per rib.
    along = _YY - top - 0.45 * lateral + 0.004 * lateral**2
    index = np.floor(along / spacing + 0.5)
    offset = along - index * spacing
    ribs = np.exp(-0.5 * (offset / width) ** 2) * ((index >= 0) & (index < 8) & (lateral > 5) & (lateral < 60))
    # The clavicles cross the top of the lungs almost horizontally.
    clavicle = top - 6 + 0.12 * lateral + rng.normal(0, 1.5)
    ribs += 1.4 * np.exp(-0.5 * ((_YY - clavicle) / 2.6) ** 2) * ((lateral > 3) & (lateral < 45))
    return ribs


def make_case(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return one 128x128 radiograph in [0, 1] and its lung mask (uint8 0/1, never empty)."""
    centre_y = rng.uniform(56, 66)
    body_cx = SIZE / 2 + rng.normal(0, 2)
    power = rng.uniform(2.5, 4.0)
    body_shape = (np.abs(_XX - body_cx) / rng.uniform(54, 62)) ** power + (
        np.abs(_YY - centre_y - 12) / rng.uniform(64, 74)
    ) ** power
    body = ndimage.gaussian_filter((body_shape <= 1.0).astype(np.float64), 2.0)

    lungs = _lung(rng, -1, centre_y) | _lung(rng, +1, centre_y)
    # The heart hides the lower inner part of the lung on the image's right (the patient's left).
    heart = (
        ((_XX - SIZE / 2 - rng.uniform(6, 12)) / rng.uniform(20, 26)) ** 2
        + ((_YY - centre_y - rng.uniform(20, 26)) / rng.uniform(15, 19)) ** 2
    ) <= 1.0
    spine = np.abs(_XX - body_cx) < rng.uniform(5, 8)
    lungs &= ~heart & ~spine
    mask = lungs.astype(np.uint8)

    tissue = rng.uniform(0.5, 0.65)
    image = body * tissue * (1.0 + 0.08 * _smooth_noise(rng, 12))
    # Air in the lungs lets X-rays through: the fields are dark, with soft edges and vessel texture.
    depth = rng.uniform(0.3, 0.55) * tissue
    fields = ndimage.gaussian_filter(lungs.astype(np.float64), rng.uniform(1.0, 2.2))
    vessels = np.clip(_smooth_noise(rng, 1.5), 0, None) * rng.uniform(0.02, 0.05)
    image -= fields * (depth - vessels)
    image += body * rng.uniform(0.08, 0.15) * ndimage.gaussian_filter(spine.astype(np.float64), 2)
    image += body * rng.uniform(0.05, 0.11) * _ribs(rng, centre_y - rng.uniform(26, 32))
    # Exposure and detector response differ from one radiograph to the next.
    image = np.clip(image, 0.0, None) ** rng.uniform(0.8, 1.25) * rng.uniform(0.85, 1.15)
    image += rng.uniform(0.01, 0.035) * rng.normal(size=image.shape)
    image = ndimage.gaussian_filter(image, 0.6)
    return np.clip(image, 0.0, 1.0).astype(np.float32), mask


def make_set(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Return `count` radiographs (float32) and their lung masks (uint8)."""
    cases = [make_case(rng) for _ in range(count)]
    return np.stack([c[0] for c in cases]), np.stack([c[1] for c in cases])


def build(public_dir: Path, hidden_dir: Path, secret_seed: int) -> None:
    """Write the public data, the hidden test inputs and both answer files."""
    train_images, train_masks = make_set(np.random.default_rng([PUBLIC_SEED, 0]), TRAIN_COUNT)
    public_test_images, public_test_masks = make_set(np.random.default_rng([PUBLIC_SEED, 1]), PUBLIC_TEST_COUNT)
    hidden_rng = np.random.default_rng([secret_seed, SALT])
    hidden_test_images, hidden_test_masks = make_set(hidden_rng, HIDDEN_TEST_COUNT)
    # Half of the hidden images form the public leaderboard, the rest the private one.
    hidden_public = np.zeros(HIDDEN_TEST_COUNT, dtype=bool)
    hidden_public[hidden_rng.permutation(HIDDEN_TEST_COUNT)[: HIDDEN_TEST_COUNT // 2]] = True

    for root, test_images in ((public_dir, public_test_images), (hidden_dir, hidden_test_images)):
        data = root / "data"
        data.mkdir(parents=True, exist_ok=True)
        np.save(data / "train_images.npy", train_images)
        np.save(data / "train_masks.npy", train_masks)
        np.save(data / "test_images.npy", test_images)
    np.savez(public_dir / "answers.npz", masks=public_test_masks, public=np.ones(PUBLIC_TEST_COUNT, dtype=bool))
    np.savez(hidden_dir / "answers.npz", masks=hidden_test_masks, public=hidden_public)
