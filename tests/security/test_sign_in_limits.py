"""Limits on failed sign-ins slow guessing down without letting anyone lock another person out.

The site sits behind a reverse proxy (TRUSTED_PROXIES): every request's peer is the proxy, and the person's address
is in X-Forwarded-For. Limits count per real address, and per account from one address.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory
from django.urls import reverse

from hackathon.client_address import client_address
from hackathon.config.env import env_networks
from tests.builders.people import PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

PROXY = "10.0.0.2"
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture(autouse=True)
def behind_the_proxy(settings):  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = (ipaddress.ip_network("10.0.0.0/24"),)


def sign_in(email: str, password: str, *, address: str, peer: str = PROXY) -> bool:
    """Try to sign in through the proxy from `address`; return whether it let the person in."""
    client = Client(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=address)
    response = client.post(reverse("account_login"), {"login": email, "password": password})
    return response.status_code == 302 and "_auth_user_id" in client.session


def test_eleven_failures_of_one_person_lock_nobody_else_behind_the_same_proxy() -> None:
    # The found case: ten failures from the proxy's one address locked every account.
    careless, other = make_user(), make_user()
    for _ in range(11):
        assert not sign_in(careless.email, "wrong password", address="198.51.100.7")
    assert sign_in(other.email, PASSWORD, address="203.0.113.20")


def test_one_persons_failures_do_not_lock_out_someone_sharing_their_address() -> None:
    # A venue's network: a room of participants behind one address.
    careless, neighbour = make_user(), make_user()
    for _ in range(11):
        sign_in(careless.email, "wrong password", address="198.51.100.7")
    assert sign_in(neighbour.email, PASSWORD, address="198.51.100.7")


def test_a_locked_person_who_keeps_trying_does_not_lock_out_someone_sharing_their_address() -> None:
    # Found trying it behind nginx: attempts refused for the locked account still counted toward the address's
    # limit, so twenty clicks on Sign In locked the whole room for a minute.
    careless, neighbour = make_user(), make_user()
    for _ in range(30):
        sign_in(careless.email, "wrong password", address="198.51.100.9")
    assert sign_in(neighbour.email, PASSWORD, address="198.51.100.9")


def test_an_attacker_guessing_a_persons_password_does_not_lock_that_person_out() -> None:
    victim = make_user()
    for _ in range(30):
        sign_in(victim.email, "guess", address="192.0.2.66")
    assert not sign_in(victim.email, PASSWORD, address="192.0.2.66")  # the attacker's address is slowed down
    assert sign_in(victim.email, PASSWORD, address="198.51.100.8")  # the owner, elsewhere, is not


def test_five_failures_on_one_account_from_one_address_stop_even_the_right_password_there() -> None:
    person = make_user()
    for _ in range(5):
        sign_in(person.email, "wrong password", address="198.51.100.9")
    assert not sign_in(person.email, PASSWORD, address="198.51.100.9")


def test_twenty_failures_from_one_address_stop_it_trying_any_account() -> None:
    people = [make_user() for _ in range(21)]
    for person in people[:20]:
        sign_in(person.email, "wrong password", address="192.0.2.77")
    assert not sign_in(people[20].email, PASSWORD, address="192.0.2.77")
    assert sign_in(people[20].email, PASSWORD, address="192.0.2.78")


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    # An attacker who reaches the site directly cannot pose as many addresses to dodge the address limit.
    people = [make_user() for _ in range(21)]
    for n, person in enumerate(people[:20]):
        sign_in(person.email, "wrong password", address=f"198.51.100.{n + 100}", peer="192.0.2.99")
    assert not sign_in(people[20].email, PASSWORD, address="198.51.100.250", peer="192.0.2.99")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        (PROXY, "198.51.100.7", "198.51.100.7"),
        (PROXY, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client's own header entry is not believed
        (PROXY, "198.51.100.7, 10.0.0.3", "198.51.100.7"),  # two trusted proxies in a row
        (PROXY, "not-an-address", PROXY),  # garbled: believe no further than the proxy itself
        (PROXY, "", PROXY),
        ("192.0.2.99", "198.51.100.7", "192.0.2.99"),  # an untrusted peer's header is ignored
        ("::ffff:10.0.0.2", "2001:db8::1", "2001:db8::1"),  # an IPv4 proxy seen on a dual-stack socket
    ],
)
def test_the_client_address_is_read_from_trusted_proxies_only(peer: str, forwarded_for: str, client: str) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded_for)
    assert client_address(request) == client


def test_a_bad_trusted_proxy_entry_is_refused_with_the_accepted_forms(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8,proxy.example.org")
    with pytest.raises(ImproperlyConfigured, match="'proxy.example.org'.*CIDR"):
        env_networks("TRUSTED_PROXIES")


def test_the_compose_stack_and_the_kubernetes_settings_name_their_trusted_proxies() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    configmap = yaml.safe_load((DEPLOY / "k8s/base/configmap.yaml").read_text())
    web = compose["services"]["web"]["environment"]
    compose_value = web["TRUSTED_PROXIES"].split(":-", 1)[1].rstrip("}")  # ${TRUSTED_PROXIES:-default}
    for value in (compose_value, configmap["data"]["TRUSTED_PROXIES"]):
        assert [ipaddress.ip_network(item.strip()) for item in value.split(",")]
