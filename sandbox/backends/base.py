"""The one interface every sandbox backend implements."""

from __future__ import annotations

import abc

from sandbox.jobs import Job, Result, SandboxConfig


class Backend(abc.ABC):
    """Run jobs in one kind of isolation. Subclasses live in `sandbox/backends/<name>.py` as `Backend`."""

    name: str = ""
    strength: int = 0  # higher isolates better; the default backend is the strongest available

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config

    @abc.abstractmethod
    def unavailable_reason(self) -> str | None:
        """Return why this backend cannot run here, or None when it can."""

    @abc.abstractmethod
    def run(self, job: Job) -> Result:
        """Run the job to its end within its limits; never raise for anything the job did."""

    def close(self) -> None:  # noqa: B027 - an optional hook, not a duty of every backend
        """Stop whatever the backend keeps running between jobs (a warm pool); the default keeps nothing."""

    def remove_leftovers(self, *, every: bool = False) -> list[str]:
        """Remove sandboxes that dead workers left running and that have outlived any job (`every`: all of them).

        Return their names. The default has nothing to remove: bwrap and process jobs die with their worker.
        """
        return []
