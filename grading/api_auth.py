"""Personal API tokens: create, revoke, and authenticate `Authorization: Bearer <token>` requests by them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from grading.models import ApiToken
from sandbox.errors import UserFacingError

# "hackathon submit": lets secret scanners and people recognise a leaked token.
TOKEN_START = "hks_"  # noqa: S105 (a marker, not a secret)
MAX_ACTIVE_TOKENS = 20
# A token's last use is written at most this often, so a polling client does not write on every request.
LAST_USED_EVERY_SECONDS = 60


@dataclass(frozen=True)
class NewToken:
    """A token just made: the only moment its secret exists in clear."""

    token: ApiToken
    secret: str


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(*, user: AbstractBaseUser, name: str) -> NewToken:
    """Make a token for the person and keep only its hash; return the secret to show once."""
    name = name.strip()
    if not name:
        raise UserFacingError("Give the token a name that says where you use it, such as “JupyterHub”.")
    if active_tokens(user).count() >= MAX_ACTIVE_TOKENS:
        raise UserFacingError(f"You have {MAX_ACTIVE_TOKENS} active tokens. Revoke one you no longer use first.")
    while True:
        prefix = secrets.token_hex(ApiToken.PREFIX_CHARS // 2)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    secret = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name[:80], prefix=prefix, token_hash=token_hash(secret))
    return NewToken(token=token, secret=secret)


def active_tokens(user: AbstractBaseUser) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True)


def revoke_token(*, user: AbstractBaseUser, token_id: int) -> ApiToken:
    """Revoke one of the person's own tokens (404 for anyone else's); revoking twice changes nothing."""
    token = get_object_or_404(ApiToken.objects.filter(user=user), pk=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def user_of_secret(secret: str) -> AbstractBaseUser | None:
    """Return the active user holding this token, or None for an unknown, revoked or malformed one."""
    if not secret.startswith(TOKEN_START):
        return None
    prefix = secret[len(TOKEN_START) : len(TOKEN_START) + ApiToken.PREFIX_CHARS]
    token = ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    # compare_digest: how long the comparison takes says nothing about how much of the hash matched.
    if token is None or not hmac.compare_digest(token.token_hash, token_hash(secret)):
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_EVERY_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Authenticate API requests by `Authorization: Bearer <personal token>`; no CSRF, as no cookie is involved."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, None] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None  # let session authentication try
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as “Authorization: Bearer <token>”, with nothing else in the header."
            )
        user = user_of_secret(header[1])
        if user is None:
            raise exceptions.AuthenticationFailed(
                "This token is not valid: it may have been revoked. Create a new one on your API tokens page."
            )
        return user, None

    def authenticate_header(self, request: Request) -> str:
        # Naming the scheme makes DRF answer 401 (not 403) to a request that carries no credentials.
        return f'{self.keyword} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describe the personal tokens in the OpenAPI schema."""

    target_class = "grading.api_auth.BearerTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token, created on the site's API tokens page.",
        }
