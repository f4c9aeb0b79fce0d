"""The Kubernetes backend: each job as a locked-down Kubernetes Job in the cluster, through the official client.

Opt-in only: it is never the default. `unavailable_reason` refuses unless its host hands it a cluster
(`SandboxConfig.cluster`, which the grading layer fills from the SANDBOX_KUBERNETES_* settings only when
SANDBOX_BACKEND=kubernetes names this backend and the shared volume is named) and an in-cluster or kube config loads.

How a job gets its files (docs/scaling.md, "Kubernetes"): the worker and every sandbox pod mount one
ReadWriteMany volume (a PersistentVolumeClaim on NFS or CephFS), the worker at SHARED_PATH. For each job the
worker stages a folder `sandbox-jobs/<id>/` on it: the notebook, any mount that does not already lie on the
volume, and an empty `output/`. The runner package is published once per version to `sandbox-runner/<digest>/`.
The pod mounts each of them by subPath: the runner at /opt/ml-infn/sandbox, data and the notebook read-only
under /job, and only `output/` writable. /job itself is a memory-backed emptyDir of `disk_bytes` (for /tmp and
HOME), so, as with docker, the memory limit is `memory_bytes + disk_bytes`. The worker watches the staged
output/ while the job runs and ends the job when it holds more than allowed, then copies regular files and
folders (no links, no devices) back to the job's `output_dir`.

The pod: uid 10001 (and the files group below as its supplementary group), non-root, read-only root filesystem, no
privilege escalation, all capabilities dropped, RuntimeDefault seccomp, no service-account token, no service links,
the label `ml-infn.sandbox/network: none` that the NetworkPolicy in deploy/k8s/base/sandbox-networkpolicy.yaml
selects to deny all ingress and egress, requests equal to limits (Guaranteed QoS), `activeDeadlineSeconds` for the
wall clock, `backoffLimit: 0` (the grading layer decides about retries) and `ttlSecondsAfterFinished` as a backstop
for the deletion the backend does itself. The runner reports on its stdout, i.e. the pod's log, which the
participant's kernel cannot write.

With `warm_pool_size > 0`, CPU notebook jobs run in pods started before them (`PodPool`, at the end of this
module): a cold job's Job for the limits they warm for, plus a stage folder of their own mounted read-only, a
deadline that covers their idle wait, and a runner that warms the kernel and waits for its request; one job each.

Leftovers of a killed worker: its Jobs end by their own deadline and `ttlSecondsAfterFinished` removes them, and
its `sandbox-jobs/<id>/` folders stay. Each folder records when it has surely outlived its job or pool pod (the
file EXPIRES_NAME) and each Job the same instant (the annotation EXPIRES_ANNOTATION), as docker's containers carry
their expiry label; `Backend.remove_leftovers`, called by the periodic cleanup, removes only what is past it and,
for a folder, whose Job no longer runs, so no live worker's job or waiting pod is touched, whichever worker made it.

Who may remove what a job wrote (the worker runs as uid 10000, the job as UID, on one volume): with
`files_group` (SANDBOX_KUBERNETES_FILES_GROUP, 10002 in deploy/k8s), the worker and each job pod carry that gid
in `supplementalGroups`, and the worker makes each job's output/ its own with that group, mode 2770, so
everything the job creates below it inherits the group. The runner (`--share-output`, sandbox.runner) sets umask
0o007 and, when the run ends, gives the group rwX on every file and folder the job's uid owns under output/, so a
notebook that chmodded a folder 0500 or changed its umask still leaves it removable by the worker. Known limit:
a runner killed before that pass (the pod's deadline, the OOM killer, a notebook that kills it) leaves modes the
notebook chose; the worker then logs "could not remove" with the folder and the periodic cleanup counts them
(at most `output_bytes` of files per such job, as the output watch ends a job past it; deploy/k8s/README.md says
how an operator removes them). Why a group and not a shared uid or fsGroup: a shared uid would let a job write
the worker's own files (the runner copy, other jobs' stages); `fsGroup` on the job pod would make the kubelet
chown and chmod g+rw the whole claim (where it manages ownership, e.g. some CSI drivers), the runner copy
included. Only output/ is group-writable: job folders, stages, staged notebooks and the runner copy are 0755/0644
and the worker's, mounted read-only; a job mounts only its own output/, so the group reaches no other job's.

Per-job process limits do not exist in Kubernetes: set the kubelet's `podPidsLimit` on sandbox nodes
(docs/operations.md). The runner still reports a fork that fails with EAGAIN as `processes`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import shutil
import stat
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox import warm
from sandbox.backends import base, host
from sandbox.jobs import ClusterOptions, Job, Limits, Outcome, Result, SandboxConfig
from sandbox.runner import MESSAGES, limits_to_json, read_report
from sandbox.trees import remove_tree

log = logging.getLogger(__name__)

NAME = "kubernetes"
APP_LABEL = "ml-infn-sandbox"
JOB_LABEL = "ml-infn.sandbox/job"
NETWORK_LABEL = "ml-infn.sandbox/network"  # the NetworkPolicy denies all traffic to and from pods with "none"
POOL_LABEL = "ml-infn.sandbox/pool"  # on a warm pool's Jobs: the runtime they were warmed for
CONTAINER = "job"
UID = 10001  # the runtime image's `participant`
WORKDIR = "/job"
HOME = f"{WORKDIR}/.home"
TMP = f"{WORKDIR}/.tmp"
RUNNER_ROOT = "/opt/ml-infn"
RUNTIME_PATH = "/opt/runtime/bin:/usr/local/bin:/usr/bin:/bin"
JOBS_FOLDER = "sandbox-jobs"
RUNNER_FOLDER = "sandbox-runner"
WALL_GRACE_S = base.WALL_GRACE_S
TTL_AFTER_FINISHED_S = 300
# When (Unix seconds) a job's folder and Job have surely outlived their job, or their pool pod and its job: written
# into the folder (EXPIRES_NAME, beside output/, where the job cannot write) and onto the Job (the annotation) when
# they are made. It adds to the longest the worker watches (a node's wait, the wall clock or a pool pod's deadline,
# the backstop) LEFTOVER_MARGIN_S for reading the log and copying output/ back. A folder without the file (made by
# an older worker, or in the instant before it is written) counts from its mtime and UNMARKED_LIFETIME_S.
EXPIRES_NAME = ".expires"
EXPIRES_MAX_DIGITS = 20  # an expiry longer, or not ASCII digits, is none this backend wrote: it is ignored
EXPIRES_ANNOTATION = "ml-infn.sandbox/expires"
LEFTOVER_MARGIN_S = 600
UNMARKED_LIFETIME_S = 24 * 3600
PREPARE = f'mkdir -p {TMP} {HOME} && exec "$@"'  # the emptyDir at /job starts empty
# A warm pool's pod (PodPool): its stage folder on the shared volume, read-only, where a job's inputs and request
# arrive; the file its runner creates in output/ when its kernel is warm (the log is read only after the pod ends);
# and what its Job's deadline adds to the wall clock besides warm.POOL_IDLE_S: the hand-over, the worker's own
# backstop (WALL_GRACE_S), reading the log and copying output/ back.
POOL_STAGE = f"{WORKDIR}/.stage"
READY_NAME = ".warm-ready"
POOL_MARGIN_S = 120
# Waiting reasons that never resolve by waiting: the job cannot start, and it is not the participant's fault.
STUCK_REASONS = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError"}
)


@dataclass(frozen=True)
class Staging:
    """A job's folder on the shared volume and the subPaths its pod mounts."""

    folder: Path  # on the worker, under shared_path
    output: Path  # the staged output/, copied back to the job's output_dir at the end
    runner_subpath: str
    notebook_subpath: str | None
    notebook_name: str | None
    mount_subpaths: tuple[tuple[str, str], ...]  # (name, subPath)
    output_subpath: str
    stage_subpath: str | None = None  # a warm pool's pod: its stage, where its job's inputs arrive later
    expires: int | None = None  # Unix seconds: EXPIRES_NAME in the folder, EXPIRES_ANNOTATION on the Job


