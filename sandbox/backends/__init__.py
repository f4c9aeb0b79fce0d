"""The sandbox backends, one module each, chosen by name or by strength."""

from __future__ import annotations

import importlib

from sandbox.backends.base import Backend
from sandbox.jobs import SandboxConfig

# Strongest first: the default is the first that can run here. "kubernetes" comes last and is opt-in: it
# refuses to run unless SANDBOX_BACKEND names it, so a worker never sends jobs to a cluster by accident.
KNOWN = ("docker", "bwrap", "process", "kubernetes")


def load(name: str, config: SandboxConfig) -> Backend:
    """Import `sandbox.backends.<name>` only now, so a missing docker module or engine breaks no other backend."""
    if name not in KNOWN:
        raise ValueError(f"Unknown sandbox backend {name!r}; the known backends are: {', '.join(KNOWN)}.")
    module = importlib.import_module(f"sandbox.backends.{name}")
    backend: Backend = module.Backend(config)
    return backend


def get_backend(name: str | None, config: SandboxConfig) -> Backend:
    """Return the named backend, or with None the strongest that can run here (docker > bwrap > process).

    A named backend is returned even when it cannot run; its `run` then reports `infrastructure`.
    """
    if name is not None:
        return load(name, config)
    reasons = []
    for candidate in KNOWN:
        try:
            backend = load(candidate, config)
        except ImportError as exc:
            reasons.append(f"{candidate}: {exc}")
            continue
        reason = backend.unavailable_reason()
        if reason is None:
            return backend
        reasons.append(f"{candidate}: {reason}")
    raise RuntimeError("No sandbox backend can run on this host. " + " ".join(reasons))
