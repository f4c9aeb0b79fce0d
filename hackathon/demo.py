"""The demo data that `make run` loads on first start: two events shaped like the institute's editions."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from hackathon.models import DEFAULT_CAPACITY, DEFAULT_PARTICIPANTS_PER_TUTOR, Event, EventRole, Registration

ORGANIZER = "organizer@demo.ml-infn.example"
TUTORS = ["tutor1@demo.ml-infn.example", "tutor2@demo.ml-infn.example"]
PARTICIPANTS = [f"participant{i}@demo.ml-infn.example" for i in range(1, 7)]


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    password: str


def demo_loaded() -> bool:
    return get_user_model().objects.filter(email=ORGANIZER).exists()


def _make_user(email: str, password: str, *, staff: bool = False):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(
        username=email.split("@")[0], email=email, password=password, is_staff=staff
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@transaction.atomic
def load_demo() -> list[DemoAccount]:
    """Create the demo people and events once; return the accounts with their new passwords."""
    if demo_loaded():
        return []
    today = timezone.localdate()
    now = timezone.now()
    base = Event.objects.create(
        title="ML_INFN base hackathon (online)",
        slug="base-online",
        description="Five afternoons online: lectures on machine learning for physics, then hands-on exercises "
        "on CPU resources, one tutor for every five participants.",
        level=Event.Level.BASE,
        mode=Event.Mode.ONLINE,
        starts_on=today + dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=5),
        registration_opens_at=now - dt.timedelta(days=30),
        registration_closes_at=now + dt.timedelta(days=1),
        capacity=DEFAULT_CAPACITY["base"],
        participants_per_tutor=DEFAULT_PARTICIPANTS_PER_TUTOR["base"],
        compute=Event.Compute.CPU,
    )
    advanced = Event.objects.create(
        title="ML_INFN advanced hackathon (Pisa)",
        slug="advanced-pisa",
        description="Three days in person: use cases from the institute's research, each group with its tutor, "
        "GPU resources on the INFN Cloud.",
        level=Event.Level.ADVANCED,
        mode=Event.Mode.IN_PERSON,
        venue="INFN Sezione di Pisa",
        starts_on=today + dt.timedelta(days=30),
        ends_on=today + dt.timedelta(days=32),
        registration_opens_at=now - dt.timedelta(days=10),
        registration_closes_at=now + dt.timedelta(days=20),
        capacity=DEFAULT_CAPACITY["advanced"],
        participants_per_tutor=DEFAULT_PARTICIPANTS_PER_TUTOR["advanced"],
        compute=Event.Compute.GPU,
    )
    accounts: list[DemoAccount] = []

    def account(email: str, role: str, *, staff: bool = False):  # type: ignore[no-untyped-def]
        password = secrets.token_urlsafe(9)
        accounts.append(DemoAccount(email=email, role=role, password=password))
        return _make_user(email, password, staff=staff)

    organizer = account(ORGANIZER, "organizer of both events (site staff)", staff=True)
    for event in (base, advanced):
        EventRole.objects.create(event=event, user=organizer, role=EventRole.Role.ORGANIZER)
    for email in TUTORS:
        tutor = account(email, "tutor of both events")
        for event in (base, advanced):
            EventRole.objects.create(event=event, user=tutor, role=EventRole.Role.TUTOR)
    for i, email in enumerate(PARTICIPANTS):
        person = account(email, "participant of the base event" + (" and the advanced one" if i < 2 else ""))
        Registration.objects.create(event=base, user=person, status=Registration.Status.CONFIRMED)
        if i < 2:
            Registration.objects.create(event=advanced, user=person, status=Registration.Status.CONFIRMED)
    return accounts
