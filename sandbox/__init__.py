"""Run one untrusted notebook or command in isolation and report what happened (no Django here)."""

from sandbox.jobs import Job, Limits, Mount, Outcome, Result, SandboxConfig

__all__ = ["Job", "Limits", "Mount", "Outcome", "Result", "SandboxConfig"]
