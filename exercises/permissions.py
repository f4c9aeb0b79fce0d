"""Who may change the exercise catalog."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, AnonymousUser


def can_upload_bundles(user: AbstractUser | AnonymousUser) -> bool:
    """Upload exercise bundles: site staff only, since a bundle's data builder runs on the platform's machines."""
    return bool(user.is_authenticated and user.is_active and user.is_staff)
