"""An event takes registrations from its opening moment until, not including, its closing moment."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hackathon.models import Event

OPENS = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CLOSES = dt.datetime(2026, 3, 9, 18, 0, tzinfo=dt.UTC)


def _event() -> Event:
    return Event(title="Spring hackathon", registration_opens_at=OPENS, registration_closes_at=CLOSES)


def test_registration_is_open_from_its_opening_moment_until_just_before_it_closes() -> None:
    event = _event()
    assert not event.registration_is_open(OPENS - dt.timedelta(seconds=1))
    assert event.registration_is_open(OPENS)
    assert event.registration_is_open(CLOSES - dt.timedelta(seconds=1))
    assert not event.registration_is_open(CLOSES)


def test_the_refusal_says_when_registration_opens_or_that_it_closed_and_is_empty_while_open() -> None:
    event = _event()
    opens = timezone.localtime(OPENS)
    assert event.registration_refusal(OPENS - dt.timedelta(hours=1)) == (
        f"Registration for Spring hackathon opens on {opens:%d %b %Y at %H:%M}; come back then."
    )
    assert event.registration_refusal(OPENS) == ""
    assert event.registration_refusal(CLOSES).startswith("Registration for Spring hackathon closed on ")
