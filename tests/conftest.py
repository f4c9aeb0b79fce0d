"""Shared pytest configuration: keep every test's files under its own temporary folder."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(autouse=True)
def _isolated_storage(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    """Point media and private data at a temporary folder so tests never touch var/."""
    if not request.config.pluginmanager.hasplugin("django"):
        return
    settings = request.getfixturevalue("settings")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_DATA_ROOT = tmp_path / "private"
    # Real hashing costs a second per account on this machine; tests prove behaviour, not hashing strength.
    # The production manifest exists only after collectstatic, which a test run does not do.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A board cached by one test must not be read by the next, whose event may reuse the same ids: each test gets
    # keys of its own. (Not cache.clear(): on Redis that empties a whole database, whatever else it holds.)
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}