def in_cluster_namespace() -> str | None:
    """Return the namespace this pod runs in, when it runs in a cluster."""
    path = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    with contextlib.suppress(OSError):
        return path.read_text().strip() or None
    return None


def load_cluster_config() -> str | None:
    """Load the in-cluster config, else the kube config; return why neither loads, or None when one did."""
    from kubernetes import config as kube_config

    try:
        kube_config.load_incluster_config()
        return None
    except kube_config.ConfigException as in_cluster:
        try:
            # The client reads KUBECONFIG once, at import; read it now, so a changed environment counts.
            kube_config.load_kube_config(config_file=os.environ.get("KUBECONFIG") or None)
            return None
        except Exception as kubeconfig:
            return f"no in-cluster config ({in_cluster}) and no kube config ({first_line(kubeconfig)})"


def job_manifest(job: Job, job_id: str, options: ClusterOptions, staging: Staging) -> dict[str, Any]:
    """Return the Kubernetes Job that runs `job`: the one place its isolation and limits are written down."""
    limits = job.limits
    name = job_name(job_id)
    labels = {"app.kubernetes.io/name": APP_LABEL, JOB_LABEL: job_id, NETWORK_LABEL: "none"}
    memory = limits.memory_bytes + limits.disk_bytes  # /job is a memory-backed emptyDir: it counts as memory
    resources: dict[str, str] = {"cpu": f"{int(limits.cpus * 1000)}m", "memory": str(memory)}
    if job.gpu:
        resources[options.gpu_resource] = "1"
    mounts: list[dict[str, Any]] = [
        {"name": "scratch", "mountPath": WORKDIR},
        {"name": "shared", "mountPath": f"{RUNNER_ROOT}/sandbox", "subPath": staging.runner_subpath, "readOnly": True},
    ]
    for mount_name, subpath in staging.mount_subpaths:
        mounts.append({"name": "shared", "mountPath": f"{WORKDIR}/{mount_name}", "subPath": subpath, "readOnly": True})
    if staging.notebook_subpath is not None:
        mounts.append(
            {
                "name": "shared",
                "mountPath": f"{WORKDIR}/{staging.notebook_name}",
                "subPath": staging.notebook_subpath,
                "readOnly": True,
            }
        )
    mounts.append({"name": "shared", "mountPath": f"{WORKDIR}/output", "subPath": staging.output_subpath})
    env = base.job_env(job, HOME, {"PYTHONPATH": RUNNER_ROOT, "PATH": RUNTIME_PATH, "TMPDIR": TMP})
    runner = ["python", "-s", "-m", "sandbox.runner", "--limits", limits_to_json(limits), *share_args(options)]
    if job.command is not None:
        runner += ["--command", "-", "--", *job.command]
    else:
        runner += [staging.notebook_name or base.DEFAULT_NOTEBOOK_NAME, "-"]
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": 5,
        "securityContext": {
            "runAsUser": UID,
            "runAsGroup": UID,
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
            # Never fsGroup: the kubelet would chown and chmod g+rw the whole shared claim to it (module docstring).
            **({"supplementalGroups": [options.files_group]} if options.files_group is not None else {}),
        },
        "containers": [
            {
                "name": CONTAINER,
                "image": options.image_for(job.runtime),
                "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", PREPARE, "sh", *runner],
                "workingDir": WORKDIR,
                "env": [{"name": key, "value": value} for key, value in sorted(env.items())],
                "resources": {"limits": dict(resources), "requests": dict(resources)},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "privileged": False,
                    "runAsNonRoot": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "volumeMounts": mounts,
            }
        ],
        "volumes": [
            {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": str(limits.disk_bytes)}},
            {"name": "shared", "persistentVolumeClaim": {"claimName": options.claim}},
        ],
    }
    if options.runtime_class:
        pod_spec["runtimeClassName"] = options.runtime_class
    if job.gpu:
        pod_spec["nodeSelector"] = dict(options.gpu_node_selector)
        pod_spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    metadata: dict[str, Any] = {"name": name, "namespace": options.namespace, "labels": labels}
    if staging.expires is not None:
        metadata["annotations"] = {EXPIRES_ANNOTATION: str(staging.expires)}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": int(limits.wall_seconds + WALL_GRACE_S),
            "ttlSecondsAfterFinished": TTL_AFTER_FINISHED_S,
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def pool_manifest(
    runtime: str, limits: Limits, job_id: str, options: ClusterOptions, staging: Staging, imports: tuple[str, ...]
) -> dict[str, Any]:
    """Return the Job of a warm pool's pod: a cold job's for these limits, waiting for its job on its stage.

    Everything `job_manifest` locks down is kept as it is (the same function writes it); only three things
    differ: the stage folder is mounted read-only at POOL_STAGE, the runner warms the kernel and waits for the
    request file there (it counts the wall clock from the request), and `activeDeadlineSeconds` is
    `pool_deadline(limits)`, so the Job is not ended while it waits for its job.
    """
    assert staging.stage_subpath is not None
    placeholder = Job(output_dir=staging.output, command=("true",), limits=limits, runtime=runtime)
    manifest = job_manifest(placeholder, job_id, options, staging)
    manifest["metadata"]["labels"][POOL_LABEL] = runtime
    manifest["spec"]["template"]["metadata"]["labels"][POOL_LABEL] = runtime
    manifest["spec"]["activeDeadlineSeconds"] = pool_deadline(limits)
    (container,) = manifest["spec"]["template"]["spec"]["containers"]
    runner = [
        *["python", "-s", "-m", "sandbox.runner", "--limits", limits_to_json(limits), *share_args(options)],
        *["--preload", ",".join(imports)],
        *["--warm-request", f"{POOL_STAGE}/{warm.REQUEST_NAME}", "--ready-file", f"{WORKDIR}/output/{READY_NAME}"],
        *["--warm", "-"],
    ]
    container["command"] = ["sh", "-c", PREPARE, "sh", *runner]
    container["volumeMounts"].append(
        {"name": "shared", "mountPath": POOL_STAGE, "subPath": staging.stage_subpath, "readOnly": True}
    )
    return manifest


def share_args(options: ClusterOptions) -> list[str]:
    """Return the runner's `--share-output` for the pod's output/ when the worker shares a group with the job."""
    return ["--share-output", f"{WORKDIR}/output"] if options.files_group is not None else []


def pool_deadline(limits: Limits) -> int:
    """Return a pool Job's `activeDeadlineSeconds`: its idle wait, its job's wall clock and POOL_MARGIN_S."""
    return int(warm.POOL_IDLE_S + limits.wall_seconds + POOL_MARGIN_S)


def cold_lifetime(limits: Limits, options: ClusterOptions) -> float:
    """Return how long (seconds) after staging a cold job's folder and Job have surely outlived it.

    The worker waits `schedule_seconds` for a node, then the wall clock and twice WALL_GRACE_S (its backstop);
    LEFTOVER_MARGIN_S covers reading the log and copying output/ back.
    """
    return options.schedule_seconds + limits.wall_seconds + 2 * WALL_GRACE_S + LEFTOVER_MARGIN_S


def pool_lifetime(limits: Limits, options: ClusterOptions) -> float:
    """Return how long (seconds) after staging a pool pod's folder and Job have surely outlived it and its job.

    Its Job's deadline (`pool_deadline`: idle wait, wall clock, margin) counts from the Job's start, which a node's
    wait may delay by `schedule_seconds`; LEFTOVER_MARGIN_S as for a cold job.
    """
    return options.schedule_seconds + pool_deadline(limits) + LEFTOVER_MARGIN_S


def job_name(job_id: str) -> str:
    return f"ml-infn-sandbox-{job_id[:24]}"


@dataclass
class Watched:
    """What the cluster said about a finished (or abandoned) job."""

    finished: bool = False
    deadline_exceeded: bool = False
    timed_out: bool = False
    stuck: str = ""  # why the pod could not start: an image, a node, a config
    oom_killed: bool = False
    evicted: bool = False
    exit_code: int | None = None
    pod_name: str | None = None
    started: bool = False


class Backend(base.Backend):
    """Run jobs as Kubernetes Jobs on the cluster this worker belongs to."""

    name = NAME
    strength = 5  # below the host backends: chosen only by name, see `unavailable_reason`

    def __init__(
        self,
        config: SandboxConfig,
        options: ClusterOptions | None = None,
        batch_api: Any = None,
        core_api: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(config)
        self.options = options or config.cluster
        self.batch_api = batch_api
        self.core_api = core_api
        self.sleep = sleep
        self.clock = clock
        self.now = now  # Unix seconds, for the expiries that other workers read
        self.runner_subpath: str | None = None

    def unavailable_reason(self) -> str | None:
        if self.batch_api is not None and self.core_api is not None and self.options is not None:
            return None  # handed its API clients (tests, or a caller that built them)
        if self.options is None:
            return (
                "it runs only when named and given its cluster: set SANDBOX_BACKEND=kubernetes, "
                "SANDBOX_KUBERNETES_CLAIM and SANDBOX_KUBERNETES_SHARED_PATH."
            )
        try:
            import kubernetes  # noqa: F401
        except ImportError:
            return "the kubernetes Python package is not installed (pip install kubernetes)."
        if not self.options.shared_path.is_dir():
            return f"the shared volume is not mounted at {self.options.shared_path}."
        group = self.options.files_group
        if group is not None and group != os.getegid() and group not in os.getgroups():
            return (
                f"this worker is not in the sandbox files group {group}: add it to the worker's supplementalGroups "
                "(deploy/k8s/README.md) or set SANDBOX_KUBERNETES_FILES_GROUP to 0."
            )
        return load_cluster_config()

    def apis(self) -> tuple[Any, Any]:
        """Return the BatchV1Api and CoreV1Api, built once from the loaded configuration."""
        if self.batch_api is None or self.core_api is None:
            from kubernetes import client

            reason = load_cluster_config()
            if reason is not None:
                raise RuntimeError(reason)
            self.batch_api, self.core_api = client.BatchV1Api(), client.CoreV1Api()
        return self.batch_api, self.core_api

    def run(self, job: Job) -> Result:
        started = self.clock()
        if self.options is None:
            return base.infrastructure("the shared volume of the kubernetes backend is not configured", self.name)
        try:
            batch, core = self.apis()
        except Exception as exc:
            return base.infrastructure(f"no Kubernetes API answers: {first_line(exc)}", self.name)
        pool = None if job.gpu else self.warm_pool  # a GPU job waits for its device in a fresh Job
        if pool is not None:
            result = pool.run(job, self.options.image_for(job.runtime), started)
            if result is not None:
                return result
        job_id = uuid.uuid4().hex
        try:
            staging = self.stage(job, job_id)
        except (OSError, ValueError) as exc:
            return base.infrastructure(f"could not stage the job on the shared volume: {exc}", self.name)
        name = job_name(job_id)
        namespace = self.options.namespace
        try:
            batch.create_namespaced_job(namespace, job_manifest(job, job_id, self.options, staging))
            with host.OutputWatch(staging.output, job.limits, lambda: None) as output_watch:
                watched = self.watch(batch, core, name, job_id, job, output_watch)
            log_text = self.read_log(core, watched)
        except Exception as exc:
            log.exception("The Kubernetes API failed while running job %s", name)
            self.delete(batch, name)
            remove_job_folder(staging.folder)
            return base.infrastructure(f"the Kubernetes API failed: {first_line(exc)}", self.name)
        self.delete(batch, name)
        try:
            entries = copy_output(staging.output, job.output_dir)
        finally:
            remove_job_folder(staging.folder)
        return judge(
            log_text,
            watched,
            output_full=output_watch.full or entries > job.limits.output_files,
            duration_s=self.clock() - started,
            gpu_device=self.options.gpu_resource if job.gpu else None,
        )

    @property
    def warm_pool(self) -> PodPool | None:
        """Return this configuration's pool of warm pods (shared in the process), or None if off."""
        if self.config.warm_pool_size <= 0 or self.options is None:
            return None
        return warm.shared_pool(self, lambda: PodPool(self))

    def close(self) -> None:
        if self.config.warm_pool_size > 0:
            warm.close_pool(self)

    def stage_pool_pod(self, job_id: str, limits: Limits) -> Staging:
        """Make a pool pod's folder on the shared volume: an empty stage (read-only to it) and output/."""
        assert self.options is not None
        root = self.options.shared_path
        expires = int(self.now() + pool_lifetime(limits, self.options))
        folder = self.job_folder(job_id, expires)
        (folder / "stage").mkdir()
        os.chmod(folder / "stage", 0o755)  # noqa: S103 - the job's uid must read it; it is mounted read-only
        relative = folder.resolve().relative_to(root.resolve()).as_posix()
        return Staging(
            folder=folder,
            output=folder / "output",
            runner_subpath=self.publish_runner(),
            notebook_subpath=None,
            notebook_name=None,
            mount_subpaths=(),
            output_subpath=f"{relative}/output",
            stage_subpath=f"{relative}/stage",
            expires=expires,
        )

    def job_folder(self, job_id: str, expires: int) -> Path:
        """Make the job's (or pool pod's) folder on the shared volume with an empty output/; return the folder.

        `expires` (Unix seconds) is written into EXPIRES_NAME first, so `remove_leftovers` knows the folder's end.
        """
        assert self.options is not None
        folder = self.options.shared_path / JOBS_FOLDER / job_id
        folder.parent.mkdir(mode=0o755, exist_ok=True)  # a mode only loses bits to the umask: never group-writable
        folder.mkdir()
        # The worker's, never writable by the files group whatever the worker's umask; o+x for the kubelet, which
        # resolves the subPaths as root, squashed to nobody on NFS.
        os.chmod(folder, 0o755)  # noqa: S103
        (folder / EXPIRES_NAME).write_text(f"{expires}\n")
        os.chmod(folder / EXPIRES_NAME, 0o644)  # noqa: S103
        output = folder / "output"
        output.mkdir()
        # The job runs as 10001 and the worker as another uid: output/ alone is writable by the job, and only this
        # job's pod mounts it. With a files group, the group (the worker and the job) alone, and setgid so that
        # what the job creates carries the group; without one, anyone, and the worker may be left unable to
        # remove the job's subfolders.
        group = self.options.files_group
        if group is None:
            os.chmod(output, 0o777)  # noqa: S103
        else:
            os.chown(output, -1, group)
            os.chmod(output, 0o2770)  # noqa: S103
            if output.stat().st_gid != group or not output.stat().st_mode & stat.S_ISGID:
                raise OSError(f"could not make {output} setgid to the files group {group}")
        return folder

    def stage(self, job: Job, job_id: str) -> Staging:
        """Put the job's notebook, mounts and an empty output/ on the shared volume; return their subPaths."""
        assert self.options is not None
        root = self.options.shared_path
        expires = int(self.now() + cold_lifetime(job.limits, self.options))
        folder = self.job_folder(job_id, expires)
        mount_subpaths = []
        for mount in job.mounts:
            source = Path(mount.source).resolve()
            if not is_under(source, root):
                copy = folder / "mounts" / mount.name
                copy.parent.mkdir(mode=0o755, exist_ok=True)
                shutil.copytree(source, copy, symlinks=True)
                close_to_group(copy)  # read-only to the job anyway; never the files group's to write
                source = copy
            mount_subpaths.append((mount.name, source.relative_to(root.resolve()).as_posix()))
        notebook_subpath = notebook_name = None
        if job.notebook is not None:
            notebook_name = base.notebook_name_for(job)
            staged = folder / "notebook.ipynb"
            shutil.copyfile(job.notebook, staged)
            os.chmod(staged, 0o644)  # noqa: S103 - the job's uid reads it (mounted read-only); the group never writes
            notebook_subpath = staged.resolve().relative_to(root.resolve()).as_posix()
        return Staging(
            folder=folder,
            output=folder / "output",
            runner_subpath=self.publish_runner(),
            notebook_subpath=notebook_subpath,
            notebook_name=notebook_name,
            mount_subpaths=tuple(mount_subpaths),
            output_subpath=(folder / "output").resolve().relative_to(root.resolve()).as_posix(),
            expires=expires,
        )

    def publish_runner(self) -> str:
        """Copy this worker's `sandbox` package to the shared volume once per version; return its subPath."""
        if self.runner_subpath is not None:
            return self.runner_subpath
        assert self.options is not None
        digest = package_digest(base.SANDBOX_PACKAGE)
        target = self.options.shared_path / RUNNER_FOLDER / digest
        if not (target / "runner.py").is_file():
            partial = target.with_name(f"{digest}.{uuid.uuid4().hex}")
            partial.parent.mkdir(mode=0o755, exist_ok=True)
            shutil.copytree(base.SANDBOX_PACKAGE, partial, ignore=shutil.ignore_patterns("__pycache__"))
            close_to_group(partial)  # job pods carry the files group: the runner they run must not be theirs to write
            try:
                partial.rename(target)  # atomic: workers publishing at once never see half a package
            except OSError:
                remove_tree(partial)  # another worker won the race
        self.runner_subpath = f"{RUNNER_FOLDER}/{digest}"
        return self.runner_subpath

    def watch(
        self,
        batch: Any,
        core: Any,
        name: str,
        job_id: str,
        job: Job,
        output_watch: Any,
        handed_over: float | None = None,
    ) -> Watched:
        """Poll the Job and its pod until it ends, cannot start, overruns its wall clock, or fills output/.

        `handed_over` (this backend's clock): the job went to a warm pool's pod then, whose Job's deadline covers
        its idle wait; the job's wall clock (+ WALL_GRACE_S, as a cold Job's deadline) is counted from then here.
        """
        assert self.options is not None
        watched = Watched()
        created = self.clock()
        backstop = job.limits.wall_seconds + 2 * WALL_GRACE_S
        namespace = self.options.namespace
        while True:
            status = batch.read_namespaced_job_status(name, namespace).status
            pod = first_pod(core.list_namespaced_pod(namespace, label_selector=f"{JOB_LABEL}={job_id}"))
            if pod is not None:
                read_pod(pod, watched)
            if status is not None and (status.succeeded or status.failed):
                watched.finished = True
                watched.deadline_exceeded = any(
                    c.type == "Failed" and c.reason == "DeadlineExceeded" for c in (status.conditions or [])
                )
                return watched
            if watched.stuck or output_watch.full:
                return watched
            if handed_over is not None:
                if self.clock() - handed_over > job.limits.wall_seconds + WALL_GRACE_S:
                    watched.timed_out = True  # the pod's own deadline is far: end the job here, as its runner should
                    return watched
                self.sleep(self.options.poll_seconds)
                continue
            waited = self.clock() - created
            if not watched.started and waited > self.options.schedule_seconds:
                watched.stuck = f"no node took the job within {int(self.options.schedule_seconds)} s"
                return watched
            if watched.started and waited > self.options.schedule_seconds + backstop:
                watched.timed_out = True  # the cluster did not enforce activeDeadlineSeconds: end it here
                return watched
            self.sleep(self.options.poll_seconds)

    def read_log(self, core: Any, watched: Watched) -> str:
        """Return the runner's stdout (its report is the last line), or nothing when the container never ran."""
        if watched.pod_name is None or not watched.started:
            return ""
        assert self.options is not None
        try:
            text: str = core.read_namespaced_pod_log(watched.pod_name, self.options.namespace, container=CONTAINER)
        except Exception as exc:
            log.warning("Could not read the log of pod %s: %s", watched.pod_name, first_line(exc))
            return ""
        return text[-base.REPORT_MAX_BYTES :]

    def delete(self, batch: Any, name: str) -> None:
        """Delete the Job and its pod now; ttlSecondsAfterFinished removes it later if this fails."""
        assert self.options is not None
        try:
            batch.delete_namespaced_job(name, self.options.namespace, propagation_policy="Background")
        except Exception as exc:
            log.warning("Could not delete sandbox job %s (%s); its TTL will.", name, first_line(exc))

    def remove_leftovers(self, *, every: bool = False) -> list[str]:
        """Delete sandbox Jobs past their expiry and remove job folders no live job uses (`every`: all of them).

        A worker killed mid-job, or with pool pods waiting, leaves their Jobs (the cluster ends them at their
        deadline, and removes them `ttlSecondsAfterFinished` later where its TTL controller runs) and their
        `sandbox-jobs/<id>/` folders on the shared volume (nothing else removes those). A Job is deleted (propagation
        Background, as `delete`) once past its EXPIRES_ANNOTATION (a Job without one: its creation + deadline + TTL
        + LEFTOVER_MARGIN_S); a folder is removed once past its EXPIRES_NAME and while no unfinished Job of its id
        exists, so a live worker's running job or waiting pod, on any worker sharing the volume and namespace, is
        never touched. `every` (no worker running) deletes every sandbox Job and folder, as docker's does.

        Return what was removed: Job names and `sandbox-jobs/<id>` folders. Never raise: when the cluster cannot be
        asked which Jobs exist, nothing is removed (a folder's Job might still run) and a warning says why.
        """
        if self.options is None:
            return []
        namespace = self.options.namespace
        try:
            batch, _ = self.apis()
            listed = batch.list_namespaced_job(namespace, label_selector=f"app.kubernetes.io/name={APP_LABEL}")
            jobs = list(listed.items or [])
        except Exception as exc:
            log.warning(
                "Removed no leftover sandboxes: the Kubernetes API did not list the sandbox Jobs in %s (%s).",
                namespace,
                first_line(exc),
            )
            return []
        now = self.now()
        removed: list[str] = []
        unfinished: set[str] = set()  # job ids whose folder a pod may still use
        for item in jobs:
            job_id = (item.metadata.labels or {}).get(JOB_LABEL)
            status = item.status
            if job_id and not (status is not None and (status.succeeded or status.failed)):
                unfinished.add(job_id)  # even if deleted now: its pod may still be stopping; the next pass removes it
            expires = job_expiry(item)
            if not every and not (expires is not None and expires < now):
                continue
            try:
                batch.delete_namespaced_job(item.metadata.name, namespace, propagation_policy="Background")
            except Exception as exc:
                log.warning("Could not delete leftover sandbox job %s (%s).", item.metadata.name, first_line(exc))
                continue
            removed.append(item.metadata.name)
        root = self.options.shared_path / JOBS_FOLDER
        kept: list[str] = []  # folders whose job left files this worker may not remove (module docstring)
        try:
            folders = sorted(root.iterdir()) if root.is_dir() else []
        except OSError as exc:
            log.warning("Could not list the job folders in %s (%s); none removed.", root, exc)
            return removed
        for folder in folders:
            if folder.is_symlink() or not folder.is_dir():
                continue
            if not every and (folder.name in unfinished or not folder_expired(folder, now)):
                continue
            if remove_job_folder(folder):  # a job may have nested folders thousands deep in its output/
                removed.append(f"{JOBS_FOLDER}/{folder.name}")
            else:
                kept.append(f"{JOBS_FOLDER}/{folder.name}")
        if kept:
            log.warning(
                "Could not remove %d leftover job folder(s) on the shared volume: %s (deploy/k8s/README.md, "
                '"Files a job leaves").',
                len(kept),
                ", ".join(kept[:20]) + (", ..." if len(kept) > 20 else ""),
            )
        return removed


def remove_job_folder(folder: Path) -> bool:
    """Remove a job's (or pool pod's) folder from the shared volume; log "could not remove" and return False if not.

    What stays is what the job's uid made unwritable for the worker and its runner did not give back to the files
    group (the runner was killed before its last pass, or there is no files group): the module docstring's limit.
    """
    if remove_tree(folder):
        return True
    log.warning(
        'Could not remove %s: the job left files the worker may not delete (deploy/k8s/README.md, "Files a job '
        'leaves").',
        folder,
    )
    return False


def close_to_group(top: Path) -> None:
    """Make a tree the worker publishes 0755 folders and 0644 files (0755 where executable): no group write."""
    for folder, dirs, files in os.walk(top, followlinks=False):
        os.chmod(folder, 0o755)  # noqa: S103
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                os.chmod(path, 0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644)
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]


