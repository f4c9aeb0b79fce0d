"""Celery tasks of grading: thin wrappers that load ids and call the services."""

import logging
import threading
from typing import Any

from celery import shared_task
from celery.signals import worker_process_init, worker_process_shutdown, worker_ready, worker_shutdown

from grading import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def grade_submission_task(submission_id: int) -> None:
    services.grade_submission(submission_id)


@shared_task(ignore_result=True)
def requeue_stuck_submissions_task() -> None:
    services.requeue_stuck_submissions()


@shared_task(ignore_result=True)
def reveal_due_boards_task() -> None:
    """Open the private boards whose scheduled reveal time has come (run by beat every minute)."""
    from grading.boards import services as board_services

    board_services.reveal_due_boards()


@shared_task(ignore_result=True)
def remove_leftover_sandboxes_task() -> None:
    """Remove, once, the sandboxes dead workers left on the host of the worker that takes it (an operator's tool).

    Nothing schedules it: every sandbox worker cleans its own host (`clean_leftovers_of_this_host`). An operator
    who wants a host cleaned now sends it to that worker's queue (docs/operations.md, "Draining a worker").
    """
    from grading import sandboxing

    sandboxing.clean_up_this_host()


_stop_cleanup = threading.Event()


@worker_ready.connect
def clean_leftovers_of_this_host(sender: Any, **kwargs: object) -> None:
    """In a worker that consumes a sandbox queue, remove its host's leftover sandboxes now and periodically.

    `sender` is the worker's consumer; its app's `amqp.queues.consume_from` names the queues the worker consumes
    (its `--queues`). The cleanup runs in the main process on a daemon thread, every SANDBOX_CLEANUP_SECONDS, whether
    or not beat or the broker works (grading.sandboxing.start_leftover_cleanup); the upkeep worker starts none.
    """
    from django.conf import settings

    from grading import sandboxing

    queues = list(sender.app.amqp.queues.consume_from)
    if not sandboxing.runs_sandboxes(queues):
        return
    _stop_cleanup.clear()
    sandboxing.start_leftover_cleanup(float(settings.SANDBOX_CLEANUP_SECONDS), _stop_cleanup)


@worker_shutdown.connect
def stop_leftover_cleanup(**kwargs: object) -> None:
    """Stop the periodic cleanup of this worker's host when the worker stops (a round under way finishes)."""
    _stop_cleanup.set()


@worker_process_init.connect
def warm_sandboxes_at_start(**kwargs: object) -> None:
    """Warm this worker process's sandboxes before its first job (the pool otherwise fills only after one).

    Also load the drawing library the feedback pictures use: its first import costs about 0.5 s
    (docs/benchmarks.md), which the first scored submission of each worker process would otherwise wait for.
    """
    from grading.sandboxing import warm_up

    try:
        warm_up()
    except Exception:  # a worker that cannot warm still grades, cold
        logging.getLogger(__name__).exception("Could not warm the sandboxes at worker start")
    try:
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401
    except ImportError:  # pictures are then drawn without it, or not at all, as before
        logging.getLogger(__name__).warning("matplotlib is missing; feedback pictures cannot be drawn")


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_reference_check_task(check_id: int) -> None:
    """Run an exercise's reference and baseline notebooks against its event's hidden set (grading.reference_gate)."""
    from grading import reference_gate

    reference_gate.run_check(check_id)


@shared_task(ignore_result=True)
def check_exercises_about_to_open_task() -> None:
    """Queue the reference check of the exercises that open within the hour (run by beat every ten minutes)."""
    from grading import reference_gate

    reference_gate.check_exercises_about_to_open()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def check_uploaded_bundle_task(exercise_id: int) -> None:
    """Build an uploaded bundle's data in the sandbox and publish it, or say why not (grading.bundle_builds)."""
    from grading import bundle_builds

    bundle_builds.check_uploaded_bundle(exercise_id)


@worker_process_shutdown.connect
def close_sandboxes_at_exit(**kwargs: object) -> None:
    """Stop this worker process's warm sandboxes when it exits (prefork children skip `atexit`).

    bwrap's would die with the process anyway; warm containers would wait, holding their memory, until their
    expiry stops them (sandbox.warm.POOL_IDLE_S).
    """
    import sandbox.warm

    sandbox.warm.close_all()
