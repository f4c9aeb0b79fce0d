"""Build an uploaded bundle's data in the sandbox: its data.py runs as an untrusted job, never in a platform process."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from exercises.bundles import Bundle, check_built_data
from exercises.errors import InvalidBundle
from sandbox.jobs import GiB, Job, Limits, MiB, Mount, Outcome, Result

JOB_SCRIPTS_DIR = Path(__file__).resolve().parent / "jobscripts"
BUILD_MAX_SECONDS = 1800.0  # the largest built-in data set (lung-segmentation) builds in under a minute
BUILD_DISK_BYTES = 8 * GiB
# A manifest may ask up to 256 GiB for its notebooks' runs; a data build on a shared worker gets at most this.
BUILD_MAX_MEMORY_BYTES = 16 * GiB
BUILD_FILES = 200_000  # image data sets keep one file per case
BUILD_MAX_DEPTH = 32  # data sets nest a few folders (public/data/train/class/); thousands break walks and rmtree

RunJob = Callable[[Job], Result]


class DataBuildFailed(Exception):
    """The platform could not run the build (the sandbox itself failed): not the bundle's fault, try again later."""


def build_limits(bundle: Bundle) -> Limits:
    """Return the limits of a data build: the manifest's memory (16 GiB at most), processes, CPUs, half an hour."""
    resources = bundle.manifest.resources
    seconds = min(float(resources.wall_seconds), BUILD_MAX_SECONDS)
    return Limits(
        wall_seconds=seconds,
        cell_seconds=seconds,
        memory_bytes=min(max(resources.memory_mb, 2048) * MiB, BUILD_MAX_MEMORY_BYTES),
        processes=resources.processes,
        cpus=resources.cpus,
        disk_bytes=BUILD_DISK_BYTES,
        output_files=BUILD_FILES,
    )


def build_data_in_sandbox(
    bundle: Bundle, public_dir: Path, hidden_dir: Path, secret_seed: int, *, run_job: RunJob, work_dir: Path
) -> None:
    """Run the bundle's data.py build() as a sandbox job and move what it wrote to `public_dir` and `hidden_dir`.

    `work_dir` is an empty trusted folder for the job's script and output. The job sees the bundle read-only,
    writes only its output/, and has neither network nor the platform's environment, files or secrets.
    Raises InvalidBundle with a sentence for the uploader when data.py fails or writes what the platform refuses
    (links or special files), DataBuildFailed when the sandbox itself could not run it.
    """
    scripts, output = work_dir / "scripts", work_dir / "output"
    for folder in (scripts, output):
        folder.mkdir(parents=True, exist_ok=False)
    shutil.copyfile(JOB_SCRIPTS_DIR / "build_data.py", scripts / "build_data.py")
    job = Job(
        output_dir=output,
        mounts=(Mount(bundle.path, "bundle"), Mount(scripts, "scripts")),
        command=("python", "scripts/build_data.py"),
        limits=build_limits(bundle),
        env={"BUNDLE_SECRET_SEED": str(int(secret_seed)), "CUDA_VISIBLE_DEVICES": ""},
    )
    result = run_job(job)
    if result.outcome is Outcome.INFRASTRUCTURE:
        raise DataBuildFailed(f"The sandbox could not build the data of {bundle.slug}: {result.message}")
    if not result.ok:
        lines = result.log.strip().splitlines()
        detail = f" It ended with “{lines[-1][:400]}”." if lines else ""
        raise InvalidBundle(
            f"The data.py of {bundle.slug} failed in the sandbox, where it runs with no network and none of the "
            f"platform's files, settings or secrets: {result.message}{detail} Fix data.py so that it builds "
            "from its own code and the seed alone, then upload the bundle again."
        )
    refuse_links(output, bundle.slug)
    public_dir.parent.mkdir(parents=True, exist_ok=True)
    hidden_dir.parent.mkdir(parents=True, exist_ok=True)
    for built, target in ((output / "public", public_dir), (output / "hidden", hidden_dir)):
        if built.is_dir():
            shutil.move(str(built), str(target))
    check_built_data(bundle, public_dir, hidden_dir)


def _unreadable(error: OSError) -> None:
    raise error  # a part of the output the walk cannot read is refused, not skipped


def refuse_links(folder: Path, slug: str) -> None:
    """Raise InvalidBundle if the build wrote anything but plain files and folders (a link could point anywhere),
    or folders nested deeper than BUILD_MAX_DEPTH (past PATH_MAX a walk can no longer look inside them)."""
    try:
        _refuse_links(folder, slug)
    except OSError as error:
        raise InvalidBundle(
            f"The data.py of {slug} wrote files the platform cannot read ({error.strerror}); write plain files in "
            f"folders at most {BUILD_MAX_DEPTH} deep."
        ) from None


def _refuse_links(folder: Path, slug: str) -> None:
    for root, dirs, files in os.walk(folder, followlinks=False, onerror=_unreadable):
        depth = len(Path(root).relative_to(folder).parts)
        if depth >= BUILD_MAX_DEPTH and dirs:
            raise InvalidBundle(
                f"The data.py of {slug} nests folders more than {BUILD_MAX_DEPTH} deep "
                f"({Path(root).relative_to(folder).parts[0]}/…); keep its data in shallow folders."
            )
        for name in dirs + files:
            mode = os.lstat(Path(root) / name).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                where = (Path(root) / name).relative_to(folder)
                raise InvalidBundle(
                    f"The data.py of {slug} wrote {where}, which is a link or special file; write plain files only."
                )