def job_expiry(item: Any) -> float | None:
    """Return when (Unix seconds) a listed sandbox Job has surely outlived its job, or None when it does not say.

    Its EXPIRES_ANNOTATION; for a Job made before that annotation, its creation, deadline and TTL plus
    LEFTOVER_MARGIN_S.
    """
    expires = (item.metadata.annotations or {}).get(EXPIRES_ANNOTATION, "")
    if expires.isascii() and expires.isdigit() and len(expires) <= EXPIRES_MAX_DIGITS:  # float() refuses "²"
        return float(expires)
    created = item.metadata.creation_timestamp
    deadline = item.spec.active_deadline_seconds if item.spec is not None else None
    if created is None or deadline is None:
        return None
    return float(created.timestamp() + deadline + TTL_AFTER_FINISHED_S + LEFTOVER_MARGIN_S)


def folder_expired(folder: Path, now: float) -> bool:
    """Say whether a job folder is past the expiry in its EXPIRES_NAME (else its mtime + UNMARKED_LIFETIME_S)."""
    try:
        text = (folder / EXPIRES_NAME).read_text().strip()
    except OSError:
        text = ""
    if text.isascii() and text.isdigit() and len(text) <= EXPIRES_MAX_DIGITS:  # int() refuses "²", 5000 digits
        return int(text) < now
    try:
        return folder.stat().st_mtime + UNMARKED_LIFETIME_S < now
    except OSError:
        return False  # gone already, or unreadable: leave it


