"""The values that cross the sandbox boundary: a job, its limits, the configuration and the result."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
GiB = 1024 * MiB


class Outcome(enum.StrEnum):
    """How a job ended, from the point of view of the code it ran."""

    OK = "ok"
    ERROR = "error"  # the code raised; failed_cell and traceback say where
    TIMEOUT = "timeout"
    MEMORY = "memory"
    PROCESSES = "processes"
    OUTPUT = "output"  # flooded stdout/stderr past the capture limit
    DISK = "disk"  # filled its writable folders
    INFRASTRUCTURE = "infrastructure"  # the sandbox itself failed: not the participant's fault


@dataclass(frozen=True)
class Limits:
    """Resource limits of one job; every field is enforced by each backend."""

    wall_seconds: float = 600.0
    cell_seconds: float = 300.0
    memory_bytes: int = 2 * GiB  # swap is held equal to memory: no swap beyond it
    processes: int = 256
    output_bytes: int = 1 * MiB  # captured log; more than this is an `output` flood
    cell_output_bytes: int = 64 * 1024  # each output kept in the executed notebook is cut here
    notebook_bytes: int = 2 * MiB  # all outputs kept in the executed notebook together; later ones become a note
    disk_bytes: int = 512 * MiB  # output/ and /tmp together
    cpus: float = 1.0
    output_files: int = 10_000  # entries (files, folders, links) in output/; more is a `disk` outcome


@dataclass(frozen=True)
class Mount:
    """A host folder shown read-only to the job at `<workdir>/<name>` (for example `data`)."""

    source: Path
    name: str


@dataclass(frozen=True)
class Job:
    """One untrusted run: a notebook or a command, with read-only inputs and one writable `output/`.

    The job's working directory holds each mount by name and `output/`. Exactly one of
    `notebook` and `command` is given. The notebook runs on the runtime's kernel whatever
    its metadata says.
    """

    output_dir: Path
    mounts: tuple[Mount, ...] = ()
    notebook: Path | None = None
    command: tuple[str, ...] | None = None
    limits: Limits = field(default_factory=Limits)
    gpu: bool = False
    runtime: str = "cpu"
    env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.notebook is None) == (self.command is None):
            raise ValueError("A job runs either a notebook or a command, not both and not neither.")
        names = [m.name for m in self.mounts]
        if "output" in names or len(set(names)) != len(names):
            raise ValueError("Mount names must be unique and must not be 'output'.")


@dataclass(frozen=True)
class GpuDevice:
    """One schedulable accelerator: a whole GPU or a MIG slice."""

    id: str  # what the container runtime or CUDA_VISIBLE_DEVICES takes: an index, a GPU-UUID or MIG-UUID
    model: str  # e.g. "T4", "A100 MIG 1g.10gb"
    index: int | None = None  # the /dev/nvidia<index> node holding it, shown to bwrap jobs when known


@dataclass(frozen=True)
class ClusterOptions:
    """Where and how the kubernetes backend starts jobs in the cluster (`SandboxConfig.cluster`)."""

    namespace: str
    claim: str  # the ReadWriteMany PersistentVolumeClaim the worker and the jobs share
    shared_path: Path  # where this worker mounts that claim
    images: Mapping[str, str] = field(default_factory=dict)  # runtime -> image; else ml-infn/runtime-<runtime>
    gpu_resource: str = "nvidia.com/gpu"  # or a MIG slice, e.g. nvidia.com/mig-1g.10gb
    gpu_node_selector: Mapping[str, str] = field(default_factory=dict)
    runtime_class: str | None = None  # e.g. gvisor or kata, where the cluster offers one
    schedule_seconds: float = 300.0  # how long a job may wait for a node (and its image) before it is given up
    # The gid the worker and every job pod carry (supplementalGroups) and each job's output/ is setgid to, so the
    # worker can remove what a job of another uid wrote; None: none, output/ is 0777 and the worker may be unable to.
    files_group: int | None = None
    poll_seconds: float = 2.0

    def image_for(self, runtime: str) -> str:
        """Return the image of a runtime (`cpu`, `keras`, `gpu`)."""
        return self.images.get(runtime) or f"ml-infn/runtime-{runtime}:latest"


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a backend needs from its host, handed in by the caller (the sandbox reads no settings)."""

    state_dir: Path  # scratch space of the sandbox layer: leases, warm pool, staging
    runtime_python: Mapping[str, Path] = field(default_factory=dict)  # runtime name -> interpreter (bwrap, process)
    docker_images: Mapping[str, str] = field(default_factory=dict)  # runtime name -> image tag (docker)
    gpus: tuple[GpuDevice, ...] = ()
    lease_seconds: float = 3600.0
    warm_pool_size: int = 0
    warm_imports: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # runtime -> modules to preload
    allow_process_backend: bool = False  # the unsandboxed backend must be switched on by name
    gpu_wait_seconds: float = 120.0  # how long a GPU job waits for a free device before giving up
    cluster: ClusterOptions | None = None  # the kubernetes backend's cluster; None: that backend refuses to run


@dataclass(frozen=True)
class Result:
    """What happened to a job. `executed_notebook` is nbformat JSON with outputs capped."""

    outcome: Outcome
    duration_s: float
    message: str  # one sentence a participant understands, saying what to do next
    log: str = ""
    log_truncated: bool = False
    peak_memory_bytes: int | None = None
    executed_notebook: dict[str, Any] | None = None
    failed_cell: int | None = None  # index in the notebook's cell list
    traceback: str | None = None
    gpu_device: str | None = None
    backend: str = ""
    warm: bool = False  # ran in a sandbox of the warm pool, its kernel started before the job arrived

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK
