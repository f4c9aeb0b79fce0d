"""The queues the platform sends messages to, from Celery's own routing: each must have a consumer where it runs."""

from __future__ import annotations

OWN_PACKAGES = ("hackathon.", "grading.", "exercises.")
EXERCISE_QUEUES = {"cpu", "gpu"}  # grading and reference checks name their exercise's queue on each message


def queues_sent_to() -> set[str]:
    """Return the exercise queues and the queue Celery routes each of the platform's tasks to when none is named."""
    from hackathon.config.celery import app

    app.autodiscover_tasks(force=True)
    ours = [name for name in app.tasks if name.startswith(OWN_PACKAGES)]
    assert ours, "no task of the platform is registered"
    return EXERCISE_QUEUES | {app.amqp.router.route({}, name)["queue"].name for name in ours}


def starts_beat(arguments: list[str]) -> bool:
    """Whether a command line runs beat: the entrypoint's `beat` role, or a worker's embedded `--beat`/`-B`."""
    return bool(arguments) and (arguments[0] == "beat" or any(a in ("--beat", "-B") for a in arguments))