def first_pod(pods: Any) -> Any:
    items = list(getattr(pods, "items", None) or [])
    return items[0] if items else None


def read_pod(pod: Any, watched: Watched) -> None:
    """Note what the pod says: its name, whether the container ran, why it ended or why it cannot start."""
    watched.pod_name = pod.metadata.name
    status = pod.status
    if status is None:
        return
    if status.reason == "Evicted":
        watched.evicted = True
    for container in status.container_statuses or []:
        if container.name != CONTAINER or container.state is None:
            continue
        state = container.state
        if state.waiting is not None and state.waiting.reason in STUCK_REASONS:
            detail = (state.waiting.message or "").strip().splitlines()
            watched.stuck = f"{state.waiting.reason}: {detail[0][:300]}" if detail else state.waiting.reason
        if state.running is not None:
            watched.started = True
        if state.terminated is not None:
            watched.started = True
            watched.exit_code = state.terminated.exit_code
            watched.oom_killed = watched.oom_killed or state.terminated.reason == "OOMKilled"


def judge(log_text: str, watched: Watched, output_full: bool, duration_s: float, gpu_device: str | None) -> Result:
    """Turn the runner's report and what the cluster said into the job's result; the cluster's view wins."""
    report = read_report(log_text)
    outcome = report.outcome if report else None
    message = report.message if report else ""
    if watched.stuck:
        return Result(
            outcome=Outcome.INFRASTRUCTURE,
            duration_s=duration_s,
            message=f"{MESSAGES[Outcome.INFRASTRUCTURE]} ({watched.stuck})",
            backend=NAME,
        )
    if output_full or watched.evicted:
        outcome, message = Outcome.DISK, MESSAGES[Outcome.DISK]
    elif report and report.outcome in (Outcome.OUTPUT, Outcome.DISK):
        pass  # the runner saw the flood or ENOSPC itself
    elif watched.oom_killed:
        outcome, message = Outcome.MEMORY, MESSAGES[Outcome.MEMORY]
    elif watched.deadline_exceeded or watched.timed_out:
        outcome, message = Outcome.TIMEOUT, MESSAGES[Outcome.TIMEOUT]
    elif report is None:
        outcome = Outcome.ERROR
        message = "The sandbox's runner stopped without a report; check what the notebook starts or kills."
    assert outcome is not None
    return Result(
        outcome=outcome,
        duration_s=duration_s,
        message=message,
        log=report.log if report else log_text[-base.DIAGNOSTIC_BYTES :],
        log_truncated=report.log_truncated if report else False,
        peak_memory_bytes=report.peak_memory_bytes if report else None,
        executed_notebook=report.executed_notebook if report else None,
        failed_cell=report.failed_cell if report else None,
        traceback=report.traceback if report else None,
        gpu_device=gpu_device,
        backend=NAME,
    )


