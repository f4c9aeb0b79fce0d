"""The project's configuration, the roof above every app: settings, root URLs, the Celery app, WSGI/ASGI, env readers.

Django imports this package first, with the settings module, so the Celery app exists before any task module
is imported and `shared_task` binds to it.
"""

from hackathon.config.celery import app as celery_app

__all__ = ["celery_app"]
