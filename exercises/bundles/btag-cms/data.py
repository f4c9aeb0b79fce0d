"""Build the jet b-tagging exercise's data: CMS-like jets as variable-length lists of tracks, b, c and light.

The jets are synthetic but carry the physics a b-tagger uses. A B hadron flies a few millimetres
before it decays (c*tau = 0.45 mm, boosted), so its 3 to 6 charged decay products miss the primary
vertex: their impact parameters are large and mostly positive (lifetime-signed: the track crosses the jet
axis downstream of the vertex), a secondary vertex of mass up to about 5 GeV is often found, and the
jet holds more tracks. A D hadron (charm) flies less (c*tau 0.1-0.3 mm) and is lighter (vertex mass
below 2 GeV), so c-jets sit in between. Light jets have only prompt tracks whose impact parameters are
resolution, with non-Gaussian tails of either sign, and now and then a K0s, Lambda or photon conversion
that makes a fake displaced vertex. The impact-parameter resolution grows at low track pT (multiple
scattering), as in the CMS tracker.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

# The training set and the public test sample come from this fixed seed, so anyone can rebuild them;
# the hidden test set comes only from the secret seed (mixed with SALT, so two exercises never share it).
PUBLIC_SEED = 20_231_121
SALT = 5_005
TRAIN_JETS = 40_000
PUBLIC_TEST_JETS = 4_000
HIDDEN_TEST_JETS = 30_000
FLAVOUR_FRACTIONS = ((5, 0.4), (4, 0.2), (0, 0.4))  # b, c, light (hadron flavour, as CMS labels jets)
MAX_TRACKS = 16  # the hardest 16 tracks of a jet are kept; rows beyond a jet's n_tracks are zeros

TRACK_FEATURES = (
    ("pt_fraction", "track pT / jet pT"),
    ("delta_eta", "track pseudorapidity minus the jet's"),
    ("delta_phi", "track azimuth minus the jet's, rad"),
    ("d0", "signed transverse impact parameter, mm (positive: the track crosses the jet axis downstream)"),
    ("d0_significance", "d0 divided by its uncertainty"),
    ("z0", "signed longitudinal impact parameter, mm"),
    ("z0_significance", "z0 divided by its uncertainty"),
)
JET_COLUMNS = ("id", "jet_pt", "jet_eta", "n_tracks", "sv_mass", "sv_flight_significance", "sv_n_tracks")


def _flavours(rng: np.random.Generator, count: int) -> np.ndarray:
    counts = [round(count * fraction) for _, fraction in FLAVOUR_FRACTIONS]
    counts[-1] = count - sum(counts[:-1])
    flavours = np.repeat([flavour for flavour, _ in FLAVOUR_FRACTIONS], counts)
    return rng.permutation(flavours).astype(np.int64)


def make_jets(rng: np.random.Generator, flavours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return jets (count, 6: pt, eta, n_tracks, sv mass, sv flight significance, sv tracks) and tracks.

    Tracks have shape (count, MAX_TRACKS, 7) in the order of TRACK_FEATURES, hardest first, zero-padded.
    """
    count = flavours.size
    is_b, is_c = flavours == 5, flavours == 4
    jet_pt = np.minimum(30.0 + rng.gamma(2.0, 35.0, count), 1000.0)
    jet_eta = rng.uniform(-2.4, 2.4, count)

    # prompt tracks from the fragmentation, more in harder jets; the heavy hadron's decay products on top
    # (the heavy hadron takes much of a heavy-flavour jet's momentum, leaving fewer fragmentation tracks)
    prompt = 1 + rng.poisson(np.where(is_b | is_c, 1.0, 1.6) + jet_pt / 50.0)
    # about 1.5 % of light jets fake a heavy-flavour decay outright: a nuclear interaction in the beam pipe or
    # the pixel layers, a gluon splitting into a close pair of tracks badly measured; no tagger removes these
    fake = ~is_b & ~is_c & (rng.random(count) < 0.015)
    decay = np.where(is_b, 1 + rng.binomial(4, 0.5, count), np.where(is_c, 1 + rng.binomial(3, 0.45, count), 0))
    decay = np.where(fake, 2 + rng.binomial(2, 0.5, count), decay)
    # now and then a K0s, a Lambda or a photon conversion gives two displaced tracks, in any jet
    v0 = np.where(rng.random(count) < 0.1, 2, 0)
    total = prompt + decay + v0
    jet_of = np.repeat(np.arange(count), total)
    position = np.arange(total.sum()) - np.repeat(np.cumsum(total) - total, total)
    kind = np.where(
        position < prompt[jet_of], 0, np.where(position < (prompt + decay)[jet_of], 1, 2)
    )  # 0 prompt, 1 heavy-flavour decay, 2 V0
    tracks = total.sum()

    # momentum: the heavy hadron carries most of a b-jet's momentum, shared among its decay products
    fraction = np.where(
        kind == 1,
        rng.gamma(3.0, 1.0, tracks) / (3.0 * np.maximum(decay[jet_of], 1)) * np.where(is_b[jet_of], 0.7, 0.5),
        rng.beta(1.0, 6.0, tracks) * 0.6,
    )
    fraction = np.clip(fraction, 1.0 / jet_pt[jet_of], 1.0)  # tracks of at least 1 GeV
    track_pt = fraction * jet_pt[jet_of]
    spread = np.where(kind == 1, 0.06, 0.12)
    delta_eta = rng.normal(0.0, 1.0, tracks) * spread
    delta_phi = rng.normal(0.0, 1.0, tracks) * spread

    # true impact parameters: about c*tau for a decay product whatever the boost, 0 for prompt tracks
    # (c*tau times the sine of the decay angle: a broad spread, many decay products close to the vertex)
    lifetime = np.where(is_b[jet_of], 0.45, np.where(is_c[jet_of], 0.25, 0.3))  # mm: B, D hadrons, fakes
    true_d0 = np.where(kind == 1, rng.exponential(1.0, tracks) * rng.uniform(0.0, 0.6, tracks) * lifetime, 0.0)
    true_d0 = np.where(kind == 2, rng.exponential(2.0, tracks), true_d0)  # V0s fly centimetres
    # lifetime sign: decay products cross the jet axis downstream, but not always; V0s point anywhere
    sign = np.where(kind == 1, np.where(rng.random(tracks) < 0.85, 1.0, -1.0), rng.choice([-1.0, 1.0], tracks))
    true_d0 *= sign
    true_z0 = true_d0 * np.abs(rng.normal(1.0, 0.4, tracks))

    # resolution: 15 micrometres at high pT, multiple scattering below; 15 % of tracks in a wider tail and
    # 3 % badly measured (a wrong hit picked up, a nuclear interaction): the light-jet mistags
    sigma_d0 = np.sqrt(0.015**2 + (0.08 / track_pt) ** 2)
    sigma_z0 = 1.6 * sigma_d0
    tail = np.select([rng.random(tracks) < 0.03, rng.random(tracks) < 0.15], [12.0, 3.5], 1.0)
    d0 = true_d0 + rng.normal(0.0, 1.0, tracks) * sigma_d0 * tail
    z0 = true_z0 + rng.normal(0.0, 1.0, tracks) * sigma_z0 * tail

    features = np.column_stack([fraction, delta_eta, delta_phi, d0, d0 / sigma_d0, z0, z0 / sigma_z0])
    # hardest first within each jet, then keep MAX_TRACKS
    order = np.lexsort((-fraction, jet_of))
    features, jet_of_sorted = features[order], jet_of[order]
    rank = position  # positions are 0..n-1 per jet and the sort keeps jets contiguous
    keep = rank < MAX_TRACKS
    padded = np.zeros((count, MAX_TRACKS, len(TRACK_FEATURES)), dtype=np.float32)
    padded[jet_of_sorted[keep], rank[keep]] = features[keep]
    n_tracks = np.minimum(total, MAX_TRACKS)

    # the secondary vertex, when the vertex finder finds one
    found = (decay >= 2) & (rng.random(count) < 0.7)
    # a V0 makes a vertex too, and badly measured tracks now and then make a fake one in any jet
    found |= ((v0 > 0) & (rng.random(count) < 0.5)) | (rng.random(count) < 0.04)
    mass = np.where(
        is_b,
        np.minimum(0.8 + 0.45 * decay * rng.uniform(0.7, 1.5, count), 5.2),
        np.where(
            is_c | fake,
            0.5 + np.where(fake, 3.0, 1.6) * rng.beta(2.0, 2.5, count),
            np.minimum(0.3 + rng.exponential(0.8, count), 6.0),
        ),
    )
    flight = 3.0 + np.where(
        is_b,
        rng.gamma(2.0, 9.0, count),
        np.where(is_c | fake, rng.gamma(2.0, 5.0, count), rng.gamma(1.5, 5.0, count)),
    )
    sv_tracks = np.where(decay >= 2, np.minimum(decay, 2 + rng.binomial(np.maximum(decay - 2, 0), 0.8)), 2)
    jets = np.column_stack(
        [
            jet_pt,
            jet_eta,
            n_tracks,
            np.where(found, mass, 0.0),
            np.where(found, flight, 0.0),
            np.where(found, sv_tracks, 0),
        ]
    )
    return jets, padded