def copy_output(staged: Path, destination: Path) -> int:
    """Copy regular files and folders from the staged output/ to `destination`; return the entries seen.

    Links and special files stay behind, so nothing the job wrote can point the worker at its own files; so do
    files and folders the job made unreadable to the worker's uid and group (its runner killed before its last pass).
    """
    destination.mkdir(parents=True, exist_ok=True)
    entries = 0
    for folder, dirs, files in os.walk(staged, followlinks=False):
        relative = Path(folder).relative_to(staged)
        for name in dirs + files:
            entries += 1
            source = Path(folder) / name
            target = destination / relative / name
            if source.is_symlink():
                continue
            if source.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            elif source.is_file():
                try:
                    source_file = open(source, "rb")  # noqa: SIM115 - closed below
                except PermissionError:  # the job made it unreadable and its runner did not give it back (docstring)
                    log.info("Left %s behind: the job made it unreadable to the worker.", source)
                    continue
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
                with os.fdopen(fd, "wb") as sink, source_file:
                    shutil.copyfileobj(source_file, sink)
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
    return entries


def package_digest(folder: Path) -> str:
    """Hash the package's Python files, so each version of the runner gets its own folder on the volume."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def is_under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def first_line(exc: BaseException) -> str:
    status, reason = getattr(exc, "status", None), getattr(exc, "reason", None)
    if status is not None and reason:  # an ApiException's text starts with "(403)" alone on its line
        return f"{status} {reason}"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


# --- the warm pool of pods -----------------------------------------------------------------------------------


@dataclass(eq=False)
class PooledPod(warm.PooledSandbox):
    """A pool's Job whose runner warms a kernel and then waits for its one job's request on the stage."""

    job_id: str
    staging: Staging
    expires: float  # the backend's clock: when the Job's deadline ends it, counted from its creation
    deleted: bool = False

    @property
    def name(self) -> str:
        return job_name(self.job_id)

    @property
    def ready_file(self) -> Path:
        return self.staging.output / READY_NAME


class PodPool(warm.StagedPool[PooledPod]):
    """Pods kept warm per runtime for one kubernetes backend configuration, one job each.

    A pod's Job is `pool_manifest`: a cold job's for the limits it warms for (resources, security context, network
    label, the in-memory /job), its stage `sandbox-jobs/<id>/stage` read-only at POOL_STAGE and its output/
    writable, and a deadline of `pool_deadline` (idle time + wall clock + margin). Its runner creates READY_NAME
    in output/ when its kernel is warm, which the worker sees on the shared volume. At hand-over that file is
    removed, the job's inputs are hard-linked (or copied, up to warm.COPY_MAX_BYTES) and its notebook copied into
    the stage, and the request is renamed into place; from then on the runner counts the wall clock, and the
    worker's watch does too as the backstop. The report comes from the pod's log once it has ended, as for a cold
    job. Then the Job is deleted and a replacement spawned. Each pod holds its requests (CPU and
    `memory_bytes + disk_bytes`) on its node while it waits: docs/scaling.md says what that costs a site.
    """

    def __init__(self, backend: Backend) -> None:
        assert backend.options is not None
        self.backend = backend
        self.options = backend.options
        super().__init__(backend.config, backend.options.shared_path / JOBS_FOLDER)

    def source_for(self, runtime: str) -> str | None:
        return self.options.image_for(runtime)

    def usable_for(self, sandbox: PooledPod, job: Job) -> bool:
        """A pod's Job must outlive the job's wall clock and the margin, or its deadline would end the job."""
        return sandbox.expires - self.backend.clock() >= job.limits.wall_seconds + POOL_MARGIN_S

    def expired(self, sandbox: PooledPod) -> bool:
        return sandbox.expires - self.backend.clock() < sandbox.limits.wall_seconds + POOL_MARGIN_S

    def spawn(self, runtime: str, source: str, limits: Limits) -> PooledPod:
        """Create one pool Job; its pod warms up and then waits for its request on the stage."""
        batch, _ = self.backend.apis()
        job_id = uuid.uuid4().hex
        staging = self.backend.stage_pool_pod(job_id, limits)
        imports = tuple(self.config.warm_imports.get(runtime, ()))
        manifest = pool_manifest(runtime, limits, job_id, self.options, staging, imports)
        created = self.backend.clock()
        try:
            batch.create_namespaced_job(self.options.namespace, manifest)
        except BaseException:
            remove_job_folder(staging.folder)
            raise
        expires = created + manifest["spec"]["activeDeadlineSeconds"]
        return PooledPod(runtime, limits, staging.folder, job_id=job_id, staging=staging, expires=expires)

    def wait_warm(self, sandbox: PooledPod, timeout: float) -> bool:
        """Poll the pod's Job and its ready file until it is warm; False if it ended, cannot start, or is late.

        A pod that ended or cannot start before it was warm is `died_warming` (its log says why); either way the
        job then runs cold.
        """
        batch, core = self.backend.apis()
        namespace = self.options.namespace
        deadline = self.backend.clock() + timeout
        watched = Watched()
        try:
            while True:
                status = batch.read_namespaced_job_status(sandbox.name, namespace).status
                if status is not None and (status.succeeded or status.failed):
                    sandbox.ended.set()
                    if not (sandbox.ready.is_set() or sandbox.ready_file.exists()):
                        pod = first_pod(
                            core.list_namespaced_pod(namespace, label_selector=f"{JOB_LABEL}={sandbox.job_id}")
                        )
                        if pod is not None:
                            read_pod(pod, watched)
                        text = self.backend.read_log(core, watched) or f"its Job {sandbox.name} ended"
                        self.died_warming(sandbox, text, taken=True)
                    return False
                if sandbox.ready_file.exists():
                    self.warmed(sandbox)
                    return True
                pod = first_pod(core.list_namespaced_pod(namespace, label_selector=f"{JOB_LABEL}={sandbox.job_id}"))
                if pod is not None:
                    read_pod(pod, watched)
                if watched.stuck:
                    self.died_warming(sandbox, watched.stuck, taken=True)
                    return False
                if self.backend.clock() >= deadline:
                    return False
                self.backend.sleep(self.options.poll_seconds)
        except Exception as exc:
            log.warning(
                "Could not learn whether warm pod %s is ready (%s); running cold.", sandbox.name, first_line(exc)
            )
            return False

    def run_in(self, sandbox: PooledPod, job: Job, name: str, started: float) -> Result:
        """Hand the request over, then watch, read the log, delete and copy output/ back as for a cold job."""
        batch, core = self.backend.apis()
        sandbox.ready_file.unlink(missing_ok=True)  # the runner's, not the job's: it must not come back as output
        warm.hand_over(job, name, sandbox.stage, POOL_STAGE, sandbox.folder)
        handed_over = self.backend.clock()
        output = sandbox.staging.output
        try:
            with host.OutputWatch(output, job.limits, lambda: None) as output_watch:
                watched = self.backend.watch(
                    batch, core, sandbox.name, sandbox.job_id, job, output_watch, handed_over=handed_over
                )
            log_text = self.backend.read_log(core, watched)
        except Exception as exc:
            log.exception("The Kubernetes API failed while running a job in warm pod %s", sandbox.name)
            return base.infrastructure(f"the Kubernetes API failed: {first_line(exc)}", self.backend.name)
        self.backend.delete(batch, sandbox.name)
        sandbox.deleted = True
        entries = copy_output(output, job.output_dir)
        result = judge(
            log_text,
            watched,
            output_full=output_watch.full or entries > job.limits.output_files,
            duration_s=self.backend.clock() - started,
            gpu_device=None,
        )
        return dataclasses.replace(result, warm=True)

    def destroy(self, sandbox: PooledPod) -> None:
        """Delete the pod's Job (unless its job's end did) and remove its folder from the shared volume."""
        if not sandbox.deleted:
            sandbox.deleted = True
            with contextlib.suppress(Exception):
                self.backend.delete(self.backend.apis()[0], sandbox.name)
        remove_job_folder(sandbox.folder)
