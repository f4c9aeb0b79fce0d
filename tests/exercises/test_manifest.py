"""The manifest validator: one schema, and every refusal names the bad field."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from exercises.bundles import builtin_bundle
from exercises.errors import InvalidManifest
from exercises.manifest import load_manifest, parse_manifest
from sandbox.errors import UserFacingError

BREAST_CANCER = builtin_bundle("breast-cancer").path / "manifest.toml"


def valid() -> dict[str, Any]:
    return tomllib.loads(BREAST_CANCER.read_text())


def changed(path: str, value: Any) -> dict[str, Any]:
    """Return a valid manifest with the dotted field `path` set to `value` (or removed, for ...)."""
    data = copy.deepcopy(valid())
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return data


def test_a_shipped_manifest_loads_into_frozen_values() -> None:
    manifest = load_manifest(BREAST_CANCER)
    assert manifest.slug == "breast-cancer" and manifest.levels == ("base",)
    assert manifest.metric.name == "roc_auc" and manifest.output.kind == "scores_csv"
    assert manifest.resources.device == "cpu" and manifest.target.baseline == 0.5
    with pytest.raises(AttributeError):
        manifest.slug = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("metric.direction", "up", "metric.direction: must be one of higher, lower"),
        ("metric.name", "accuracy", "metric.name: must be one of"),
        ("metric.secondary", ["nonsense"], "metric.secondary.0: must be one of"),
        ("output.kind", "pickle", "output.kind: must be one of scores_csv, masks_npy, autoencoder"),
        ("levels", ["expert"], "levels.0: must be one of base, advanced"),
        ("levels", [], "levels: must not be empty"),
        ("labels.technology", ["SVM"], "labels.technology.0: must be one of CNN"),
        ("labels.tool", ["Excel"], "labels.tool.0: must be one of"),
        ("resources.wall_seconds", "ten", "resources.wall_seconds: must be an integer"),
        ("resources.memory_mb", 1, "resources.memory_mb: must be greater than or equal to 128"),
        ("resources.device", "tpu", "resources.device: must be one of cpu, gpu"),
        ("slug", "Breast Cancer", "slug: does not have the expected form"),
        ("title", ..., "title: is required"),
        ("target.reference", ..., "target.reference: is required"),
        ("colour", "blue", "colour: is not a known field"),
        ("metric.weight", 2, "metric.weight: is not a known field"),
        ("authors.0.email", "not an address", "authors.0.email: does not have the expected form"),
    ],
)
def test_a_bad_field_is_named_in_the_message(field: str, value: Any, message: str) -> None:
    with pytest.raises(InvalidManifest) as refused:
        parse_manifest(changed(field, value))
    assert str(refused.value).startswith(message)
    assert isinstance(refused.value, UserFacingError)


def test_a_metric_must_suit_the_output_kind() -> None:
    data = changed("output.kind", "masks_npy")
    with pytest.raises(InvalidManifest, match="metric.name: must be dice for output kind masks_npy"):
        parse_manifest(data)


def test_the_direction_must_be_the_metrics_own() -> None:
    with pytest.raises(InvalidManifest, match="metric.direction: must be higher for roc_auc"):
        parse_manifest(changed("metric.direction", "lower"))


def test_the_reference_target_must_beat_the_baseline() -> None:
    with pytest.raises(InvalidManifest, match="target.reference: must be better"):
        parse_manifest(changed("target.reference", 0.4))


def test_a_manifest_that_is_not_toml_is_refused_with_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "manifest.toml"
    path.write_text('slug = "x\n')
    with pytest.raises(InvalidManifest, match="manifest.toml: is not valid TOML"):
        load_manifest(path)


def test_a_missing_manifest_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidManifest, match="manifest.toml: is missing"):
        load_manifest(tmp_path / "manifest.toml")
