"""Tie each run to its environment: record the runtime fingerprint and say when a re-score ran on another one."""

from __future__ import annotations

import logging
from typing import Any

import sandbox
from grading.models import AuditEntry
from sandbox.fingerprints import describe_change, fingerprint

logger = logging.getLogger(__name__)


def runtime_fingerprint(
    backend: sandbox.Backend, job: sandbox.Job, result: sandbox.Result, config: sandbox.SandboxConfig
) -> dict[str, Any]:
    """Return the fingerprint of the runtime that ran `job` (JSON data), or {} when the sandbox never started it."""
    if result.outcome is sandbox.Outcome.INFRASTRUCTURE:
        return {}
    return fingerprint(backend, runtime=job.runtime, config=config, gpu_device=result.gpu_device).as_dict()


def note_rescore_runtime(submission_id: int, new: dict[str, Any]) -> str:
    """After a run of a re-scored submission ends, write on its re-score audit entry what differs in the runtime.

    Returns the sentence written ("" when the runtime is the same, or the submission was never re-scored).
    """
    entry = (
        AuditEntry.objects.filter(submission_id=submission_id, action=AuditEntry.Action.RESCORE)
        .order_by("-at", "-id")
        .first()
    )
    if entry is None or entry.old_fingerprint is None:
        return ""
    change = describe_change(entry.old_fingerprint, new)
    if change:
        AuditEntry.objects.filter(pk=entry.pk).update(runtime_change=f"Ran on a different runtime: {change}.")
        logger.warning("Submission %s was re-scored on a different runtime: %s", submission_id, change)
    return change
