"""WSGI entry point for gunicorn and other WSGI servers."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hackathon.config.settings")
application = get_wsgi_application()

from grading.notebooks import prepare_validation  # noqa: E402 - needs the settings get_wsgi_application loaded

prepare_validation()  # the first upload of each web process need not wait for the notebook schema
