"""Who may change the exercise catalog."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.models import AbstractUser, AnonymousUser

from exercises.models import Exercise


def can_upload_bundles(user: AbstractUser | AnonymousUser) -> bool:
    """Upload exercise bundles: site staff, and the organizers of any event, for their events.

    A bundle's data.py runs only as a sandbox job on a worker (exercises.data_builds), with no network and none of
    the platform's files or secrets, so an organizer's bundle is trusted no further than a participant's notebook.
    """
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_staff:
        return True
    # Looked up by name: events live on a higher floor (hackathon/) that this module must not import.
    roles = apps.get_model("hackathon", "EventRole")
    return bool(roles.objects.filter(user_id=user.pk, role="organizer").exists())


def can_see_upload(user: AbstractUser | AnonymousUser, exercise: Exercise) -> bool:
    """See where an uploaded bundle's check stands, and why it failed: its uploader and site staff."""
    if not (user.is_authenticated and user.is_active):
        return False
    return bool(user.is_staff or (exercise.uploaded_by_id is not None and exercise.uploaded_by_id == user.pk))
