"""When submissions close for one person: the exercise's closing, or their extension, in their own time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from hackathon.models import Event, EventExercise, Extension, Preferences
from hackathon.permissions import AnyUser

# The last stretch in which pages count the minutes down.
COUNTDOWN_SECONDS = 3600


def time_zone_of(user: AnyUser) -> zoneinfo.ZoneInfo:
    """Return the time zone the person chose (Preferences), or the site's TIME_ZONE."""
    name = ""
    if user.is_authenticated:
        name = Preferences.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first() or ""
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def in_zone(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """Write a moment as the pages do, in the given zone, naming it: "30 Nov 2026 at 18:00 (Europe/Rome)"."""
    local = moment.astimezone(zone)
    return f"{local:%d %b %Y at %H:%M} ({zone})"


@dataclass(frozen=True)
class Deadline:
    """When one person may submit to one event exercise.

    `closes_at` is when the window closes for this person: the exercise's closing, or later under an extension
    (`extension` names it, `extended` says so). `zone` is the person's time zone for showing it.
    """

    event_exercise: EventExercise
    opens_at: dt.datetime
    closes_at: dt.datetime
    zone: zoneinfo.ZoneInfo
    extension: Extension | None = None

    @property
    def extended(self) -> bool:
        return self.extension is not None

    def is_open(self, at: dt.datetime | None = None) -> bool:
        moment = at or timezone.now()
        return self.opens_at <= moment < self.closes_at and not self.event_exercise.held_by_gate

    def is_extension_time(self, at: dt.datetime | None = None) -> bool:
        """Whether a submission at this moment is accepted only thanks to the person's extension."""
        moment = at or timezone.now()
        return self.extended and self.event_exercise.closes_at <= moment < self.closes_at

    def seconds_left(self, at: dt.datetime | None = None) -> float:
        """Seconds until submissions close for this person (0 once closed)."""
        return max(0.0, (self.closes_at - (at or timezone.now())).total_seconds())

    def counts_down(self, at: dt.datetime | None = None) -> bool:
        """Whether it closes within the hour: pages and the client then count the minutes down."""
        moment = at or timezone.now()
        return self.is_open(moment) and self.seconds_left(moment) <= COUNTDOWN_SECONDS

    @property
    def closes_iso(self) -> str:
        """The closing moment in UTC, to the second, as scripts parse it ("2026-11-30T17:00:00Z")."""
        return self.closes_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def closes_text(self) -> str:
        return in_zone(self.closes_at, self.zone)

    def text(self, at: dt.datetime | None = None) -> str:
        """Say when submissions close for this person, in their time zone, and that it is an extension when it is."""
        moment = at or timezone.now()
        if self.event_exercise.held_by_gate and moment < self.closes_at:
            return self.event_exercise.window_text(moment)
        if moment < self.opens_at:
            return f"Opens on {in_zone(self.opens_at, self.zone)}; submissions close on {self.closes_text}"
        if moment >= self.closes_at:
            return f"Closed on {self.closes_text}"
        text = f"Submissions close on {self.closes_text}"
        if self.extension is not None:
            closes = in_zone(self.event_exercise.closes_at, self.zone)
            text += f", thanks to your extension (the exercise closes on {closes})"
        return text

    def countdown(self, at: dt.datetime | None = None) -> str:
        """Return "42 min left" in the last hour before submissions close for this person, else ""."""
        moment = at or timezone.now()
        return f"{countdown_text(self.seconds_left(moment))} left" if self.counts_down(moment) else ""

    def refusal(self, at: dt.datetime | None = None) -> str:
        """Return why a notebook cannot be submitted now, as a sentence, or "" while the window is open for them."""
        moment = at or timezone.now()
        if self.extension is None or moment < self.opens_at or self.event_exercise.held_by_gate:
            return self.event_exercise.window_refusal(moment)
        if moment >= self.closes_at:
            return (
                f"{self.event_exercise.exercise.title} takes no more submissions from you: your extension ended on "
                f"{self.closes_text}. Your earlier submissions and their scores are kept."
            )
        return ""


def countdown_text(seconds: float) -> str:
    """Say a short remaining time as people read it: "42 min", "1 min", "less than a minute"."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    return f"{minutes} min"


def deadline_for(event_exercise: EventExercise, user: AnyUser) -> Deadline:
    """Return the person's deadline on the event exercise: its own closing, or the latest of their extensions."""
    zone = time_zone_of(user)
    extension = None
    if user.is_authenticated:
        extension = (
            Extension.objects.filter(event_exercise=event_exercise, user_id=user.pk, until__gt=event_exercise.closes_at)
            .order_by("-until", "-id")
            .first()
        )
    closes_at = extension.until if extension is not None else event_exercise.closes_at
    return Deadline(event_exercise, event_exercise.opens_at, closes_at, zone, extension)


def extended_until(event: Event, user_id: int) -> dict[int, dt.datetime]:
    """Return the end of the person's latest extension on each exercise of the event that has one, in one query."""
    return dict(
        Extension.objects.filter(event_exercise__event=event, user_id=user_id)
        .values_list("event_exercise_id")
        .annotate(until=Max("until"))
        .values_list("event_exercise_id", "until")
    )
