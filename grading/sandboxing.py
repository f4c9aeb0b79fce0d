"""The bridge from the site's settings to the plain sandbox package: its configuration and job limits."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings

import sandbox
from exercises.models import Exercise
from sandbox.backends import kubernetes
from sandbox.fingerprints import probe_python
from sandbox.gpus import parse_inventory

MiB = 1024 * 1024
logger = logging.getLogger(__name__)
# What a warm sandbox of each runtime imports before its job arrives. "keras" is the CPU interpreter with
# TensorFlow loaded (about 7 s of every cold start of a Keras exercise); "gpu" the same on a GPU worker.
WARM_IMPORTS = {
    "cpu": ("numpy", "pandas", "sklearn"),
    "keras": ("numpy", "pandas", "sklearn", "tensorflow", "keras"),
    "gpu": ("numpy", "pandas", "sklearn", "tensorflow", "keras"),
}
KERAS_TOOL = "Keras/TensorFlow"  # the catalog's tool label of the exercises solved with Keras


def sandbox_config(backend: str | None = None) -> sandbox.SandboxConfig:
    """Return the sandbox configuration from the settings (cheap: built on each use, so tests can change it).

    `backend` is the backend about to be used, when the caller names one other than SANDBOX_BACKEND.
    """
    runtime_python = Path(settings.SANDBOX_RUNTIME_PYTHON)
    if not runtime_python.exists():
        runtime_python = Path(sys.executable)
    docker_images = {
        "cpu": settings.SANDBOX_DOCKER_IMAGE_CPU,
        "keras": settings.SANDBOX_DOCKER_IMAGE_CPU,
        "gpu": settings.SANDBOX_DOCKER_IMAGE_GPU,
    }
    return sandbox.SandboxConfig(
        state_dir=Path(settings.SANDBOX_STATE_DIR),
        runtime_python={runtime: runtime_python for runtime in WARM_IMPORTS},
        docker_images=docker_images,
        gpus=parse_inventory(settings.SANDBOX_GPUS) if settings.SANDBOX_GPUS else (),
        warm_pool_size=settings.SANDBOX_WARM_POOL,
        warm_imports=WARM_IMPORTS,
        allow_process_backend=settings.SANDBOX_ALLOW_PROCESS,
        cluster=cluster_options(docker_images) if (backend or settings.SANDBOX_BACKEND) == kubernetes.NAME else None,
    )


def cluster_options(images: dict[str, str]) -> sandbox.ClusterOptions | None:
    """Return the cluster of the kubernetes backend from the SANDBOX_KUBERNETES_* settings.

    None while the shared volume is not named (SANDBOX_KUBERNETES_CLAIM and SANDBOX_KUBERNETES_SHARED_PATH): the
    backend then refuses to run and says which settings to give.
    """
    if not (settings.SANDBOX_KUBERNETES_CLAIM and settings.SANDBOX_KUBERNETES_SHARED_PATH):
        return None
    return sandbox.ClusterOptions(
        namespace=settings.SANDBOX_KUBERNETES_NAMESPACE or kubernetes.in_cluster_namespace() or "default",
        claim=settings.SANDBOX_KUBERNETES_CLAIM,
        shared_path=Path(settings.SANDBOX_KUBERNETES_SHARED_PATH),
        images=images,
        gpu_resource=settings.SANDBOX_KUBERNETES_GPU_RESOURCE,
        gpu_node_selector=settings.SANDBOX_KUBERNETES_GPU_NODE_SELECTOR,
        runtime_class=settings.SANDBOX_KUBERNETES_RUNTIME_CLASS or None,
        schedule_seconds=settings.SANDBOX_KUBERNETES_SCHEDULE_SECONDS,
        files_group=settings.SANDBOX_KUBERNETES_FILES_GROUP or None,
    )


def sandbox_backend(name: str | None = None) -> sandbox.Backend:
    """Return the backend named here or in SANDBOX_BACKEND, else the strongest one available."""
    return sandbox.get_backend(name or settings.SANDBOX_BACKEND or None, sandbox_config(name))


def run_in_sandbox(job: sandbox.Job) -> sandbox.Result:
    """Run one job on this worker's sandbox backend (for the exercise floor's builds and scoring steps)."""
    return sandbox.run_job(job, sandbox_config(), sandbox_backend())


def job_limits(exercise: Exercise) -> sandbox.Limits:
    """Return the limits of one run of the exercise's notebook, from its manifest."""
    return sandbox.Limits(
        wall_seconds=float(exercise.wall_seconds),
        cell_seconds=float(exercise.wall_seconds),
        memory_bytes=exercise.memory_mb * MiB,
        processes=exercise.processes,
        cpus=exercise.cpus,
    )


