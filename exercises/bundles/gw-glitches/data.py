"""Build the glitch-classification exercise's data: spectrograms of transient noise in a gravitational-wave detector.

Each case is a normalized-energy time-frequency map, like the Q-transform Gravity Spy shows volunteers:
2 seconds around an event on the horizontal axis, 10 Hz to 2 kHz on a logarithmic vertical axis (row 0
is the lowest frequency). The background is detector noise after whitening: exponentially distributed
energy (a chi-square with 2 degrees of freedom, as for a whitened Gaussian signal), coloured by an
imperfect whitening that leaves a random tilt and slow wander across frequency. On top sits one glitch of
a family with its characteristic shape, at a loudness (SNR) drawn over a wide range, so some are plain and
some barely stand out:

- blip: a short (about 10 ms) broadband, symmetric teardrop from about 30 to 500 Hz;
- whistle: a narrow line sweeping fast through hundreds of Hz in a V or an inverted V (radio-frequency beats);
- scattered_light: stacked arches below about 100 Hz, repeating through the window (light scattered by
  moving surfaces, modulated by ground motion);
- koi_fish: a loud blip with a wide head at low frequency and a tail up to the kHz (the shape of its name);
- low_frequency_burst: a hump of a few tenths of a second below about 50 Hz;
- power_line: a steady narrow line at 50 Hz (Virgo's mains, Europe) or a harmonic, across the window;
- none_of_the_above: something else: blobs of random size, place and aspect, or short chirps upward.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SIZE = 32  # pixels along time and along frequency
DURATION = 2.0  # seconds across the map
LOW_HZ, HIGH_HZ = 10.0, 2048.0
CLASSES = (
    "blip",
    "whistle",
    "scattered_light",
    "koi_fish",
    "low_frequency_burst",
    "power_line",
    "none_of_the_above",
)
PUBLIC_SEED = 20_231_122
SALT = 6_006
TRAIN_PER_CLASS = 400
PUBLIC_TEST_PER_CLASS = 60
HIDDEN_TEST_PER_CLASS = 200

_TIME = np.linspace(-DURATION / 2, DURATION / 2, SIZE)[None, :]  # seconds, one column per time bin
_LOG_F = np.linspace(np.log10(LOW_HZ), np.log10(HIGH_HZ), SIZE)[:, None]  # log10(Hz), one row per frequency


def _row_of(hz: float | np.ndarray) -> float | np.ndarray:
    """Return the (fractional) row of a frequency in Hz."""
    return (np.log10(hz) - np.log10(LOW_HZ)) / (np.log10(HIGH_HZ) - np.log10(LOW_HZ)) * (SIZE - 1)


def _blob(t0: float, f0_hz: float, t_width: float, log_f_width: float) -> np.ndarray:
    return np.exp(-0.5 * ((_TIME - t0) / t_width) ** 2 - 0.5 * ((_LOG_F - np.log10(f0_hz)) / log_f_width) ** 2)


def _line(freq_hz_of_time: np.ndarray, log_f_width: float) -> np.ndarray:
    """Return a narrow ridge following a frequency that changes with time (one value per column)."""
    return np.exp(-0.5 * ((_LOG_F - np.log10(freq_hz_of_time)[None, :]) / log_f_width) ** 2)


def glitch(rng: np.random.Generator, family: str) -> np.ndarray:
    """Return the shape of one glitch of `family`, peak height 1, as a (SIZE, SIZE) map (row 0: lowest frequency)."""
    t0 = rng.uniform(-0.25, 0.25)  # events are centred, give or take the trigger's jitter
    if family == "blip":
        f0 = 10 ** rng.uniform(np.log10(60), np.log10(200))
        shape = _blob(t0, f0, rng.uniform(0.02, 0.04), rng.uniform(0.35, 0.5))
    elif family == "koi_fish":
        head = _blob(t0, 10 ** rng.uniform(np.log10(30), np.log10(60)), rng.uniform(0.07, 0.12), 0.3)
        tail = _blob(t0, 10 ** rng.uniform(np.log10(200), np.log10(500)), rng.uniform(0.025, 0.04), 0.45)
        shape = np.maximum(head, 0.8 * tail)
    elif family == "whistle":
        centre = 10 ** rng.uniform(np.log10(300), np.log10(1200))
        depth = rng.uniform(0.15, 0.35)  # in log10(Hz)
        half = rng.uniform(0.15, 0.4)  # seconds from the turning point to either end
        curve = np.clip(np.abs(_TIME[0] - t0) / half, 0, 1.5) ** 2
        direction = rng.choice([-1.0, 1.0])
        freq = centre * 10 ** (direction * depth * (curve - 0.5))
        shape = _line(freq, 0.03) * (np.abs(_TIME[0] - t0) < 1.3 * half)[None, :]
    elif family == "scattered_light":
        period = rng.uniform(0.3, 0.7)  # seconds between arches: half the period of the ground motion
        top = 10 ** rng.uniform(np.log10(25), np.log10(80))
        phase = rng.uniform(0, period)
        arch = np.abs(np.sin(np.pi * (_TIME[0] - phase) / period))
        shape = np.zeros((SIZE, SIZE))
        for harmonic in range(1, int(rng.integers(1, 4)) + 1):
            shape = np.maximum(shape, _line(np.maximum(top * harmonic * arch, LOW_HZ * 0.9), 0.05) / harmonic**0.5)
    elif family == "low_frequency_burst":
        shape = _blob(t0, 10 ** rng.uniform(np.log10(14), np.log10(35)), rng.uniform(0.1, 0.25), rng.uniform(0.12, 0.2))
    elif family == "power_line":
        freq = 50.0 * int(rng.choice([1, 1, 1, 2, 3]))
        shape = _line(np.full(SIZE, freq), 0.02) * (0.8 + 0.2 * np.cos(2 * np.pi * _TIME / rng.uniform(0.5, 2.0)))
    elif family == "none_of_the_above":
        if rng.random() < 0.5:  # a blob of random aspect somewhere
            shape = _blob(
                rng.uniform(-0.7, 0.7),
                10 ** rng.uniform(np.log10(60), np.log10(1500)),
                rng.uniform(0.1, 0.5),
                rng.uniform(0.05, 0.15),
            )
        else:  # a short chirp upward, like a compact binary's last cycles (or an injection)
            end = rng.uniform(0.0, 0.6)
            start = end - rng.uniform(0.4, 0.9)
            progress = np.clip((_TIME[0] - start) / (end - start), 0, 1)
            freq = 10 ** (np.log10(40) + progress**3 * rng.uniform(0.8, 1.4))
            shape = _line(freq, 0.05) * ((_TIME[0] > start) & (_TIME[0] < end))[None, :]
    else:
        raise ValueError(f"unknown glitch family {family!r}")
    return shape / max(float(shape.max()), 1e-9)


def spectrogram(rng: np.random.Generator, family: str) -> np.ndarray:
    """Return one normalized-energy map (SIZE, SIZE), float32, row 0 the lowest frequency."""
    # imperfect whitening: a random tilt across frequency and a slow wander along it
    colour = (
        1.0
        + rng.normal(0, 0.15) * (_LOG_F - _LOG_F.mean())
        + 0.1 * np.sin(rng.uniform(1, 4) * _LOG_F + rng.uniform(0, 2 * np.pi))
    )
    noise = rng.exponential(1.0, (SIZE, SIZE)) * np.clip(colour, 0.5, 1.6)
    low, high = (15.0, 60.0) if family == "koi_fish" else (4.0, 40.0)  # koi fish are loud by definition
    snr = 10 ** rng.uniform(np.log10(low), np.log10(high))
    energy = noise + (snr**2 / 25.0) * glitch(rng, family)  # normalized energy grows like SNR squared
    return energy.astype(np.float32)


def make_set(rng: np.random.Generator, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """Return `per_class` maps of each family, shuffled, and their class numbers (positions in CLASSES)."""
    labels = rng.permutation(np.repeat(np.arange(len(CLASSES)), per_class)).astype(np.int64)
    images = np.stack([spectrogram(rng, CLASSES[label]) for label in labels])
    return images, labels


def _half_public(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """Mark a half of each class as the public part, so that both parts hold every family."""
    public = np.zeros(labels.size, dtype=bool)
    for value in range(len(CLASSES)):
        rows = rng.permutation(np.flatnonzero(labels == value))
        public[rows[: rows.size // 2]] = True
    return public


def build(public_dir: Path, hidden_dir: Path, secret_seed: int) -> None:
    """Write the public training maps and test sample, the hidden test maps from the secret seed, and answers."""
    train_images, train_labels = make_set(np.random.default_rng([PUBLIC_SEED, 0]), TRAIN_PER_CLASS)
    sample_images, sample_labels = make_set(np.random.default_rng([PUBLIC_SEED, 1]), PUBLIC_TEST_PER_CLASS)
    hidden_rng = np.random.default_rng([secret_seed, SALT])
    hidden_images, hidden_labels = make_set(hidden_rng, HIDDEN_TEST_PER_CLASS)
    classes = np.array(CLASSES)
    for root, test_images in ((public_dir, sample_images), (hidden_dir, hidden_images)):
        data = Path(root) / "data"
        data.mkdir(parents=True, exist_ok=True)
        np.save(data / "train_images.npy", train_images)
        np.save(data / "train_labels.npy", train_labels)
        np.save(data / "test_images.npy", test_images)
        (data / "classes.txt").write_text("".join(f"{name}\n" for name in CLASSES))
    np.savez(
        Path(public_dir) / "answers.npz",
        ids=np.arange(sample_labels.size, dtype=np.int64),
        labels=sample_labels,
        classes=classes,
        public=np.ones(sample_labels.size, dtype=bool),
    )
    np.savez(
        Path(hidden_dir) / "answers.npz",
        ids=np.arange(hidden_labels.size, dtype=np.int64),
        labels=hidden_labels,
        classes=classes,
        public=_half_public(hidden_rng, hidden_labels),
    )