def _write_jets(path: Path, ids: np.ndarray, jets: np.ndarray, flavours: np.ndarray | None) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*JET_COLUMNS, *(["flavour"] if flavours is not None else [])])
        for row, (jet_id, jet) in enumerate(zip(ids, jets, strict=True)):
            values = [
                int(jet_id),
                f"{jet[0]:.2f}",
                f"{jet[1]:.3f}",
                int(jet[2]),
                f"{jet[3]:.3f}",
                f"{jet[4]:.2f}",
                int(jet[5]),
            ]
            writer.writerow([*values, *([int(flavours[row])] if flavours is not None else [])])


def _half_public(rng: np.random.Generator, flavours: np.ndarray) -> np.ndarray:
    """Mark a half of each flavour as the public part, so both parts measure every rejection."""
    public = np.zeros(flavours.size, dtype=bool)
    for flavour, _ in FLAVOUR_FRACTIONS:
        rows = rng.permutation(np.flatnonzero(flavours == flavour))
        public[rows[: rows.size // 2]] = True
    return public


# Disjoint id ranges, so that a file written for one set never scores on another by accident.
TRAIN_IDS, SAMPLE_IDS, HIDDEN_IDS = (1_000_000, 4_000_000), (4_000_000, 5_000_000), (5_000_000, 10_000_000)


def _ids(rng: np.random.Generator, count: int, bounds: tuple[int, int]) -> np.ndarray:
    """Random ids within `bounds`, so that an id says nothing about a jet's flavour or its place in the set."""
    return rng.choice(np.arange(*bounds), size=count, replace=False).astype(np.int64)


def build(public_dir: Path, hidden_dir: Path, secret_seed: int) -> None:
    """Write the public training jets and test sample, the hidden test jets from the secret seed, and answers."""
    public_rng = np.random.default_rng([PUBLIC_SEED, 0])
    train_flavours = _flavours(public_rng, TRAIN_JETS)
    train_jets, train_tracks = make_jets(public_rng, train_flavours)
    train_ids = _ids(public_rng, TRAIN_JETS, TRAIN_IDS)
    sample_rng = np.random.default_rng([PUBLIC_SEED, 1])
    sample_flavours = _flavours(sample_rng, PUBLIC_TEST_JETS)
    sample_jets, sample_tracks = make_jets(sample_rng, sample_flavours)
    sample_ids = _ids(sample_rng, PUBLIC_TEST_JETS, SAMPLE_IDS)
    hidden_rng = np.random.default_rng([secret_seed, SALT])
    hidden_flavours = _flavours(hidden_rng, HIDDEN_TEST_JETS)
    hidden_jets, hidden_tracks = make_jets(hidden_rng, hidden_flavours)
    hidden_ids = _ids(hidden_rng, HIDDEN_TEST_JETS, HIDDEN_IDS)

    features_txt = (
        "# data/*_tracks.npy: float32 (jets, 16, 7), the hardest 16 tracks of each jet, zero rows after n_tracks\n"
        + "".join(f"track {name}: {meaning}\n" for name, meaning in TRACK_FEATURES)
        + "# data/*_jets.csv: one row per jet, in the order of the tracks file\n"
        + "jet id: an arbitrary number naming the jet\n"
        + "jet jet_pt: jet transverse momentum, GeV\n"
        + "jet jet_eta: jet pseudorapidity\n"
        + "jet n_tracks: number of tracks stored for the jet (at most 16)\n"
        + "jet sv_mass: mass of the secondary vertex, GeV (0 when none was found)\n"
        + "jet sv_flight_significance: 3D flight distance over its uncertainty (0 when none was found)\n"
        + "jet sv_n_tracks: tracks of the secondary vertex (0 when none was found)\n"
        + "jet flavour: training jets only: 5 = b, 4 = c, 0 = light (u, d, s, gluon)\n"
    )
    for root, test_ids, test_jets, test_tracks in (
        (public_dir, sample_ids, sample_jets, sample_tracks),
        (hidden_dir, hidden_ids, hidden_jets, hidden_tracks),
    ):
        data = Path(root) / "data"
        data.mkdir(parents=True, exist_ok=True)
        _write_jets(data / "train_jets.csv", train_ids, train_jets, train_flavours)
        np.save(data / "train_tracks.npy", train_tracks)
        _write_jets(data / "test_jets.csv", test_ids, test_jets, None)
        np.save(data / "test_tracks.npy", test_tracks)
        (data / "features.txt").write_text(features_txt)
    np.savez(
        Path(public_dir) / "answers.npz",
        ids=sample_ids,
        flavours=sample_flavours,
        public=np.ones(PUBLIC_TEST_JETS, dtype=bool),
    )
    np.savez(
        Path(hidden_dir) / "answers.npz",
        ids=hidden_ids,
        flavours=hidden_flavours,
        public=_half_public(hidden_rng, hidden_flavours),
    )
