"""The runtime a job ran on, as a fingerprint: runtime lock hash or image, Python, key packages, GPU and driver."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sandbox.backends.base import Backend
from sandbox.jobs import GpuDevice, SandboxConfig

# The packages whose versions change scores; others only count through the lock hash.
KEY_PACKAGES = ("numpy", "scipy", "scikit-learn", "pandas", "tensorflow", "keras", "torch")
PROBE_SECONDS = 60.0
# Run by the runtime's own interpreter: importlib.metadata reads the installed distributions without importing them
# (TensorFlow alone takes 7 s to import), and the hash over every `name==version` is the runtime's pip freeze.
PROBE = """
import hashlib, json, platform, sys
from importlib import metadata
installed = sorted({f"{(d.metadata['Name'] or '?').lower()}=={d.version}" for d in metadata.distributions()})
packages = {}
for name in sys.argv[1:]:
    try:
        packages[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        pass
print(json.dumps({
    "python": platform.python_version(),
    "lock_hash": hashlib.sha256("\\n".join(installed).encode()).hexdigest(),
    "packages": packages,
    "paths": [p for p in sys.path if p],
}))
"""
NVIDIA_VERSION_FILE = Path("/proc/driver/nvidia/version")
DRIVER_VERSION = re.compile(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+(?:\.\d+)+)")
# What describe_change names, in this order, and how.
COMPARED = (
    ("backend", "sandbox backend"),
    ("image_id", "runtime image"),
    ("lock_hash", "runtime lock"),
    ("python", "Python"),
    ("gpu_model", "GPU"),
    ("gpu_driver", "GPU driver"),
)


@dataclass(frozen=True)
class RuntimeFingerprint:
    """What a job ran on. `lock_hash` is the sha256 of the runtime's installed `name==version` list (pip freeze).

    `image` and `image_id` are set for container backends (the image's id is its digest); `gpu_model` and
    `gpu_driver` only for a job that held a GPU. Empty strings where a value is unknown.
    """

    backend: str
    runtime: str
    python: str = ""
    lock_hash: str = ""
    packages: Mapping[str, str] = field(default_factory=dict)
    image: str = ""
    image_id: str = ""
    gpu_model: str = ""
    gpu_driver: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return the fingerprint as JSON-ready data."""
        data = asdict(self)
        data["packages"] = dict(self.packages)
        return data


_lock = threading.Lock()
_python_probes: dict[str, tuple[tuple[tuple[str, int], ...], dict[str, Any]]] = {}
_image_probes: dict[str, dict[str, Any]] = {}
_driver: list[str] = []


def _mtimes(paths: list[str]) -> tuple[tuple[str, int], ...]:
    """Return each path's modification time: installing or removing a package changes its site-packages folder's."""
    stamps = []
    for path in paths:
        try:
            stamps.append((path, os.stat(path).st_mtime_ns))
        except OSError:
            stamps.append((path, -1))
    return tuple(stamps)


def probe_python(python: Path) -> dict[str, Any]:
    """Return the Python version, lock hash and key package versions of the interpreter `python`.

    Asked once per interpreter and cached until a folder on its path changes (a package installed or removed).
    Raises OSError or subprocess.SubprocessError when the interpreter cannot run.
    """
    key = str(Path(python).absolute())
    with _lock:
        cached = _python_probes.get(key)
    if cached is not None and _mtimes([path for path, _ in cached[0]]) == cached[0]:
        return cached[1]
    out = subprocess.run(
        [key, "-I", "-c", PROBE, *KEY_PACKAGES], capture_output=True, text=True, timeout=PROBE_SECONDS, check=True
    ).stdout
    probed = json.loads(out)
    result = {name: probed[name] for name in ("python", "lock_hash", "packages")}
    with _lock:
        _python_probes[key] = (_mtimes(list(probed["paths"])), result)
    return result


def probe_image(client: Any, image: str) -> dict[str, Any]:
    """Return the image's tag, id (its content digest), and the Python and packages installed in it.

    The packages are read by one short container without network per image id, cached for the worker's life:
    an image id names its content, so it cannot change under the cache.
    """
    found = client.images.get(image)
    result: dict[str, Any] = {"image": image, "image_id": str(found.id)}
    with _lock:
        cached = _image_probes.get(result["image_id"])
    if cached is None:
        command = ["python", "-I", "-c", PROBE, *KEY_PACKAGES]
        raw = client.containers.run(image, command, network_mode="none", remove=True)
        probed = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        cached = {name: probed[name] for name in ("python", "lock_hash", "packages")}
        with _lock:
            _image_probes[result["image_id"]] = cached
    return {**result, **cached}


def gpu_driver_version() -> str:
    """Return the NVIDIA driver's version on this host, or "" when there is none (read once per process)."""
    with _lock:
        if _driver:
            return _driver[0]
    version = ""
    try:
        match = DRIVER_VERSION.search(NVIDIA_VERSION_FILE.read_text())
        version = match.group(1) if match else ""
    except OSError:
        pass
    if not version:
        try:
            version = (
                subprocess.run(
                    ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                    capture_output=True,
                    text=True,
                    timeout=30,
                    check=True,
                )
                .stdout.splitlines()[0]
                .strip()
            )
        except (OSError, subprocess.SubprocessError, IndexError):
            version = ""
    with _lock:
        _driver[:] = [version]
    return version


def gpu_model_of(device_id: str | None, gpus: tuple[GpuDevice, ...]) -> str:
    """Return the model of the inventory's device `device_id`, or "" for none."""
    if not device_id:
        return ""
    return next((gpu.model for gpu in gpus if gpu.id == device_id), "unknown GPU")


def fingerprint(backend: Backend, *, runtime: str, config: SandboxConfig, gpu_device: str | None) -> RuntimeFingerprint:
    """Return the fingerprint of a job of `runtime` that `backend` ran holding `gpu_device` (or no GPU).

    Never raises: a value that cannot be found is left empty, since the job's result matters more than its label.
    """
    backend_name = backend.name
    probed: dict[str, Any] = {}
    try:
        if backend_name == "docker":
            probed = probe_image(getattr(backend, "client"), config.docker_images[runtime])  # noqa: B009
        elif backend_name == "kubernetes":
            probed = {"image": config.docker_images.get(runtime, "")}
        elif (python := config.runtime_python.get(runtime)) is not None:
            probed = probe_python(Path(python))
    except Exception:  # noqa: BLE001 - a runtime that cannot be probed still ran the job
        probed = {}
    model = gpu_model_of(gpu_device, config.gpus)
    return RuntimeFingerprint(
        backend=backend_name,
        runtime=runtime,
        python=str(probed.get("python", "")),
        lock_hash=str(probed.get("lock_hash", "")),
        packages=dict(probed.get("packages", {})),
        image=str(probed.get("image", "")),
        image_id=str(probed.get("image_id", "")),
        gpu_model=model,
        gpu_driver=gpu_driver_version() if model else "",
    )


def _short(name: str, value: str) -> str:
    if name in ("lock_hash", "image_id"):
        return value.removeprefix("sha256:")[:12] or "none"
    return value or "none"


def describe_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str:
    """Say in words what differs between two fingerprints (as_dict() data), or "" when nothing known does.

    A value missing from either side (an older run that recorded none) is not a difference.
    """
    if not old or not new:
        return ""
    changes = []
    for name, label in COMPARED:
        before, after = str(old.get(name) or ""), str(new.get(name) or "")
        if before and after and before != after:
            changes.append(f"{label} {_short(name, before)} → {_short(name, after)}")
    old_packages, new_packages = old.get("packages") or {}, new.get("packages") or {}
    for package in sorted(set(old_packages) | set(new_packages)):
        before, after = old_packages.get(package, "absent"), new_packages.get(package, "absent")
        if before != after:
            changes.append(f"{package} {before} → {after}")
    return "; ".join(changes)
