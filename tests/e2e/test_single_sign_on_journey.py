"""Single sign-on through a live OpenID Connect issuer, in a real browser (issue 18, item 7).

The site runs with OIDC_ISSUER pointing at tests/oidc_issuer/, a django-oauth-toolkit issuer in a process of its own,
as INFN AAI or an INDIGO IAM instance would be: discovery, RS256-signed ID tokens, userinfo with email_verified.
Each test gives its people addresses of their own, so the tests share one site and one issuer in any order.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browsing import ISSUER_PASSWORD, SignOnSite, requires_browser, shoot
from tests.e2e.site_data import PASSWORD

pytestmark = [requires_browser, pytest.mark.slow]

PROVIDER = "INFN AAI"


def accounts_with(site: SignOnSite, email: str) -> int:
    return site.count("select count(*) from auth_user where lower(email) = lower(?)", email)


def links_to(site: SignOnSite, email: str) -> int:
    """Count the provider identities connected to the account whose address is `email`."""
    return site.count(
        "select count(*) from socialaccount_socialaccount s join auth_user u on u.id = s.user_id "
        "where lower(u.email) = lower(?)",
        email,
    )


def signed_in_as(page: Any) -> str:
    badge = page.get_by_label("Signed in as")
    return badge.inner_text() if badge.count() else ""


def through_the_issuer(page: Any, username: str, shot: str) -> None:
    """On the issuer's own page, sign in as `username`; the issuer then sends the browser back to the site."""
    page.get_by_role("heading", name="Test identity provider").wait_for()
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(ISSUER_PASSWORD)
    shoot(page, shot)
    page.get_by_role("button", name="Sign in to the identity provider").click()
    page.wait_for_url(lambda url: not url.startswith(page.context.issuer_url))  # type: ignore[attr-defined]
    page.wait_for_load_state()


def sign_in_through_the_provider(page: Any, site: SignOnSite, username: str, shot: str) -> None:
    """From the site's sign-in page, choose the provider and sign in at the issuer."""
    page.context.issuer_url = site.issuer_url
    page.goto(site.page_url("/"))
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_role("link", name=PROVIDER).click()
    page.get_by_role("button", name="Continue").click()
    through_the_issuer(page, username, f"{shot}-issuer")
    shoot(page, shot)


def sign_in_with_password(page: Any, site: SignOnSite, email: str, password: str = PASSWORD) -> None:
    page.goto(site.page_url("/accounts/login/"))
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(password)
    page.locator("main form").get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in").first.wait_for()


def test_the_first_sign_in_through_the_provider_creates_the_account_and_the_next_lands_in_the_same_one(
    sign_on_site: SignOnSite, new_person: Any
) -> None:
    site, email = sign_on_site, "nuova.persona@infn.example.org"
    site.add_issuer_account("nuova", email, verified=True)

    page = new_person()
    sign_in_through_the_provider(page, site, "nuova", "sso-01-first-sign-in")
    assert signed_in_as(page) == email
    assert (accounts_with(site, email), links_to(site, email)) == (1, 1)
    # Something only this account has, to find again after the next sign-in.
    page.goto(site.page_url("/profile/tokens/"))
    page.locator("#token-name").fill("laptop of the first sign-in")
    page.get_by_role("button", name="Create token").click()
    sign_out(page)

    # Another day, another browser: the issuer asks for the password again and the site opens the same account.
    page = new_person()
    sign_in_through_the_provider(page, site, "nuova", "sso-02-next-sign-in")
    assert signed_in_as(page) == email
    assert (accounts_with(site, email), links_to(site, email)) == (1, 1)
    page.goto(site.page_url("/profile/tokens/"))
    assert page.get_by_text("laptop of the first sign-in").count() == 1


def test_a_first_sign_in_with_an_address_both_sides_confirmed_opens_the_account_that_holds_it(
    sign_on_site: SignOnSite, new_person: Any
) -> None:
    site, email = sign_on_site, "gia.registrata@infn.example.org"
    site.run_script("account", email, "verified")
    site.add_issuer_account("registrata", email, verified=True)

    page = new_person()
    sign_in_through_the_provider(page, site, "registrata", "sso-03-linked-by-verified-email")
    assert signed_in_as(page) == email
    assert (accounts_with(site, email), links_to(site, email)) == (1, 1)
    # The password still opens the account: linking took nothing away from its owner.
    sign_out(page)
    sign_in_with_password(page, site, email)
    assert signed_in_as(page) == email


def test_an_address_the_issuer_has_not_confirmed_never_opens_the_account_that_holds_it(
    sign_on_site: SignOnSite, new_person: Any
) -> None:
    site, email = sign_on_site, "vittima.unverified@infn.example.org"
    site.run_script("account", email, "verified")
    # Someone whose issuer account claims the victim's address, which the issuer never confirmed.
    site.add_issuer_account("intruso", email, verified=False)

    page = new_person()
    sign_in_through_the_provider(page, site, "intruso", "sso-04-unverified-email-refused")
    assert signed_in_as(page) == ""
    assert (accounts_with(site, email), links_to(site, email)) == (1, 0)
    # The owner still signs in with the password.
    owner = new_person()
    sign_in_with_password(owner, site, email)
    assert signed_in_as(owner) == email


def test_an_address_the_site_has_not_confirmed_is_never_matched_to_the_account_that_holds_it(
    sign_on_site: SignOnSite, new_person: Any
) -> None:
    site, email = sign_on_site, "conteso.unmatched@infn.example.org"
    # An account that claims the address but never confirmed it: nothing says its holder owns it.
    site.run_script("account", email, "unverified")
    site.add_issuer_account("conteso", email, verified=True)

    page = new_person()
    sign_in_through_the_provider(page, site, "conteso", "sso-05-unmatched-email-refused")
    assert signed_in_as(page) == ""
    assert (accounts_with(site, email), links_to(site, email)) == (1, 0)
