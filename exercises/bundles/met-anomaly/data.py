"""Build the met-anomaly exercise's data: CMS-like event features of normal events, and a hidden mix with anomalies.

The events are synthetic but shaped like a CMS selection: jets with falling pT spectra, a W
boson's lepton and neutrino in some events, missing transverse energy (MET) from the neutrino and
from the detector's resolution, which grows with the hadronic activity (HT). The anomalies are
invisible particles recoiling against a jet (large genuine MET) and heavy resonances decaying to
many hard jets. Features are standardized with the training set's mean and standard deviation, so
that every column weighs the same in the reconstruction loss.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PUBLIC_SEED = 20231120  # the training data is public: it comes from a fixed seed, not the secret one
TRAIN_EVENTS = 20_000
VALIDATION_EVENTS = 2_000  # a public, unlabelled mix to look at; its truth serves check runs
HIDDEN_EVENTS = 4_000
ANOMALY_FRACTION = 0.1
JET_THRESHOLD = 30.0  # GeV

FEATURES = (
    ("met", "missing transverse energy, GeV"),
    ("met_significance", "MET / sqrt(HT), sqrt(GeV)"),
    ("met_phi", "azimuth of the MET, rad"),
    ("ht", "scalar sum of jet pT, GeV"),
    ("mht", "magnitude of the vector sum of jet pT, GeV"),
    ("n_jets", "number of jets with pT > 30 GeV"),
    ("jet1_pt", "leading jet pT, GeV"),
    ("jet1_eta", "leading jet pseudorapidity"),
    ("jet1_phi", "leading jet azimuth, rad"),
    ("jet2_pt", "second jet pT, GeV"),
    ("jet2_eta", "second jet pseudorapidity"),
    ("jet2_phi", "second jet azimuth, rad"),
    ("jet3_pt", "third jet pT, GeV (0 without a third jet)"),
    ("n_leptons", "number of isolated leptons"),
    ("lepton_pt", "lepton pT, GeV (0 without a lepton)"),
    ("lepton_eta", "lepton pseudorapidity (0 without a lepton)"),
    ("mt", "transverse mass of lepton and MET, GeV (0 without a lepton)"),
    ("min_dphi_met_jets", "smallest azimuthal distance between the MET and the three leading jets, rad"),
    ("dphi_jet1_jet2", "azimuthal distance between the two leading jets, rad"),
    ("jet1_pt_fraction", "leading jet pT / HT"),
)


def _wrap(phi: np.ndarray) -> np.ndarray:
    return (phi + np.pi) % (2 * np.pi) - np.pi


def _events(rng: np.random.Generator, count: int, kind: str) -> np.ndarray:
    """Generate `count` events of one kind: "normal", "invisible" or "resonance"; return physical units."""
    max_jets = 7
    if kind == "resonance":
        n_jets = 4 + rng.poisson(1.5, count)
        lead = 150 + rng.gamma(3.0, 60.0, count)
    else:
        n_jets = 2 + rng.poisson(0.9, count)
        lead = JET_THRESHOLD + 10 + rng.gamma(2.0, 35.0, count)
    n_jets = np.minimum(n_jets, max_jets)
    pts = np.zeros((count, max_jets))
    pts[:, 0] = lead
    for j in range(1, max_jets):
        # each jet softer than the previous one: a steeply falling spectrum above threshold
        pts[:, j] = JET_THRESHOLD + (pts[:, j - 1] - JET_THRESHOLD) * rng.beta(2.0, 1.2, count)
    pts[np.arange(max_jets)[None, :] >= n_jets[:, None]] = 0.0
    etas = np.clip(rng.normal(0.0, 1.3, (count, max_jets)), -2.4, 2.4)
    phis = rng.uniform(-np.pi, np.pi, (count, max_jets))
    phis[:, 1] = _wrap(phis[:, 0] + np.pi + rng.normal(0.0, 0.35, count))  # dijets are back to back
    px, py = pts * np.cos(phis), pts * np.sin(phis)
    ht = pts.sum(axis=1)
    mht = np.hypot(px.sum(axis=1), py.sum(axis=1))

    has_lepton = (rng.random(count) < 0.35) if kind == "normal" else np.zeros(count, dtype=bool)
    lepton_pt = np.where(has_lepton, 25 + rng.gamma(2.0, 12.0, count), 0.0)
    lepton_eta = np.where(has_lepton, np.clip(rng.normal(0.0, 1.1, count), -2.4, 2.4), 0.0)
    lepton_phi = rng.uniform(-np.pi, np.pi, count)
    # the neutrino of the W: genuine MET, roughly opposite the lepton
    nu_pt = np.where(has_lepton, 10 + rng.gamma(2.0, 15.0, count), 0.0)
    nu_phi = _wrap(lepton_phi + np.pi + rng.normal(0.0, 0.8, count))
    met_x = nu_pt * np.cos(nu_phi)
    met_y = nu_pt * np.sin(nu_phi)
    if kind == "invisible":
        # a pair of invisible particles recoiling against the leading jet
        recoil = 200 + rng.gamma(2.0, 80.0, count)
        met_x += recoil * np.cos(phis[:, 0] + np.pi)
        met_y += recoil * np.sin(phis[:, 0] + np.pi)
    resolution = 0.6 * np.sqrt(ht)  # the detector's MET resolution grows like sqrt(HT)
    met_x += rng.normal(0.0, 1.0, count) * resolution
    met_y += rng.normal(0.0, 1.0, count) * resolution
    met = np.hypot(met_x, met_y)
    met_phi = np.arctan2(met_y, met_x)

    dphi = np.abs(_wrap(met_phi[:, None] - phis[:, :3]))
    dphi[:, 2] = np.where(n_jets >= 3, dphi[:, 2], np.pi)
    mt = np.where(has_lepton, np.sqrt(2 * lepton_pt * met * (1 - np.cos(lepton_phi - met_phi))), 0.0)
    return np.column_stack(
        [
            met,
            met / np.sqrt(ht),
            met_phi,
            ht,
            mht,
            n_jets,
            pts[:, 0],
            etas[:, 0],
            phis[:, 0],
            pts[:, 1],
            etas[:, 1],
            phis[:, 1],
            pts[:, 2],
            has_lepton.astype(float),
            lepton_pt,
            lepton_eta,
            mt,
            dphi.min(axis=1),
            np.abs(_wrap(phis[:, 0] - phis[:, 1])),
            pts[:, 0] / ht,
        ]
    )


def _mixture(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Return a shuffled mix of normal events and anomalies, with the anomaly flag."""
    anomalies = round(count * ANOMALY_FRACTION)
    invisible = round(anomalies * 0.7)
    events = np.vstack(
        [
            _events(rng, count - anomalies, "normal"),
            _events(rng, invisible, "invisible"),
            _events(rng, anomalies - invisible, "resonance"),
        ]
    )
    is_anomaly = np.r_[np.zeros(count - anomalies), np.ones(anomalies)].astype(np.uint8)
    order = rng.permutation(count)
    return events[order], is_anomaly[order]


