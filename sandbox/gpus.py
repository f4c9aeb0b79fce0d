"""The GPU inventory and exclusive leases: one job per whole GPU or MIG slice at a time.

A lease is an exclusive `fcntl.flock` on `<state_dir>/gpu-leases/<device>.lock`. The kernel drops the lock when
the holding process dies, however it dies, so a crashed worker never keeps a device. The file also records when
the lease ends (`lease_seconds` after it was taken): a lease still held past that is taken as stale (a hung
worker) and broken, under a mutex so two waiters cannot both break it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sandbox.jobs import GpuDevice

POLL_S = 0.2


class NoFreeGpu(Exception):
    """Every device stayed busy for as long as the job may wait."""


def parse_inventory(text: str) -> tuple[GpuDevice, ...]:
    """Read an inventory such as "T4:GPU-uuid1,T4:GPU-uuid2@1,A100 MIG 1g.10gb:MIG-uuid3" or its JSON form.

    Each item is MODEL:ID, optionally followed by @INDEX, the /dev/nvidia<INDEX> node the device lives on.
    The JSON form is a list of {"model": ..., "id": ..., "index": ...}.
    """
    text = text.strip()
    if not text:
        return ()
    if text.startswith("["):
        items = json.loads(text)
        return tuple(GpuDevice(id=str(i["id"]), model=str(i["model"]), index=i.get("index")) for i in items)
    devices = []
    for item in text.split(","):
        item = item.strip()
        model, sep, rest = item.partition(":")
        if not sep or not model.strip() or not rest.strip():
            raise ValueError(f"GPU inventory item {item!r} must look like MODEL:ID or MODEL:ID@INDEX.")
        device_id, _, index = rest.partition("@")
        devices.append(
            GpuDevice(id=device_id.strip(), model=model.strip(), index=int(index) if index.strip() else None)
        )
    ids = [d.id for d in devices]
    if len(set(ids)) != len(ids):
        raise ValueError("GPU inventory lists the same device twice.")
    return tuple(devices)


def lock_name(device: GpuDevice) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", device.id) + ".lock"


@dataclass(frozen=True)
class GpuLease:
    """An exclusive hold on one device until `release` (or the holder's death, or `expires_at`)."""

    device: GpuDevice
    fd: int
    expires_at: float

    def release(self) -> None:
        """Give the device back."""
        with contextlib.suppress(OSError):
            os.close(self.fd)


class GpuLeases:
    """Hand out exclusive leases on the configured devices."""

    def __init__(self, devices: Sequence[GpuDevice], state_dir: Path, lease_seconds: float) -> None:
        self.devices = tuple(devices)
        self.folder = Path(state_dir) / "gpu-leases"
        self.lease_seconds = lease_seconds

    def try_acquire(self) -> GpuLease | None:
        """Take the first free device now, or return None when all are busy."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for device in self.devices:
            lease = self._try_device(device)
            if lease is not None:
                return lease
        return None

    def acquire(self, wait_seconds: float) -> GpuLease:
        """Take a free device, waiting up to `wait_seconds` for one; raise NoFreeGpu otherwise."""
        if not self.devices:
            raise NoFreeGpu("This worker has no GPU configured; ask the organisers to run GPU exercises elsewhere.")
        deadline = time.monotonic() + wait_seconds
        while True:
            lease = self.try_acquire()
            if lease is not None:
                return lease
            if time.monotonic() >= deadline:
                raise NoFreeGpu(f"All {len(self.devices)} GPUs stayed busy for {wait_seconds:g} s; submit again later.")
            time.sleep(POLL_S)

    @contextlib.contextmanager
    def lease(self, wait_seconds: float) -> Iterator[GpuLease]:
        """Hold a device for the duration of the block."""
        lease = self.acquire(wait_seconds)
        try:
            yield lease
        finally:
            lease.release()

    def _try_device(self, device: GpuDevice) -> GpuLease | None:
        path = self.folder / lock_name(device)
        for _ in range(3):
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if self._break_if_stale(path):
                    continue
                return None
            # The file may have been replaced (a stale lease broken) between open and lock: lock the one on disk.
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            expires_at = time.time() + self.lease_seconds
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"pid": os.getpid(), "expires_at": expires_at}).encode(), 0)
            return GpuLease(device=device, fd=fd, expires_at=expires_at)
        return None

    def _break_if_stale(self, path: Path) -> bool:
        """Remove a lease file held past its end so the next try locks a fresh one; True when removed."""
        mutex = os.open(self.folder / ".break.mutex", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(mutex, fcntl.LOCK_EX)
            try:
                record = json.loads(path.read_text() or "{}")
            except (OSError, ValueError):
                return False
            if float(record.get("expires_at", float("inf"))) < time.time():
                path.unlink(missing_ok=True)
                return True
            return False
        finally:
            os.close(mutex)


def visible_devices_env(device: GpuDevice | None) -> dict[str, str]:
    """Return the variables that show CUDA only the leased device (and no device when there is no lease)."""
    value = device.id if device else ""
    if device is None:
        value = "none"  # an empty value means "all" to some runtimes; "none" means none to NVIDIA's
    return {"CUDA_VISIBLE_DEVICES": "" if device is None else value, "NVIDIA_VISIBLE_DEVICES": value}


def device_nodes(device: GpuDevice) -> list[Path]:
    """Return the /dev nodes a job on `device` needs and the host has: its own node and the shared control ones."""
    nodes = [Path("/dev/nvidiactl"), Path("/dev/nvidia-uvm"), Path("/dev/nvidia-uvm-tools")]
    if device.index is not None:
        nodes.insert(0, Path(f"/dev/nvidia{device.index}"))
    return [node for node in nodes if node.exists()]
