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


def through_the_issuer(page: Any, site: SignOnSite, username: str, shot: str) -> None:
    """On the issuer's own page, sign in as `username`; the issuer then sends the browser back to the site."""
    page.get_by_role("heading", name="Test identity provider").wait_for()
    assert page.url.startswith(site.issuer_url)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(ISSUER_PASSWORD)
    shoot(page, shot)
    page.get_by_role("button", name="Sign in to the identity provider").click()
    page.wait_for_url(lambda url: url.startswith(site.url))
    page.wait_for_load_state()


def sign_in_through_the_provider(page: Any, site: SignOnSite, username: str, shot: str, start: str = "/") -> None:
    """From the `start` page, go to the site's sign-in page, choose the provider and sign in at the issuer."""
    page.goto(site.page_url(start))
    if page.get_by_role("heading", name="Sign In").count() == 0:
        page.get_by_role("link", name="Sign in").first.click()
    shoot(page, f"{shot}-site")
    page.get_by_role("button", name=f"Sign in with {PROVIDER}").click()
    through_the_issuer(page, site, username, f"{shot}-issuer")
    shoot(page, shot)


def account_exists_email(site: SignOnSite, email: str) -> str:
    """Return the body of the 'account already exists' email sent to `email` (the console mailer prints it)."""
    text = site.server_log.read_text(errors="replace")
    at = text.rfind(f"To: {email}")
    assert at >= 0, f"no email to {email} in the site's output"
    body = text[at:].split("-" * 40, 1)[0]
    assert "Account Already Exists" in text[max(0, text.rfind("Subject:", 0, at)) : at]
    return " ".join(body.split())


def sign_in_with_password(page: Any, site: SignOnSite, email: str, password: str = PASSWORD) -> None:
    page.goto(site.page_url("/accounts/login/"))
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(password)
    page.locator("main form").get_by_role("button", name="Sign In", exact=True).click()
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

    # Another day, another browser, straight to a page that needs signing in: the issuer asks for the password
    # again, and the site opens the same account on the page that was asked for.
    page = new_person()
    sign_in_through_the_provider(page, site, "nuova", "sso-02-next-sign-in", start="/profile/tokens/")
    assert signed_in_as(page) == email
    assert page.url == site.page_url("/profile/tokens/")
    assert page.get_by_text("laptop of the first sign-in").count() == 1
    assert (accounts_with(site, email), links_to(site, email)) == (1, 1)


def test_a_first_sign_in_with_an_address_the_issuer_has_not_confirmed_waits_for_the_person_to_confirm_it_here(
    sign_on_site: SignOnSite, new_person: Any
) -> None:
    site, email = sign_on_site, "nuovo.non.confermato@infn.example.org"
    site.add_issuer_account("nonconfermato", email, verified=False)

    page = new_person()
    sign_in_through_the_provider(page, site, "nonconfermato", "sso-03-unverified-new-account")
    assert signed_in_as(page) == ""
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()
    assert (accounts_with(site, email), links_to(site, email)) == (1, 1)
    # Following the emailed link proves the address; the next sign-in through the provider then opens the account.
    page.goto(site.confirmation_link(email))
    page.locator("main form").get_by_role("button", name="Confirm").click()
    page = new_person()
    sign_in_through_the_provider(page, site, "nonconfermato", "sso-03-unverified-new-account-confirmed")
    assert signed_in_as(page) == email


def test_a_first_sign_in_with_an_address_both_sides_confirmed_opens_the_account_that_holds_it(
    sign_on_site: SignOnSite, new_person: Any
) -> None:
    site, email = sign_on_site, "gia.registrata@infn.example.org"
    site.run_script("account", email, "verified")
    site.add_issuer_account("registrata", email, verified=True)

    page = new_person()
    sign_in_through_the_provider(page, site, "registrata", "sso-04-linked-by-verified-email")
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
    sign_in_through_the_provider(page, site, "intruso", "sso-05-unverified-email-refused")
    assert signed_in_as(page) == ""
    assert (accounts_with(site, email), links_to(site, email)) == (1, 0)
    # The page cannot say why without telling a stranger the address has an account: the address's owner is told.
    assert "If it was not you, you need not do anything" in account_exists_email(site, email)
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
    sign_in_through_the_provider(page, site, "conteso", "sso-06-unmatched-email-refused")
    assert signed_in_as(page) == ""
    assert (accounts_with(site, email), links_to(site, email)) == (1, 0)
    # The address's owner is told what to do next: recover the account by email, then connect the provider.
    told = account_exists_email(site, email)
    assert "/accounts/password/reset/" in told
    assert f"To sign in through {PROVIDER} from now on, connect it to that account" in told


def sign_up_with_a_password(page: Any, site: SignOnSite, email: str, password: str) -> None:
    """Create an account through the sign-up form, confirm it by the emailed link, and end signed in."""
    page.goto(site.page_url("/accounts/signup/"))
    page.locator("#id_first_name").fill("Paola")
    page.locator("#id_last_name").fill("Password")
    page.locator("#id_email").fill(email)
    page.locator("#id_password1").fill(password)
    page.locator("#id_password2").fill(password)
    page.locator("main form").get_by_role("button", name="Sign Up").click()
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()
    page.goto(site.confirmation_link(email))
    page.locator("main form").get_by_role("button", name="Confirm").click()
    if not signed_in_as(page):
        sign_in_with_password(page, site, email, password)
    assert signed_in_as(page) == email


def test_a_person_who_signed_up_with_a_password_connects_the_provider_from_their_account_then_signs_in_through_it(
    sign_on_site: SignOnSite, new_person: Any
) -> None:
    site, email, password = sign_on_site, "con.password@example.org", "a-long-enough-passphrase-42"
    # At the institution the person has another address: only connecting from the account can tie the two.
    institutional = "maria.rossi@infn.example.org"
    site.add_issuer_account("mrossi", institutional, verified=True)

    page = new_person()
    sign_up_with_a_password(page, site, email, password)
    page.get_by_role("link", name="Account").click()
    shoot(page, "sso-07-account-email-addresses")
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Sign-in providers").click()
    shoot(page, "sso-08-account-sign-in-providers")
    page.get_by_role("button", name=f"Connect {PROVIDER}").click()
    through_the_issuer(page, site, "mrossi", "sso-09-connect-at-the-issuer")
    shoot(page, "sso-10-provider-connected")
    assert page.get_by_role("heading", name="Sign-in providers").count() == 1
    assert page.get_by_text(f"{PROVIDER}: ").count() == 1
    assert signed_in_as(page) == email
    assert (links_to(site, email), accounts_with(site, institutional)) == (1, 0)
    sign_out(page)

    page = new_person()
    sign_in_through_the_provider(page, site, "mrossi", "sso-11-sign-in-through-the-connected-provider")
    assert signed_in_as(page) == email
    assert (accounts_with(site, email), accounts_with(site, institutional)) == (1, 0)
