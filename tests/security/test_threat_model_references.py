"""Every test that docs/security.md names exists: the threat model cannot point at a test that was renamed away."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?(?:::([\w*]+))?`")


def named_tests() -> list[tuple[str, str | None]]:
    """Return (file, test) pairs in the order named; `::name` alone belongs to the file named before it."""
    pairs, current = [], None
    for match in REFERENCE.finditer((ROOT / "docs" / "security.md").read_text()):
        path, name = match.groups()
        if path:
            current = path
        if current and (path or name):
            pairs.append((current, name))
    return pairs


def test_every_test_file_and_test_the_threat_model_names_exists():
    missing = []
    for path, name in named_tests():
        source = ROOT / path
        if not source.is_file():
            missing.append(path)
        elif name and f"def {name}(" not in source.read_text():
            missing.append(f"{path}::{name}")
    assert not missing, missing
    assert len(named_tests()) > 40
