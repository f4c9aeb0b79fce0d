"""The Django project (settings, URLs, the Celery app) and the event domain: events, people, roles, groups."""

from hackathon.celery import app as celery_app

__all__ = ["celery_app"]
