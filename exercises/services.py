"""Actions on the exercise catalog: sync the built-in bundles, build and verify hidden sets."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction

from exercises import signals
from exercises.archives import extract_bundle_zip
from exercises.bundles import Bundle, build_data, builtin_bundles, load_bundle
from exercises.data_builds import RunJob, build_data_in_sandbox
from exercises.errors import DatasetNotReady, InvalidBundle
from exercises.evaluation import load_answers
from exercises.kinds import kind_of
from exercises.models import Exercise, Label
from sandbox.trees import remove_tree


@transaction.atomic
def save_exercise(bundle: Bundle, *, builtin: bool) -> Exercise:
    """Create or update the catalog entry of a bundle from its manifest."""
    m = bundle.manifest
    exercise, _ = Exercise.objects.update_or_create(
        slug=m.slug,
        defaults={
            "title": m.title,
            "summary": m.summary,
            "description": m.description,
            "levels": list(m.levels),
            "metric": m.metric.name,
            "direction": m.metric.direction,
            "secondary_metrics": list(m.metric.secondary),
            "metric_display_name": m.metric.display_name,
            "output_kind": m.output.kind,
            "device": m.resources.device,
            "gpu_preferred": m.resources.gpu_preferred,
            "wall_seconds": m.resources.wall_seconds,
            "memory_mb": m.resources.memory_mb,
            "processes": m.resources.processes,
            "cpus": m.resources.cpus,
            "target_reference": m.target.reference,
            "target_baseline": m.target.baseline,
            "authors": [{"name": a.name, "email": a.email, "affiliation": a.affiliation} for a in m.authors],
            "bundle_path": str(bundle.path),
            "builtin": builtin,
        },
    )
    labels = []
    for dimension, names in (("technology", m.labels.technology), ("field", m.labels.field), ("tool", m.labels.tool)):
        for name in names:
            labels.append(Label.objects.get_or_create(dimension=dimension, name=name)[0])
    exercise.labels.set(labels)
    return exercise


def sync_builtin_exercises() -> list[Exercise]:
    """Bring the catalog in step with the bundles shipped in exercises/bundles/."""
    return [save_exercise(bundle, builtin=True) for bundle in builtin_bundles()]


def bundle_of(exercise: Exercise) -> Bundle:
    """Load the exercise's bundle from disk, validating its manifest again."""
    return load_bundle(Path(exercise.bundle_path))


@dataclass(frozen=True)
class Dataset:
    """The built data of one exercise for one secret seed, under PRIVATE_DATA_ROOT."""

    root: Path

    @property
    def public_data(self) -> Path:
        """What participants download and check runs mount: training data and the public test sample."""
        return self.root / "public" / "data"

    @property
    def public_answers(self) -> Path:
        return self.root / "public" / "answers.npz"

    @property
    def hidden_data(self) -> Path:
        """The data/ folder graded runs mount: training data and the hidden test inputs."""
        return self.root / "hidden" / "data"

    @property
    def hidden_answers(self) -> Path:
        """The hidden labels: never mounted in a sandbox."""
        return self.root / "hidden" / "answers.npz"


