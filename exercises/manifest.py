"""Read and validate an exercise's manifest.toml against one schema whose errors name the bad field."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from exercises.errors import InvalidManifest
from exercises.kinds import KINDS
from exercises.metrics import METRICS

TECHNOLOGIES = ("CNN", "U-Net", "autoencoder", "LSTM", "DeepSets", "GNN", "transformer", "BDT", "MLP")
TOOLS = ("Keras/TensorFlow", "PyTorch", "scikit-learn")
LEVELS = ("base", "advanced")
# Every primary metric some registered output kind is scored by, in the registry's order (each kind says which).
PRIMARY_METRICS = tuple(dict.fromkeys(metric for kind in KINDS.values() for metric in kind.metrics))
MAX_MANIFEST_BYTES = 256 * 1024

_text = {"type": "string", "minLength": 1}
_names = {"type": "array", "items": _text, "uniqueItems": True}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "slug",
        "title",
        "summary",
        "description",
        "levels",
        "labels",
        "metric",
        "output",
        "resources",
        "target",
        "authors",
    ],
    "properties": {
        "slug": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 64},
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "summary": {"type": "string", "minLength": 1, "maxLength": 300},
        "description": _text,
        "levels": {"type": "array", "items": {"enum": list(LEVELS)}, "minItems": 1, "uniqueItems": True},
        "labels": {
            "type": "object",
            "additionalProperties": False,
            "required": ["technology", "field", "tool"],
            "properties": {
                "technology": {
                    "type": "array",
                    "items": {"enum": list(TECHNOLOGIES)},
                    "minItems": 1,
                    "uniqueItems": True,
                },
                "field": {**_names, "minItems": 1},
                "tool": {"type": "array", "items": {"enum": list(TOOLS)}, "minItems": 1, "uniqueItems": True},
            },
        },
        "metric": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "direction"],
            "properties": {
                "name": {"enum": list(PRIMARY_METRICS)},
                "direction": {"enum": ["higher", "lower"]},
                "display_name": {"type": "string", "minLength": 1, "maxLength": 80},
                "secondary": {"type": "array", "items": {"enum": sorted(METRICS)}, "uniqueItems": True},
            },
        },
        "output": {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind"],
            "properties": {"kind": {"enum": list(KINDS)}},
        },
        "resources": {
            "type": "object",
            "additionalProperties": False,
            "required": ["device", "wall_seconds", "memory_mb"],
            "properties": {
                "device": {"enum": ["cpu", "gpu"]},
                "gpu_preferred": {"type": "boolean"},
                "wall_seconds": {"type": "integer", "minimum": 10, "maximum": 6 * 3600},
                "memory_mb": {"type": "integer", "minimum": 128, "maximum": 256 * 1024},
                "processes": {"type": "integer", "minimum": 8, "maximum": 4096},
                "cpus": {"type": "number", "exclusiveMinimum": 0, "maximum": 64},
            },
        },
        "target": {
            "type": "object",
            "additionalProperties": False,
            "required": ["reference", "baseline"],
            "properties": {"reference": {"type": "number"}, "baseline": {"type": "number"}},
        },
        "authors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": _text,
                    "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
                    "affiliation": {"type": "string"},
                },
            },
        },
    },
}

_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


@dataclass(frozen=True)
class Labels:
    """Where the exercise sits in the institute's knowledge base."""

    technology: tuple[str, ...]
    field: tuple[str, ...]
    tool: tuple[str, ...]


@dataclass(frozen=True)
class MetricSpec:
    """How submissions are ranked."""

    name: str
    direction: str
    secondary: tuple[str, ...] = ()
    display_name: str = ""  # what pages call it; the metric's own label when the manifest names none


@dataclass(frozen=True)
class Output:
    """What a participant's notebook must write to output/."""

    kind: str  # a name in exercises.kinds.KINDS: scores_csv, masks_npy, autoencoder, btag_scores_csv, probabilities_csv


@dataclass(frozen=True)
class Resources:
    """What one run of a participant's notebook may use."""

    device: str
    gpu_preferred: bool
    wall_seconds: int
    memory_mb: int
    processes: int
    cpus: float


@dataclass(frozen=True)
class Target:
    """The scores the exercise page promises: the reference solution's and the trivial baseline's."""

    reference: float
    baseline: float


@dataclass(frozen=True)
class Author:
    """Who wrote the exercise."""

    name: str
    email: str = ""
    affiliation: str = ""


@dataclass(frozen=True)
class Manifest:
    """An exercise's description, labels, metric, output contract and resources."""

    slug: str
    title: str
    summary: str
    description: str
    levels: tuple[str, ...]
    labels: Labels
    metric: MetricSpec
    output: Output
    resources: Resources
    target: Target
    authors: tuple[Author, ...]