def _half_public(rng: np.random.Generator, is_anomaly: np.ndarray) -> np.ndarray:
    public = np.zeros(is_anomaly.size, dtype=bool)
    for value in (0, 1):
        rows = rng.permutation(np.flatnonzero(is_anomaly == value))
        public[rows[: rows.size // 2]] = True
    return public


def build(public_dir: Path, hidden_dir: Path, secret_seed: int) -> None:
    """Write the public training data and validation mix, and the hidden events from the secret seed."""
    public_rng = np.random.default_rng(PUBLIC_SEED)
    train = _events(public_rng, TRAIN_EVENTS, "normal")
    validation, validation_truth = _mixture(public_rng, VALIDATION_EVENTS)
    mean, std = train.mean(axis=0), train.std(axis=0)
    std[std == 0] = 1.0

    def standardized(events: np.ndarray) -> np.ndarray:
        return ((events - mean) / std).astype(np.float32)

    features_txt = "# column, meaning; every column is standardized: (value - mean) / std\n" + "".join(
        f"{name}, {meaning}, mean={m:.6g}, std={s:.6g}\n"
        for (name, meaning), m, s in zip(FEATURES, mean, std, strict=True)
    )
    # Hidden events come from the secret seed only; they never enter a participant's sandbox.
    secret_rng = np.random.default_rng(secret_seed)
    hidden_events, hidden_truth = _mixture(secret_rng, HIDDEN_EVENTS)

    for side in (Path(public_dir), Path(hidden_dir)):
        data = side / "data"
        data.mkdir(parents=True, exist_ok=True)
        np.save(data / "train.npy", standardized(train))
        np.save(data / "validation.npy", standardized(validation))
        (data / "features.txt").write_text(features_txt)
    np.savez(
        Path(public_dir) / "answers.npz",
        events=standardized(validation),
        is_anomaly=validation_truth,
        public=_half_public(np.random.default_rng(PUBLIC_SEED + 1), validation_truth),
    )
    np.savez(
        Path(hidden_dir) / "answers.npz",
        events=standardized(hidden_events),
        is_anomaly=hidden_truth,
        public=_half_public(secret_rng, hidden_truth),
    )
