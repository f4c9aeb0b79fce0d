"""How sign-in sees a person: their real address behind trusted proxies, and failed sign-ins counted per address."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from hackathon.client_address import client_address


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        """Return the client's address from trusted proxies only: every rate limit of allauth keys on it."""
        return client_address(request)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth's failed sign-in limit per "key" counts one account's failures from everywhere, so anyone who
        # knows an address could lock its owner out. Counting them per account *and* address keeps guessing slow
        # (ACCOUNT_RATE_LIMITS: 5 in 5 minutes per account from one address, 20 a minute from one address in all)
        # while the owner, elsewhere, still signs in. docs/security.md weighs this against distributed guessing.
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}@{client_address(request)}"