def default_secret_seed(slug: str) -> int:
    """Return the seed of an exercise's default hidden set (outside events), derived from HIDDEN_SET_SECRET."""
    digest = hashlib.sha256(f"{settings.HIDDEN_SET_SECRET}:{slug}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def dataset_root(slug: str, secret_seed: int) -> Path:
    # The folder name must not give the seed away: hash it.
    tag = hashlib.sha256(f"{slug}:{secret_seed}".encode()).hexdigest()[:20]
    return Path(settings.PRIVATE_DATA_ROOT) / "datasets" / slug / tag


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_dataset(exercise: Exercise, secret_seed: int, *, run_job: RunJob | None = None) -> Dataset:
    """Return the exercise's data for this seed, building it once (safe when several workers ask at once).

    A built-in bundle's data.py ships with the platform and builds in this process. An uploaded bundle's builds
    only as a sandbox job through `run_job` (a worker passes it); without one, DatasetNotReady says to wait.
    """
    root = dataset_root(exercise.slug, secret_seed)
    dataset = Dataset(root)
    if dataset.hidden_answers.is_file():
        return dataset
    if not exercise.builtin and run_job is None:
        raise DatasetNotReady(
            f"The data of {exercise.title} is still being built on the workers; try again in a few minutes."
        )
    with _exclusive(root.parent / f".{root.name}.lock"):
        if dataset.hidden_answers.is_file():
            return dataset
        bundle = bundle_of(exercise)
        staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
        try:
            if exercise.builtin or run_job is None:
                build_data(bundle, staging / "public", staging / "hidden", secret_seed)
            else:
                build_data_in_sandbox(
                    bundle,
                    staging / "public",
                    staging / "hidden",
                    secret_seed,
                    run_job=run_job,
                    work_dir=staging / ".job",
                )
                remove_tree(staging / ".job")
            verify_hidden_set(bundle, Dataset(staging))
            staging.rename(root)
        finally:
            remove_tree(staging)  # what a sandboxed data.py wrote may nest folders thousands deep
    return dataset


def verify_hidden_set(bundle: Bundle, dataset: Dataset) -> None:
    """Refuse a hidden set that cannot rank anyone: unreadable, or one class only in a scored part."""
    kind = bundle.manifest.output.kind
    for path in (dataset.hidden_answers, dataset.public_answers):
        answers = load_answers(kind, path)
        truth = kind_of(kind).class_array
        if truth is None:
            continue
        public = answers["public"]
        for part_name, part in (("public", public), ("private", ~public)):
            if not part.any():
                continue
            classes = np.unique(answers[truth][part])
            if classes.size < 2:
                raise InvalidBundle(
                    f"The {part_name} part of {bundle.slug}'s {path.parent.name} set holds only class "
                    f"{classes.tolist()}; ROC AUC needs both classes. Fix data.py and publish again."
                )


def upload_bundle(zip_path: Path, *, uploader_id: int | None = None) -> Exercise:
    """Unpack an uploaded exercise zip, check its entries and manifest, and keep it unpublished until it is built.

    Its data.py does not run here: once this is committed, a worker builds the data in the sandbox and proves
    that the hidden set can rank people (`check_uploaded_bundle`), then publishes it or says why not. Nothing is
    kept if the zip or the manifest is refused. The slug of the uploader's own failed upload can be taken again.
    """
    bundles_root = Path(settings.PRIVATE_DATA_ROOT) / "bundles"
    bundles_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=bundles_root))
    try:
        bundle = extract_bundle_zip(zip_path, staging)
        with transaction.atomic():
            _free_slug_of_failed_upload(bundle.slug, uploader_id)
            if Exercise.objects.filter(slug=bundle.slug).exists():
                raise InvalidBundle(f"An exercise called {bundle.slug} exists already; give the new one another slug.")
            final = bundles_root / bundle.slug
            if final.exists():
                raise InvalidBundle(f"A bundle folder {bundle.slug} exists already; give the new one another slug.")
            bundle.path.rename(final)
            exercise = save_exercise(load_bundle(final), builtin=False)
            Exercise.objects.filter(pk=exercise.pk).update(
                published=False, build_status=Exercise.Build.CHECKING, build_message="", uploaded_by_id=uploader_id
            )
            exercise.refresh_from_db()
            exercise_id = exercise.pk
            transaction.on_commit(lambda: signals.bundle_uploaded.send(sender=Exercise, exercise_id=exercise_id))
        return exercise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _free_slug_of_failed_upload(slug: str, uploader_id: int | None) -> None:
    """Remove the uploader's own earlier upload of `slug` whose check failed, so that a fixed zip can take its place."""
    failed = Exercise.objects.filter(slug=slug, builtin=False, build_status=Exercise.Build.FAILED)
    for exercise in failed.filter(uploaded_by_id=uploader_id) if uploader_id is not None else []:
        shutil.rmtree(exercise.bundle_path, ignore_errors=True)
        exercise.delete()


def check_uploaded_bundle(exercise_id: int, *, run_job: RunJob) -> Exercise:
    """On a worker: build an uploaded bundle's data in the sandbox and prove its hidden set can rank people.

    Publishes the exercise when every step passes; otherwise keeps it unpublished with the reason in
    `build_message`, for the uploader to read. Raises DataBuildFailed when the sandbox itself could not run.
    """
    exercise = Exercise.objects.get(pk=exercise_id)
    if exercise.build_status != Exercise.Build.CHECKING:
        return exercise
    bundle = bundle_of(exercise)
    trial = Path(tempfile.mkdtemp(prefix=".trial-", dir=Path(exercise.bundle_path).parent))
    try:
        build_data_in_sandbox(
            bundle,
            trial / "public",
            trial / "hidden",
            default_secret_seed(bundle.slug),
            run_job=run_job,
            work_dir=trial / ".job",
        )
        verify_hidden_set(bundle, Dataset(trial))
    except InvalidBundle as error:
        # The row keeps the reason for the uploader; the bundle's files go, and a fixed zip takes the slug again.
        Exercise.objects.filter(pk=exercise.pk).update(build_status=Exercise.Build.FAILED, build_message=error.message)
        shutil.rmtree(exercise.bundle_path, ignore_errors=True)
    else:
        Exercise.objects.filter(pk=exercise.pk).update(
            build_status=Exercise.Build.READY, build_message="", published=True
        )
    finally:
        remove_tree(trial)  # what a sandboxed data.py wrote may nest folders thousands deep
    exercise.refresh_from_db()
    return exercise
