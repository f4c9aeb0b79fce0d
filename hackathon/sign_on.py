"""Which account a sign-in through the identity provider (INFN AAI, an IAM instance) opens: the one rule for it."""

from __future__ import annotations

import logging
from collections.abc import Callable

import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)


class SignOnAdapter(DefaultSocialAccountAdapter):
    """allauth's adapter, matching a new provider identity to an account only by an address confirmed on both sides."""

    def authenticate_by_email(self, sociallogin: SocialLogin) -> tuple[AbstractUser, str] | None:
        """Return the account, and the address, that a first sign-in through the provider may open, or None.

        The issuer must say email_verified, and this site must have confirmed the address too. allauth would also
        open an account whose holder never confirmed the address (wiping its password): that holder may be someone
        who typed another person's address, or planted it to be found. Such a sign-in is treated as a new person
        instead, whom the address's real owner can recover through the emailed password reset.
        """
        for address in sociallogin.email_addresses:
            if not address.verified or not self.can_authenticate_by_email(sociallogin, address.email):
                continue
            confirmed = EmailAddress.objects.filter(email__iexact=address.email, verified=True).select_related("user")
            if match := confirmed.first():
                return match.user, match.email
        return None


class IssuerUnreachableMiddleware:
    """Answer a sentence, not a 500, when the issuer cannot be reached as a person starts to sign in through it.

    allauth reads the issuer's discovery document when the sign-in (or connect) button is pressed and lets a
    connection error through; on the way back (the callback) it already shows its own failure page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        match = request.resolver_match
        if not isinstance(exception, requests.RequestException) or match is None:
            return None
        if match.url_name != "openid_connect_login":
            return None
        logger.warning("The identity provider at %s could not be reached: %s", settings.OIDC_ISSUER, exception)
        context = {"provider_name": settings.OIDC_PROVIDER_NAME}
        return render(request, "socialaccount/issuer_unreachable.html", context, status=502)
