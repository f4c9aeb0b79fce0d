"""Personal API tokens: made and shown once on the profile page, kept only as a hash, revoked for good."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client

from grading.api_auth import create_token
from grading.models import ApiToken
from tests.api.conftest import client_of
from tests.builders.people import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    browser = Client()
    assert browser.login(username=user.username, password=PASSWORD)
    return browser


def bearer(secret: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}"})


def test_a_created_token_is_shown_once_and_only_its_hash_is_stored():
    person = make_user()
    browser = signed_in(person)
    page = browser.post("/profile/tokens/new/", {"name": "JupyterHub"})
    assert page.status_code == 201 and page["Cache-Control"] == "no-store"
    secret = re.search(r'value="(hks_[^"]+)"', page.content.decode()).group(1)
    stored = ApiToken.objects.get(user=person)
    assert stored.name == "JupyterHub"
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {stored.prefix, stored.token_hash, stored.name}
    listing = browser.get("/profile/tokens/").content.decode()
    assert "JupyterHub" in listing and secret not in listing
    assert bearer(secret).get("/api/v1/submissions/").status_code == 200


def test_a_token_without_a_name_is_refused_with_a_message():
    browser = signed_in(make_user())
    page = browser.post("/profile/tokens/new/", {"name": "  "}, follow=True)
    assert "Give the token a name" in page.content.decode()
    assert not ApiToken.objects.exists()


def test_a_revoked_token_is_refused_401_at_once():
    person = make_user()
    new = create_token(user=person, name="laptop")
    assert bearer(new.secret).get("/api/v1/registrations/").status_code == 200
    page = signed_in(person).post(f"/profile/tokens/{new.token.pk}/revoke/", follow=True)
    assert "is revoked" in page.content.decode()
    response = bearer(new.secret).get("/api/v1/registrations/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_nobody_revokes_another_persons_token():
    owner = make_user()
    new = create_token(user=owner, name="mine")
    assert signed_in(make_user()).post(f"/profile/tokens/{new.token.pk}/revoke/").status_code == 404
    assert bearer(new.secret).get("/api/v1/registrations/").status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer hks_00000000_wrong", "Bearer a b", "Bearer not-even-our-format"],
)
def test_a_malformed_or_unknown_token_is_401_in_json(header):
    create_token(user=make_user(), name="real")
    response = Client(headers={"Authorization": header}).get("/api/v1/registrations/")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_token_with_a_known_prefix_but_a_wrong_secret_is_refused():
    new = create_token(user=make_user(), name="real")
    forged = new.secret[:-4] + ("AAAA" if not new.secret.endswith("AAAA") else "BBBB")
    assert bearer(forged).get("/api/v1/registrations/").status_code == 401


def test_a_token_of_a_deactivated_person_is_refused():
    person = make_user()
    client = client_of(person)
    person.is_active = False
    person.save()
    assert client.get("/api/v1/registrations/").status_code == 401


def test_the_tokens_page_needs_signing_in():
    response = Client().get("/profile/tokens/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_api_reference_page_lists_the_endpoints_from_the_schema():
    page = Client().get("/api/v1/docs/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "POST /api/v1/submissions/" in text and "<h1>" in text
    schema = Client().get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    assert "/api/v1/submissions/{uid}/" in schema.json()["paths"]