def _field_of(error: jsonschema.ValidationError) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required":
        missing = next(name for name in error.validator_value if name not in error.instance)
        path.append(missing)
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extra = sorted(name for name in error.instance if name not in known)
        path.append(extra[0])
    return ".".join(path) or "manifest"


def _problem_of(error: jsonschema.ValidationError) -> str:
    kind, value = error.validator, error.validator_value
    if kind == "required":
        return "is required"
    if kind == "additionalProperties":
        return "is not a known field; check its spelling"
    if kind == "enum":
        return "must be one of " + ", ".join(str(v) for v in value)
    if kind == "type":
        return f"must be {'an' if value[0] in 'aeiou' else 'a'} {value}"
    if kind == "pattern":
        return f"does not have the expected form ({value})"
    if kind in ("minLength", "minItems"):
        return "must not be empty"
    if kind in ("maxLength",):
        return f"must be at most {value} characters long"
    if kind == "uniqueItems":
        return "must not repeat an entry"
    if kind in ("minimum", "exclusiveMinimum"):
        return f"must be greater than {'or equal to ' if kind == 'minimum' else ''}{value}"
    if kind == "maximum":
        return f"must be at most {value}"
    return error.message


def _check_consistency(data: dict[str, Any]) -> None:
    metric, kind = data["metric"]["name"], KINDS[data["output"]["kind"]]
    if metric not in kind.metrics:
        raise InvalidManifest("metric.name", f"must be {' or '.join(kind.metrics)} for output kind {kind.name}")
    direction = METRICS[metric].direction
    if data["metric"]["direction"] != direction:
        raise InvalidManifest("metric.direction", f"must be {direction} for {metric}")
    reference, baseline = data["target"]["reference"], data["target"]["baseline"]
    if (reference <= baseline) if direction == "higher" else (reference >= baseline):
        raise InvalidManifest("target.reference", f"must be better ({direction}) than target.baseline")
    if data["resources"]["device"] == "gpu" and data["resources"].get("gpu_preferred", False):
        raise InvalidManifest("resources.gpu_preferred", 'only applies to device = "cpu"')


def parse_manifest(data: dict[str, Any]) -> Manifest:
    """Validate a parsed manifest and return it as a Manifest; raise InvalidManifest naming the bad field."""
    if not isinstance(data, dict):
        raise InvalidManifest("manifest", "must be a TOML table of fields")
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(data))
    if error is not None:
        raise InvalidManifest(_field_of(error), _problem_of(error))
    _check_consistency(data)
    labels, metric, resources, target = data["labels"], data["metric"], data["resources"], data["target"]
    return Manifest(
        slug=data["slug"],
        title=data["title"],
        summary=data["summary"],
        description=data["description"],
        levels=tuple(data["levels"]),
        labels=Labels(tuple(labels["technology"]), tuple(labels["field"]), tuple(labels["tool"])),
        metric=MetricSpec(
            metric["name"],
            metric["direction"],
            tuple(metric.get("secondary", ())),
            metric.get("display_name") or METRICS[metric["name"]].label,
        ),
        output=Output(data["output"]["kind"]),
        resources=Resources(
            device=resources["device"],
            gpu_preferred=resources.get("gpu_preferred", False),
            wall_seconds=resources["wall_seconds"],
            memory_mb=resources["memory_mb"],
            processes=resources.get("processes", 256),
            cpus=float(resources.get("cpus", 1.0)),
        ),
        target=Target(float(target["reference"]), float(target["baseline"])),
        authors=tuple(Author(a["name"], a.get("email", ""), a.get("affiliation", "")) for a in data["authors"]),
    )


def load_manifest(path: Path) -> Manifest:
    """Read `manifest.toml` at `path`, validate and return it; raise InvalidManifest naming the bad field."""
    path = Path(path)
    if not path.is_file():
        raise InvalidManifest("manifest.toml", f"is missing from {path.parent.name}/; add one")
    raw = path.read_bytes()
    if len(raw) > MAX_MANIFEST_BYTES:
        raise InvalidManifest("manifest.toml", f"is larger than {MAX_MANIFEST_BYTES // 1024} KiB")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InvalidManifest("manifest.toml", f"is not valid TOML ({error}); fix the syntax") from None
    except RecursionError:  # tomllib recurses per nested array or table: thousands of brackets exhaust it
        raise InvalidManifest("manifest.toml", "nests arrays or tables too deeply; fix the syntax") from None
    return parse_manifest(data)
