"""People sign up and sign in with email and password, verify their email and reset a forgotten password."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.builders.people import PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def test_signing_up_sends_a_verification_email_and_verifying_lets_the_person_in(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "ada@example.org",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "password1": "a-long-Passphrase-1",
            "password2": "a-long-Passphrase-1",
        },
    )
    assert response.status_code == 302
    assert get_user_model().objects.get(email="ada@example.org").get_full_name() == "Ada Lovelace"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ada@example.org"]
    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[1] if "testserver" in link else "/" + link.split("/", 3)[3]
    confirmed = client.post(path)
    assert confirmed.status_code == 302
    assert get_user_model().objects.get(email="ada@example.org").emailaddress_set.get().verified


def test_an_unverified_person_cannot_sign_in(client):
    make_user("unverified@example.org", verified=False)
    response = client.post(reverse("account_login"), {"login": "unverified@example.org", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 302
    assert "confirm-email" in response["Location"] or "verification" in response["Location"]


def test_a_verified_person_signs_in_with_email_and_password(client):
    make_user("grace@example.org")
    response = client.post(reverse("account_login"), {"login": "grace@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("hackathon:home")
    assert "_auth_user_id" in client.session


def test_a_wrong_password_is_refused_with_a_message(client):
    make_user("grace@example.org")
    response = client.post(reverse("account_login"), {"login": "grace@example.org", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert b"not correct" in response.content


def test_a_forgotten_password_can_be_reset_by_email(client):
    make_user("lise@example.org")
    response = client.post(reverse("account_reset_password"), {"email": "lise@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "password" in mail.outbox[0].subject.lower()
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_the_login_page_offers_the_configured_openid_connect_provider(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "infn-aai",
                    "name": "INFN AAI",
                    "client_id": "hackathon",
                    "secret": "s3cret",
                    "settings": {"server_url": "https://iam.example.org"},
                }
            ]
        }
    }
    page = client.get(reverse("account_login"))
    assert page.status_code == 200
    assert b"INFN AAI" in page.content
    assert b"/accounts/oidc/infn-aai/login/" in page.content


def test_without_an_openid_connect_provider_the_login_page_shows_none(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    page = client.get(reverse("account_login"))
    assert b"/accounts/oidc/" not in page.content


def test_account_emails_carry_the_platform_s_name_not_example_com(client):
    make_user("lise@example.org")
    client.post(reverse("account_reset_password"), {"email": "lise@example.org"})
    assert "ML_INFN hackathons" in mail.outbox[0].subject
    assert "example.com" not in mail.outbox[0].subject + mail.outbox[0].body


def test_signing_up_without_a_name_is_refused_with_the_field_named(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "noname@example.org", "password1": "a-long-Passphrase-1", "password2": "a-long-Passphrase-1"},
    )
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not get_user_model().objects.filter(email="noname@example.org").exists()
