"""What the test issuer says about a person: the standard claims the platform reads, `email_verified` above all."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator

# An issuer account whose address the issuer has confirmed belongs to this group; any other says email_verified=false.
VERIFIED_GROUP = "email-verified"


CLAIMS = ["sub", "email", "email_verified", "preferred_username", "given_name", "family_name", "name"]


class IdentityClaims(OAuth2Validator):
    """Add the person's email, its verification and their names to the ID token and the userinfo answer."""

    def get_discovery_claims(self, request: Any) -> list[str]:
        return CLAIMS

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        return {
            "email": user.email,
            "email_verified": user.groups.filter(name=VERIFIED_GROUP).exists(),
            "preferred_username": user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "name": f"{user.first_name} {user.last_name}".strip(),
        }
