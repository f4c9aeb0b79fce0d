"""Tie each run to its environment: the fingerprint of the runtime a job ran on, as stored on its result."""

from __future__ import annotations

from typing import Any

import sandbox
from sandbox.fingerprints import fingerprint


def runtime_fingerprint(
    backend: sandbox.Backend, job: sandbox.Job, result: sandbox.Result, config: sandbox.SandboxConfig
) -> dict[str, Any]:
    """Return the fingerprint of the runtime that ran `job` (JSON data), or {} when the sandbox never started it."""
    if result.outcome is sandbox.Outcome.INFRASTRUCTURE:
        return {}
    return fingerprint(backend, runtime=job.runtime, config=config, gpu_device=result.gpu_device).as_dict()
