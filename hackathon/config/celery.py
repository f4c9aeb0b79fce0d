"""The Celery application shared by the site (to enqueue) and the workers (to run)."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hackathon.config.settings")

app = Celery("hackathon")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _create_embedded_broker_folders(sender: Celery, **kwargs: object) -> None:
    """The embedded (filesystem) broker needs its folders before the first message; a server broker needs none."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)
