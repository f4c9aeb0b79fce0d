"""Settings of the test-only OpenID Connect issuer (django-oauth-toolkit) that the single sign-on journey signs in at.

It stands in for INFN AAI or an INDIGO IAM instance: discovery at /.well-known/openid-configuration, ID tokens signed
with an RS256 key that the test generates, userinfo with `email` and `email_verified`. Everything comes from the
environment that tests/e2e/conftest.py gives it; nothing here is ever used by the platform.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

SECRET_KEY = os.environ["ISSUER_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "tests.oidc_issuer.urls"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["ISSUER_DATABASE"]}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Cookies are kept per host, not per port: on 127.0.0.1 the platform's session cookie would overwrite ours.
SESSION_COOKIE_NAME = "issuer_sessionid"
CSRF_COOKIE_NAME = "issuer_csrftoken"
LOGIN_URL = "/login/"
# A test issuer: hashing strength is not what it proves, and real hashing costs a second per sign-in here.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": os.environ["ISSUER_RSA_PRIVATE_KEY"],
    "OAUTH2_VALIDATOR_CLASS": "tests.oidc_issuer.claims.IdentityClaims",
    "SCOPES": {
        "openid": "Sign you in",
        "profile": "Your name and user name",
        "email": "Your email address and whether it is confirmed",
    },
    "PKCE_REQUIRED": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
