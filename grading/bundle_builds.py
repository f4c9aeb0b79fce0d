"""Uploaded bundles build on the workers: their data.py runs as a sandbox job, never in the web process."""

from __future__ import annotations

import logging

from exercises import services as exercise_services
from exercises.data_builds import DataBuildFailed
from exercises.models import Exercise
from grading.sandboxing import run_in_sandbox

logger = logging.getLogger(__name__)
PLATFORM_FAILED = (
    "The platform could not run data.py in its sandbox just now; this is not your bundle's fault. Upload it "
    "again in a few minutes, and tell the site's staff if it keeps happening."
)


def on_bundle_uploaded(sender: object, *, exercise_id: int, **kwargs: object) -> None:
    """Queue the build and check of an uploaded bundle (connected to exercises.signals.bundle_uploaded)."""
    from grading.tasks import check_uploaded_bundle_task

    check_uploaded_bundle_task.apply_async(args=[exercise_id], queue="cpu")


def check_uploaded_bundle(exercise_id: int) -> Exercise:
    """Build the uploaded bundle's data in this worker's sandbox and publish it, or keep the reason for its uploader."""
    try:
        return exercise_services.check_uploaded_bundle(exercise_id, run_job=run_in_sandbox)
    except DataBuildFailed as error:
        logger.error("Could not build uploaded bundle %s: %s", exercise_id, error)
        Exercise.objects.filter(pk=exercise_id, build_status=Exercise.Build.CHECKING).update(
            build_status=Exercise.Build.FAILED, build_message=PLATFORM_FAILED
        )
        return Exercise.objects.get(pk=exercise_id)
