"""Prepare the test OpenID Connect issuer: migrate its database, register the platform as a client, add people.

Run as a script with the issuer's environment (DJANGO_SETTINGS_MODULE=tests.oidc_issuer.settings, ISSUER_DATABASE,
ISSUER_RSA_PRIVATE_KEY, ISSUER_SECRET_KEY); tests/e2e/conftest.py does, then serves the issuer with runserver.

    python tests/oidc_issuer/issuer.py prepare CLIENT_ID CLIENT_SECRET REDIRECT_URI
    python tests/oidc_issuer/issuer.py person USERNAME PASSWORD EMAIL verified|unverified
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(client_id: str, client_secret: str, redirect_uri: str) -> None:
    """Migrate, then register the platform as a confidential client that signs in with the authorization code."""
    _setup_django()
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0, interactive=False)
    Application.objects.create(
        name="ML_INFN hackathon platform",
        client_id=client_id,
        client_secret=client_secret,  # hashed on save, as a real issuer keeps it
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,  # an institution's issuer asks no consent for its own services
    )


def person(username: str, password: str, email: str, verification: str) -> None:
    """Create an issuer account; `verified` puts it in the group whose members' email_verified is true."""
    if verification not in ("verified", "unverified"):
        raise SystemExit(f"{verification!r}: say verified or unverified.")
    _setup_django()
    from django.contrib.auth.models import Group, User

    from tests.oidc_issuer.claims import VERIFIED_GROUP

    user = User.objects.create_user(username=username, password=password, email=email)
    if verification == "verified":
        user.groups.add(Group.objects.get_or_create(name=VERIFIED_GROUP)[0])


def main(argv: list[str]) -> None:
    if len(argv) == 4 and argv[0] == "prepare":
        prepare(*argv[1:])
    elif len(argv) == 5 and argv[0] == "person":
        person(*argv[1:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
