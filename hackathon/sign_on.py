"""Which account a sign-in through the identity provider (INFN AAI, an IAM instance) opens: the one rule for it."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.contrib.auth.models import AbstractUser


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