def runtime_of(exercise: Exercise, *, gpu: bool) -> str:
    """Return the runtime a run of the exercise's notebook uses: `gpu`, `keras` (TensorFlow warm) or `cpu`."""
    if gpu:
        return "gpu"
    if exercise.labels.filter(dimension="tool", name=KERAS_TOOL).exists():
        return "keras"
    return "cpu"


def warm_up() -> dict[str, sandbox.Limits]:
    """Start warming sandboxes for the exercises that run now or within a day; return what each runtime got.

    Called when a worker process starts, so that the first participant finds a warm sandbox rather than
    paying for the imports. Per runtime the pool warms for the limits most exercises of that runtime use
    (a sandbox fits only jobs with its own limits); a job with other limits re-warms the pool for its own.
    """
    from django.utils import timezone

    from hackathon.models import EventExercise

    backend = sandbox_backend()
    pool = getattr(backend, "warm_pool", None)
    if pool is None or backend.unavailable_reason() is not None:
        return {}
    now = timezone.now()
    soon = EventExercise.objects.filter(closes_at__gt=now, opens_at__lt=now + dt.timedelta(days=1))
    exercises = [row.exercise for row in soon.select_related("exercise")] or list(
        Exercise.objects.filter(published=True, device=Exercise.Device.CPU)
    )
    chosen: dict[str, Counter[sandbox.Limits]] = {}
    for exercise in exercises:
        chosen.setdefault(runtime_of(exercise, gpu=needs_gpu(exercise)), Counter())[job_limits(exercise)] += 1
    warmed = {}
    for runtime, counts in chosen.items():
        if runtime == "gpu":
            continue  # GPU jobs take a lease first and always start cold
        limits = counts.most_common(1)[0][0]
        pool.prepare(runtime, limits)
        warmed[runtime] = limits
    if warmed:
        logger.info("Warming sandboxes for %s", ", ".join(sorted(warmed)))
        probe_runtimes(backend.name, sorted(warmed))
    return warmed


def probe_runtimes(backend_name: str, runtimes: Iterable[str]) -> threading.Thread | None:
    """Start fingerprinting the interpreters of `runtimes` in a daemon thread; return it, or None if none to probe.

    Every scored run records its runtime's fingerprint (grading.fingerprints), and the first probe of an
    interpreter runs it once (0.4-0.8 s, then cached: sandbox.fingerprints.probe_python): done at worker start,
    the first participant's score does not wait for it. Only the local backends run an interpreter of
    SANDBOX_RUNTIME_PYTHON; a thread, since Celery gives a starting worker process 4 s.
    """
    if backend_name in ("docker", kubernetes.NAME):  # an image, probed by sandbox.fingerprints itself
        return None
    pythons = sandbox_config().runtime_python
    interpreters = list(dict.fromkeys(pythons[runtime] for runtime in runtimes if runtime in pythons))
    if not interpreters:
        return None

    def probe() -> None:
        for python in interpreters:
            try:
                probe_python(python)
            except Exception:  # noqa: BLE001 - the grading probes again, and says nothing worse than before
                logger.warning("Could not fingerprint the runtime %s at start", python, exc_info=True)

    thread = threading.Thread(target=probe, name="probe-runtimes", daemon=True)
    thread.start()
    return thread


