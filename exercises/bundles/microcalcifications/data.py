"""Synthesize mammogram-like patches, some holding a cluster of microcalcifications, for the exercise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

SIZE = 64
# The training set and the public test sample come from this fixed seed, so anyone can rebuild them;
# the hidden test set comes only from the secret seed.
PUBLIC_SEED = 20_231_120
# Mixed into the secret seed so two exercises given the same secret never share a stream.
SALT = 4_004
TRAIN_COUNT = 1600
PUBLIC_TEST_COUNT = 200
HIDDEN_TEST_COUNT = 600
POSITIVE_FRACTION = 0.5


def _power_law_noise(rng: np.random.Generator, beta: float) -> np.ndarray:
    """Return zero-mean, unit-variance noise with power spectrum 1/f**beta (mammographic tissue has beta ~ 3)."""
    fy = np.fft.fftfreq(SIZE)[:, None]
    fx = np.fft.rfftfreq(SIZE)[None, :]
    radius = np.sqrt(fx**2 + fy**2)
    radius[0, 0] = 1.0
    amplitude = radius ** (-beta / 2.0)
    amplitude[0, 0] = 0.0
    spectrum = (rng.normal(size=radius.shape) + 1j * rng.normal(size=radius.shape)) * amplitude
    field = np.fft.irfft2(spectrum, s=(SIZE, SIZE))
    return (field - field.mean()) / (field.std() + 1e-12)


def _fibres(rng: np.random.Generator) -> np.ndarray:
    """Return a few gently curved strands, like ducts and Cooper's ligaments, with peak height 1."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    image = np.zeros((SIZE, SIZE))
    # Strands in one patch follow roughly the same direction, towards the nipple.
    main_angle = rng.uniform(0, np.pi)
    for _ in range(rng.integers(2, 7)):
        angle = main_angle + rng.normal(0, 0.35)
        cx, cy = rng.uniform(0, SIZE, size=2)
        # Distance from a parabola drawn in the strand's own frame.
        u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
        v = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
        v = v - rng.normal(0, 0.01) * u**2
        width = rng.uniform(0.8, 2.5)
        image += rng.uniform(0.3, 1.0) * np.exp(-0.5 * (v / width) ** 2)
    return image


def _spots(rng: np.random.Generator, count: int, centre: np.ndarray, spread: float) -> np.ndarray:
    """Return `count` tiny Gaussian spots (1-3 px across) scattered around `centre`, each of height ~1."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    image = np.zeros((SIZE, SIZE))
    for _ in range(count):
        y, x = np.clip(centre + rng.normal(0, spread, size=2), 2, SIZE - 3)
        sigma = rng.uniform(0.5, 1.1)
        height = rng.uniform(0.6, 1.0)
        image += height * np.exp(-0.5 * ((yy - y) ** 2 + (xx - x) ** 2) / sigma**2)
    return image


def make_patch(rng: np.random.Generator, with_cluster: bool) -> np.ndarray:
    """Return one 64x64 patch in [0, 1]; with a microcalcification cluster when `with_cluster`."""
    density = rng.uniform(0.0, 1.0)  # fatty (0) to dense (1) breast
    level = 0.25 + 0.35 * density
    tissue = _power_law_noise(rng, rng.uniform(2.6, 3.4))
    tissue = 0.7 * tissue + 0.3 * _fibres(rng) * rng.uniform(1.0, 2.5)
    image = level + rng.uniform(0.05, 0.11) * tissue
    # Quantum noise: the small-scale fluctuation a calcification must stand out from.
    noise_sigma = rng.uniform(0.012, 0.03)
    if with_cluster:
        centre = rng.uniform(14, SIZE - 14, size=2)
        # Contrast in units of the noise: the faint clusters are what keeps the task from being trivial.
        contrast = noise_sigma * rng.uniform(5.0, 14.0)
        image += contrast * _spots(rng, int(rng.integers(3, 9)), centre, rng.uniform(2.0, 5.0))
    elif rng.random() < 0.35:
        # An isolated calcification is benign and common: a single bright spot must not mean "cluster".
        contrast = noise_sigma * rng.uniform(5.0, 14.0)
        image += contrast * _spots(rng, 1, rng.uniform(8, SIZE - 8, size=2), 0.0)
    image += rng.normal(0, noise_sigma, size=image.shape)
    # The detector's point-spread function blurs everything a little.
    image = ndimage.gaussian_filter(image, rng.uniform(0.3, 0.5))
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def make_set(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Return `count` patches and their labels (1 = cluster present), about half of each, shuffled."""
    labels = (np.arange(count) < round(count * POSITIVE_FRACTION)).astype(np.uint8)
    rng.shuffle(labels)
    images = np.stack([make_patch(rng, bool(label)) for label in labels])
    return images, labels


def build(public_dir: Path, hidden_dir: Path, secret_seed: int) -> None:
    """Write the public data, the hidden test inputs and both answer files."""
    public_rng = np.random.default_rng([PUBLIC_SEED, 0])
    train_images, train_labels = make_set(public_rng, TRAIN_COUNT)
    public_test_images, public_test_labels = make_set(np.random.default_rng([PUBLIC_SEED, 1]), PUBLIC_TEST_COUNT)
    hidden_rng = np.random.default_rng([secret_seed, SALT])
    hidden_test_images, hidden_test_labels = make_set(hidden_rng, HIDDEN_TEST_COUNT)
    # Half of the hidden rows form the public leaderboard, the rest the private one.
    hidden_public = np.zeros(HIDDEN_TEST_COUNT, dtype=bool)
    hidden_public[hidden_rng.permutation(HIDDEN_TEST_COUNT)[: HIDDEN_TEST_COUNT // 2]] = True

    for root, test_images in ((public_dir, public_test_images), (hidden_dir, hidden_test_images)):
        data = root / "data"
        data.mkdir(parents=True, exist_ok=True)
        np.save(data / "train_images.npy", train_images)
        np.save(data / "train_labels.npy", train_labels)
        np.save(data / "test_images.npy", test_images)
    np.savez(
        public_dir / "answers.npz",
        ids=np.arange(PUBLIC_TEST_COUNT, dtype=np.int64),
        labels=public_test_labels,
        public=np.ones(PUBLIC_TEST_COUNT, dtype=bool),
    )
    np.savez(
        hidden_dir / "answers.npz",
        ids=np.arange(HIDDEN_TEST_COUNT, dtype=np.int64),
        labels=hidden_test_labels,
        public=hidden_public,
    )
