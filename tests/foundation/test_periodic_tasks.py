"""Every periodic task in the beat schedule names a registered task, so a typo cannot silently stop it."""

import pytest
from django.conf import settings

from hackathon.config.celery import app


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_each_beat_entry_names_a_registered_task(entry):
    app.autodiscover_tasks(force=True)
    assert settings.CELERY_BEAT_SCHEDULE[entry]["task"] in app.tasks