def needs_gpu(exercise: Exercise) -> bool:
    """A GPU-bound exercise takes a GPU lease; a GPU-preferred one takes one when this worker has GPUs."""
    return exercise.device == Exercise.Device.GPU or (exercise.gpu_preferred and bool(sandbox_config().gpus))


def remove_leftover_sandboxes() -> list[str]:
    """Remove the sandboxes that outlived their job on this worker's host; return their names.

    Every sandbox worker runs this at its start and then every SANDBOX_CLEANUP_SECONDS, through
    `start_leftover_cleanup`; an operator may run it once with `grading.tasks.remove_leftover_sandboxes_task`.

    A worker killed in the middle of a job cannot remove that job's container, which keeps its memory, nor (bwrap,
    process) its control groups, nor (kubernetes) its job folders on the shared volume. Each container, job folder and
    Kubernetes Job knows when it has surely outlived its job (sandbox.backends.docker, sandbox.backends.kubernetes)
    and each group which worker made it (sandbox.cgroups), so no running job is touched.
    """
    backend = sandbox_backend()
    if backend.unavailable_reason() is not None:
        return []
    removed = backend.remove_leftovers()
    if removed:
        logger.warning("Removed %d sandboxes left by dead workers: %s", len(removed), ", ".join(removed))
    return removed


# The queues whose workers run sandboxes: each such worker cleans its own host (start_leftover_cleanup). The upkeep
# worker consumes neither and has no engine, sandbox host or API token to clean.
SANDBOX_QUEUES = frozenset({"cpu", "gpu"})
CLEANUP_LOCK_NAME = "leftover-cleanup.lock"


def runs_sandboxes(queues: Iterable[str]) -> bool:
    """Whether a worker consuming these queue names runs sandboxes (it consumes `cpu` or `gpu`)."""
    return not SANDBOX_QUEUES.isdisjoint(queues)


def clean_up_this_host() -> list[str] | None:
    """Run one `remove_leftover_sandboxes` unless another worker of this host is running one; never raise.

    "This host" is everything sharing SANDBOX_STATE_DIR: the workers of one machine (compose's worker-cpu and
    worker-gpu mount the same folder) take turns through an exclusive, non-blocking lock on a file there. Return the
    names removed, or None when another cleanup held the lock or this one failed (the failure is logged with its
    traceback, and the next round tries again).
    """
    try:
        with _host_turn() as turn:
            if not turn:
                logger.info("Another worker of this host is removing the leftover sandboxes; skipped this round")
                return None
            return remove_leftover_sandboxes()
    except Exception:  # noqa: BLE001 - a failed round is logged; the worker grades on and the next round runs
        logger.exception("Could not remove the leftover sandboxes of this host")
        return None


@contextlib.contextmanager
def _host_turn() -> Iterator[bool]:
    """Hold this host's cleanup lock for the block; yield False when another process holds it.

    Where the lock file cannot be made (a read-only state folder), yield True: cleaning twice at once removes
    nothing twice (a second removal of the same sandbox only fails and is logged), cleaning never would leak.
    """
    lock_path = sandbox_config().state_dir / CLEANUP_LOCK_NAME
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock_file = lock_path.open("a")
    except OSError:
        logger.warning("Cannot open %s; cleaning up without taking turns", lock_path, exc_info=True)
        yield True
        return
    with lock_file:  # closing it releases the lock
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def start_leftover_cleanup(every_s: float, stop: threading.Event) -> threading.Thread:
    """Start a daemon thread that runs `clean_up_this_host` now and then every `every_s` seconds until `stop` is set.

    Independent of beat, of the broker and of the worker's event loop: a worker on any host, whatever queue it
    consumes, cleans that host while it runs, and a slow engine or API never holds up its consumer. The backends
    remove only what is past its expiry or whose maker is dead (never `every`), so the live jobs of this worker and
    of any other worker on the host are not touched.
    """

    def loop() -> None:
        while not stop.is_set():
            clean_up_this_host()
            stop.wait(every_s)

    thread = threading.Thread(target=loop, name="remove-leftover-sandboxes", daemon=True)
    thread.start()
    return thread
