"""The demo data that `make run` loads on first start: two events shaped like the institute's editions."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from exercises.models import Exercise
from hackathon import services
from hackathon.models import (
    DEFAULT_CAPACITY,
    DEFAULT_GROUP_SIZE,
    DEFAULT_PARTICIPANTS_PER_TUTOR,
    Event,
    EventExercise,
    EventRole,
    Preference,
    Registration,
    Session,
)

logger = logging.getLogger(__name__)

ORGANIZER = "organizer@demo.ml-infn.example"
TUTORS = ["tutor1@demo.ml-infn.example", "tutor2@demo.ml-infn.example"]
PARTICIPANTS = [f"participant{i}@demo.ml-infn.example" for i in range(1, 7)]
# Who the demo participants are: (affiliation, career stage, ML experience), one per participant.
PROFILES = [
    ("pisa", "phd", "basic"),
    ("bari", "postdoc", "advanced"),
    ("lnf", "student", "none"),
    ("firenze", "staff", "basic"),
    ("other", "technologist", "none"),
    ("torino", "phd", "basic"),
]
# The base programme as the institute runs it: lectures, then hands-on and seminars, then the hackathon.
BASE_PROGRAMME = [
    (0, "14:00", "15:30", Session.Kind.LECTURE, "Theoretical introduction to machine learning", "ML_INFN lecturers"),
    (0, "16:00", "17:30", Session.Kind.LECTURE, "Cloud and cloud resources", "INFN Cloud team"),
    (1, "14:00", "16:00", Session.Kind.HANDS_ON, "Neural networks: NumPy, Pandas and Keras", "ML_INFN tutors"),
    (1, "16:30", "17:30", Session.Kind.SEMINAR, "Deep neural network applications to INFN research", "Invited speaker"),
    (2, "09:00", "13:00", Session.Kind.HACKATHON, "Exercises with the tutors' continuous support", "ML_INFN tutors"),
    (2, "14:00", "16:30", Session.Kind.HACKATHON, "Exercises with tutors on demand", "ML_INFN tutors"),
    (2, "16:30", "17:30", Session.Kind.SEMINAR, "Closure: reports from the students", ""),
]
ADVANCED_PROGRAMME = [
    (0, "10:00", "12:30", Session.Kind.LECTURE, "Convolutional networks for medical images", "ML_INFN lecturers"),
    (0, "14:00", "18:00", Session.Kind.HACKATHON, "Use cases in groups, one tutor per group", "ML_INFN tutors"),
    (1, "09:00", "13:00", Session.Kind.HACKATHON, "Use cases in groups", "ML_INFN tutors"),
    (1, "14:30", "15:30", Session.Kind.SEMINAR, "Autoencoders for anomaly detection at CMS", "Invited speaker"),
    (2, "09:00", "12:00", Session.Kind.HACKATHON, "Final hacking and reports of the groups", ""),
]


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
    advanced.group_size = DEFAULT_GROUP_SIZE["advanced"]
    advanced.requires_prerequisite = True
    advanced.save(update_fields=["group_size", "requires_prerequisite"])
    for event, programme in ((base, BASE_PROGRAMME), (advanced, ADVANCED_PROGRAMME)):
        add_programme(event, programme)
    use_cases = {event.pk: open_demo_exercises(event) for event in (base, advanced)}
    for i, email in enumerate(PARTICIPANTS):
        person = account(email, "participant of the base event" + (" and the advanced one" if i < 2 else ""))
        for event in (base, advanced) if i < 2 else (base,):
            affiliation, stage, experience = PROFILES[i]
            registration = Registration.objects.create(
                event=event,
                user=person,
                status=Registration.Status.CONFIRMED,
                affiliation=affiliation,
                affiliation_other="Università di Padova" if affiliation == "other" else "",
                career_stage=stage,
                ml_experience=experience,
            )
            # Rotate the rankings so that the demo's groups cover more than one use case.
            ranked = use_cases[event.pk][i % 2 :] + use_cases[event.pk][: i % 2]
            for rank, use_case in enumerate(ranked, start=1):
                Preference.objects.create(registration=registration, event_exercise=use_case, rank=rank)
    for event in (base, advanced):
        tutors = [role.user for role in event.roles.filter(role=EventRole.Role.TUTOR).order_by("user__email")]
        for n, tutor in enumerate(tutors):
            use_case = use_cases[event.pk][n % len(use_cases[event.pk])] if use_cases[event.pk] else None
            services.declare_tutoring(
                event=event,
                user=tutor,
                expertise=list(use_case.exercise.labels.all()) if use_case else [],
                available_days=[event.starts_on, event.ends_on],
                max_groups=2,
            )
        if use_cases[event.pk]:
            services.assign_groups(event=event)
    open_one_exercise_now(base)
    return accounts


def add_programme(event: Event, programme: list[tuple[int, str, str, str, str, str]]) -> None:
    for day, starts, ends, kind, title, speaker in programme:
        Session.objects.create(
            event=event,
            day=event.starts_on + dt.timedelta(days=day),
            starts_at=dt.time.fromisoformat(starts),
            ends_at=dt.time.fromisoformat(ends),
            kind=kind,
            title=title,
            speaker=speaker,
        )


def open_demo_exercises(event: Event) -> list[EventExercise]:
    """Open the built-in exercises that suit the event's level; none if the catalog cannot be read."""
    exercises = list(Exercise.objects.filter(builtin=True))
    if not exercises:
        from exercises.services import sync_builtin_exercises

        try:
            exercises = sync_builtin_exercises()
        except Exception:  # the demo still works without exercises; the catalog reports its own errors
            logger.exception("The built-in exercises could not be loaded; the demo events open none")
            return []
    opens, closes = services.default_exercise_window(event)
    return [
        EventExercise.objects.create(event=event, exercise=exercise, opens_at=opens, closes_at=closes)
        for exercise in sorted(exercises, key=lambda e: e.slug)
        if event.level in exercise.levels
    ]


def open_now() -> EventExercise | None:
    """Return the demo's base exercise that takes submissions now, if the demo opened one."""
    now = timezone.now()
    return (
        EventExercise.objects.filter(event__slug="base-online", opens_at__lte=now, closes_at__gt=now)
        .select_related("exercise", "event")
        .first()
    )


def open_one_exercise_now(event: Event) -> EventExercise | None:
    """Open the event's first exercise from an hour ago, so that a newcomer can submit as soon as they sign in.

    The event itself starts tomorrow (its registration is still open); only this exercise's window is moved.
    """
    first = event.event_exercises.select_related("exercise").order_by("exercise__slug").first()
    if first is None:
        return None
    first.opens_at = timezone.now() - dt.timedelta(hours=1)
    first.save(update_fields=["opens_at"])
    return first
