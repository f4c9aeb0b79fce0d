"""Events and the people in them: who organizes, who tutors, who takes part."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

DEFAULT_CAPACITY = {"base": 60, "advanced": 30}
DEFAULT_PARTICIPANTS_PER_TUTOR = {"base": 5, "advanced": 1}


class Event(models.Model):
    """One hackathon edition: a base online event or an advanced in-person one."""

    class Level(models.TextChoices):
        BASE = "base", "Base"
        ADVANCED = "advanced", "Advanced"

    class Mode(models.TextChoices):
        ONLINE = "online", "Online"
        IN_PERSON = "in_person", "In person"

    class Compute(models.TextChoices):
        CPU = "cpu", "CPU"
        GPU = "gpu", "GPU"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    level = models.CharField(max_length=10, choices=Level.choices)
    mode = models.CharField(max_length=10, choices=Mode.choices)
    venue = models.CharField(max_length=200, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    registration_opens_at = models.DateTimeField()
    registration_closes_at = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    participants_per_tutor = models.PositiveIntegerField()
    compute = models.CharField(max_length=3, choices=Compute.choices)
    published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(registration_closes_at__gt=models.F("registration_opens_at")),
                name="event_registration_closes_after_opening",
            ),
            models.CheckConstraint(condition=models.Q(capacity__gte=1), name="event_capacity_positive"),
            models.CheckConstraint(
                condition=models.Q(participants_per_tutor__gte=1), name="event_tutor_ratio_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("event_detail", kwargs={"slug": self.slug})


class EventRole(models.Model):
    """A person's staff role in one event; participants are those with a confirmed registration."""

    class Role(models.TextChoices):
        ORGANIZER = "organizer", "Organizer"
        TUTOR = "tutor", "Tutor"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_roles")
    role = models.CharField(max_length=10, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "user", "role"], name="unique_event_role")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.event}"


class Registration(models.Model):
    """A person's registration for an event, from waiting list to confirmed place."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting approval"
        CONFIRMED = "confirmed", "Confirmed"
        WAITING = "waiting", "On the waiting list"
        OFFERED = "offered", "Place offered"
        CANCELLED = "cancelled", "Cancelled"
        REJECTED = "rejected", "Not accepted"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registrations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="unique_registration")]

    def __str__(self) -> str:
        return f"{self.user} at {self.event} ({self.get_status_display()})"


def new_secret_seed() -> int:
    """Draw the secret seed of an event's hidden set; it never leaves the database and the workers."""
    return secrets.randbits(62)


class EventExercise(models.Model):
    """An exercise opened to an event's participants, with its own hidden set and submission window."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="event_exercises")
    exercise = models.ForeignKey("exercises.Exercise", on_delete=models.PROTECT, related_name="event_exercises")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    secret_seed = models.BigIntegerField(default=new_secret_seed, editable=False)
    submissions_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Leave empty for the site's default (SUBMISSIONS_PER_DAY)."
    )

    class Meta:
        ordering = ["opens_at", "exercise__title"]
        constraints = [
            models.UniqueConstraint(fields=["event", "exercise"], name="unique_event_exercise"),
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")), name="event_exercise_closes_after_opening"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise} in {self.event}"

    def is_open(self, at: dt.datetime | None = None) -> bool:
        moment = at or timezone.now()
        return self.opens_at <= moment < self.closes_at
