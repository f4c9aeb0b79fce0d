"""The Django project (settings, URLs, the Celery app) and the event domain: events, people, roles, groups."""

import sys

# jsonschema imports rfc3987_syntax when it is installed (jupyter-events pulls it in), and that module builds a
# parser grammar at import time: five seconds on every start of the site, a worker or a test run. The platform
# checks no IRI formats, so jsonschema goes without it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from hackathon.celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
