"""Events and the people in them: who organizes, who tutors, who takes part."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

DEFAULT_CAPACITY = {"base": 60, "advanced": 30}
DEFAULT_PARTICIPANTS_PER_TUTOR = {"base": 5, "advanced": 1}
DEFAULT_GROUP_SIZE = {"base": 5, "advanced": 3}

# The institute's structures (sections, national laboratories, centres) a registrant can belong to.
STRUCTURES: list[tuple[str, str]] = [
    ("ac", "Amministrazione Centrale"),
    ("bari", "Sezione di Bari"),
    ("bologna", "Sezione di Bologna"),
    ("cagliari", "Sezione di Cagliari"),
    ("catania", "Sezione di Catania"),
    ("cnaf", "CNAF"),
    ("ferrara", "Sezione di Ferrara"),
    ("firenze", "Sezione di Firenze"),
    ("genova", "Sezione di Genova"),
    ("gssi", "GSSI"),
    ("lecce", "Sezione di Lecce"),
    ("lnf", "Laboratori Nazionali di Frascati"),
    ("lngs", "Laboratori Nazionali del Gran Sasso"),
    ("lnl", "Laboratori Nazionali di Legnaro"),
    ("lns", "Laboratori Nazionali del Sud"),
    ("milano", "Sezione di Milano"),
    ("milano-bicocca", "Sezione di Milano Bicocca"),
    ("napoli", "Sezione di Napoli"),
    ("padova", "Sezione di Padova"),
    ("pavia", "Sezione di Pavia"),
    ("perugia", "Sezione di Perugia"),
    ("pisa", "Sezione di Pisa"),
    ("roma1", "Sezione di Roma"),
    ("roma2", "Sezione di Roma Tor Vergata"),
    ("roma3", "Sezione di Roma Tre"),
    ("tifpa", "TIFPA (Trento)"),
    ("torino", "Sezione di Torino"),
    ("trieste", "Sezione di Trieste"),
    ("other", "Other institution"),
]


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
    needs_approval = models.BooleanField(
        default=False, help_text="An organizer approves each registration before it takes a place."
    )
    has_waiting_list = models.BooleanField(
        default=True, help_text="When the event is full, new registrations join a waiting list."
    )
    requires_prerequisite = models.BooleanField(
        default=False,
        help_text="Registrants must have attended a base event or declare some machine-learning experience.",
    )
    group_size = models.PositiveIntegerField(default=5, help_text="The largest number of participants in a group.")
    programme_hours = models.DecimalField(
        "hours of the programme",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="The hours certificates state; leave empty for the sum of the programme's sessions.",
    )
    jupyterhub_url = models.URLField(
        "JupyterHub",
        blank=True,
        help_text="The event's JupyterHub, e.g. https://hub.example.org; each exercise page then links to it.",
    )

    class GpuBudgetPer(models.TextChoices):
        PARTICIPANT = "participant", "Each participant"
        GROUP = "group", "Each group (participants without a group: each on their own)"

    gpu_seconds_per_day = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="GPU-seconds each participant or group may use per day; blank for no limit. A GPU run counts its "
        "exercise's time limit while it runs and the time it used once it ends; platform failures are not counted.",
    )
    gpu_budget_per = models.CharField(
        max_length=11,
        choices=GpuBudgetPer.choices,
        default=GpuBudgetPer.PARTICIPANT,
        help_text="Whom the daily GPU budget is for.",
    )

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
            models.CheckConstraint(condition=models.Q(group_size__gte=1), name="event_group_size_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("hackathon:event_detail", kwargs={"slug": self.slug})

    def registration_is_open(self, at: dt.datetime | None = None) -> bool:
        """Whether the event takes registrations at this moment (now by default): from opening, until closing."""
        moment = at or timezone.now()
        return self.registration_opens_at <= moment < self.registration_closes_at

    def registration_refusal(self, at: dt.datetime | None = None) -> str:
        """Return why registering is refused at this moment, as a sentence, or "" while registration is open."""
        moment = at or timezone.now()
        if moment < self.registration_opens_at:
            when = timezone.localtime(self.registration_opens_at)
            return f"Registration for {self.title} opens on {when:%d %b %Y at %H:%M}; come back then."
        if moment >= self.registration_closes_at:
            when = timezone.localtime(self.registration_closes_at)
            return (
                f"Registration for {self.title} closed on {when:%d %b %Y at %H:%M}; write to the organizers "
                "if you still hope to take part."
            )
        return ""

    def hours_of_programme(self) -> Decimal:
        """Return the programme's length in hours: the organizers' figure, else the sum of its sessions."""
        if self.programme_hours is not None:
            return self.programme_hours
        minutes = sum(
            (dt.datetime.combine(session.day, session.ends_at) - dt.datetime.combine(session.day, session.starts_at))
            / dt.timedelta(minutes=1)
            for session in self.sessions.all()
        )
        return (Decimal(int(minutes)) / 60).quantize(Decimal("0.1"))


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

    class CareerStage(models.TextChoices):
        STUDENT = "student", "Student"
        PHD = "phd", "PhD student"
        POSTDOC = "postdoc", "Postdoc"
        STAFF = "staff", "Staff researcher"
        TECHNOLOGIST = "technologist", "Technologist"

    class Experience(models.TextChoices):
        NONE = "none", "None"
        BASIC = "basic", "Basic"
        ADVANCED = "advanced", "Advanced"

    class Source(models.TextChoices):
        FORM = "form", "Registration form"
        IMPORT = "import", "CSV import"

    # Statuses that hold one of the event's places.
    HOLDING_A_PLACE = (Status.CONFIRMED, Status.OFFERED, Status.PENDING)
    # The waiting list's order: first come, first offered (registering again after cancelling starts a new turn).
    WAITING_ORDER = ("queued_at", "id")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registrations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    affiliation = models.CharField(max_length=20, choices=STRUCTURES, default="other")
    affiliation_other = models.CharField(
        max_length=200, blank=True, help_text="The institution's name when it is not one of the institute's."
    )
    career_stage = models.CharField(max_length=12, choices=CareerStage.choices, blank=True)
    ml_experience = models.CharField(max_length=8, choices=Experience.choices, blank=True)
    source = models.CharField(max_length=6, choices=Source.choices, default=Source.FORM)
    # The waiting list is ordered by this moment; registering again after cancelling starts a new turn.
    queued_at = models.DateTimeField(default=timezone.now)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    group = models.ForeignKey("Group", on_delete=models.SET_NULL, null=True, blank=True, related_name="members")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="unique_registration")]

    def __str__(self) -> str:
        return f"{self.user} at {self.event} ({self.get_status_display()})"

    @property
    def affiliation_name(self) -> str:
        if self.affiliation == "other":
            return self.affiliation_other or "Other institution"
        return self.get_affiliation_display()

    @property
    def person_name(self) -> str:
        return self.user.get_full_name() or self.user.email

    def waiting_position(self) -> int | None:
        """Return the person's place on the waiting list (1 is next), or None when they are not waiting."""
        if self.status != self.Status.WAITING:
            return None
        ahead = Registration.objects.filter(event_id=self.event_id, status=self.Status.WAITING).filter(
            models.Q(queued_at__lt=self.queued_at) | models.Q(queued_at=self.queued_at, id__lt=self.id)
        )
        return ahead.count() + 1


class Session(models.Model):
    """One slot of an event's programme: a lecture, hands-on, seminar or hackathon session on one day."""

    class Kind(models.TextChoices):
        LECTURE = "lecture", "Lecture"
        HANDS_ON = "hands_on", "Hands-on"
        SEMINAR = "seminar", "Seminar"
        HACKATHON = "hackathon", "Hackathon"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sessions")
    day = models.DateField()
    starts_at = models.TimeField()
    ends_at = models.TimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200)
    speaker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["day", "starts_at", "title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.day:%d %b} {self.starts_at:%H:%M})"


class Preference(models.Model):
    """A registrant's ranking of one of the event's use cases: rank 1 is the favourite."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="preferences")
    event_exercise = models.ForeignKey("EventExercise", on_delete=models.CASCADE, related_name="preferences")
    rank = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["registration", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["registration", "event_exercise"], name="unique_preference_exercise"),
            models.UniqueConstraint(fields=["registration", "rank"], name="unique_preference_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.event_exercise}"


class TutorProfile(models.Model):
    """What a tutor knows (knowledge-base labels) and when they can help, for one event."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tutor_profiles")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tutor_profiles")
    expertise = models.ManyToManyField("exercises.Label", blank=True, related_name="tutor_profiles")
    available_days = models.JSONField(default=list, blank=True, help_text="ISO dates of the event's days.")
    max_groups = models.PositiveSmallIntegerField(default=1, help_text="How many groups the tutor can follow.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="unique_tutor_profile")]

    def __str__(self) -> str:
        return f"{self.user} tutoring at {self.event}"


class Group(models.Model):
    """A group of participants working on one use case with its tutors."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="groups")
    event_exercise = models.ForeignKey("EventExercise", on_delete=models.CASCADE, related_name="groups")
    number = models.PositiveIntegerField()
    tutors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="tutored_groups")

    class Meta:
        ordering = ["event", "number"]
        constraints = [models.UniqueConstraint(fields=["event", "number"], name="unique_group_number")]

    def __str__(self) -> str:
        return f"Group {self.number} — {self.event_exercise.exercise.title}"


class Feedback(models.Model):
    """A participant's end-of-event answers: what went well and what to change."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_feedback")
    rating = models.PositiveSmallIntegerField(
        choices=[(n, str(n)) for n in range(1, 6)], help_text="1 (poor) to 5 (excellent)."
    )
    went_well = models.TextField(blank=True)
    suggestions = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="unique_feedback")]

    def __str__(self) -> str:
        return f"Feedback of {self.user} on {self.event}"


def new_secret_seed() -> int:
    """Draw the secret seed of an event's hidden set; it never leaves the database and the workers."""
    return secrets.randbits(62)


class EventExerciseQuerySet(models.QuerySet["EventExercise"]):
    def closed_for_everyone(self, at: dt.datetime | None = None) -> EventExerciseQuerySet:
        """Keep the exercises whose closing and every extension have passed (EventExercise.last_closing, in SQL)."""
        moment = at or timezone.now()
        running = Extension.objects.filter(event_exercise=models.OuterRef("pk"), until__gt=moment)
        return self.filter(closes_at__lte=moment).exclude(models.Exists(running))


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

    class Gate(models.TextChoices):
        """What the last run of the exercise's reference notebook on this event's hidden set came to."""

        UNCHECKED = "unchecked", "Not checked yet"
        PASSED = "passed", "The reference reached its target"
        MISSED = "missed", "The reference missed its target"
        ERROR = "error", "The check could not run"

    # Set by the workers (grading.reference_gate); a missed target holds the exercise shut until an organizer
    # overrides it, saying why (kept here and in the board's audit log).
    reference_gate = models.CharField(max_length=9, choices=Gate.choices, default=Gate.UNCHECKED, editable=False)
    gate_override = models.TextField(blank=True, editable=False)

    objects = EventExerciseQuerySet.as_manager()

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

    @property
    def held_by_gate(self) -> bool:
        """Whether the exercise stays shut because its reference missed its target and nobody overrode that."""
        return self.reference_gate == self.Gate.MISSED and not self.gate_override

    def is_open(self, at: dt.datetime | None = None) -> bool:
        moment = at or timezone.now()
        return self.opens_at <= moment < self.closes_at and not self.held_by_gate

    def last_closing(self) -> dt.datetime:
        """Return when the last person's submissions close: the exercise's closing or its latest extension's end.

        What depends on everybody having finished (the debrief, released solutions) waits for this, so that a person
        still working under an extension cannot read the reference solution.
        """
        latest = self.extensions.aggregate(latest=models.Max("until"))["latest"]
        return max(self.closes_at, latest) if latest else self.closes_at

    def window_text(self, at: dt.datetime | None = None) -> str:
        """Say where the submission window stands: "Opens on ...", "Open until ..." or "Closed on ..."."""
        moment = at or timezone.now()
        if self.held_by_gate and moment < self.closes_at:
            return "Held shut: its reference solution missed its target on this event's test set"
        if moment < self.opens_at:
            return f"Opens on {_when(self.opens_at)}"
        if moment < self.closes_at:
            return f"Open until {_when(self.closes_at)}"
        return f"Closed on {_when(self.closes_at)}"

    def window_refusal(self, at: dt.datetime | None = None) -> str:
        """Return why a notebook cannot be submitted at this moment, as a sentence, or "" while the window is open."""
        moment = at or timezone.now()
        if self.held_by_gate and moment < self.closes_at:
            return (
                f"{self.exercise.title} is held shut: its reference solution missed its target on this event's test "
                "set, so the organizers are checking it. Come back later to submit."
            )
        if moment < self.opens_at:
            return (
                f"{self.exercise.title} is not open yet: it opens on {_when(self.opens_at)}. Come back then to submit."
            )
        if moment >= self.closes_at:
            return (
                f"{self.exercise.title} closed on {_when(self.closes_at)} and takes no more submissions. "
                "Your earlier submissions and their scores are kept."
            )
        return ""

    def jupyterhub_link(self) -> str:
        """Return the link that fetches this exercise into the person's server on the event's hub and opens it.

        The hub's `user-redirect` sends the person to their own server, whose hackathon_jupyter extension serves
        `hackathon/open` (nbgitpuller's style of link). Empty when the event names no hub.
        """
        if not self.event.jupyterhub_url:
            return ""
        query = urlencode({"event": self.event.slug, "exercise": self.exercise.slug})
        return f"{self.event.jupyterhub_url.rstrip('/')}/hub/user-redirect/hackathon/open?{query}"


def _when(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%d %b %Y at %H:%M}"


def new_invitation_token() -> str:
    return secrets.token_urlsafe(24)


class StaffInvitation(models.Model):
    """An invitation to join an event's staff, mailed to someone who has no account with that address yet.

    The link leads through the site's sign-up; the role is granted once an account owns the address.
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="staff_invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=EventRole.Role.choices)
    token = models.CharField(max_length=64, unique=True, default=new_invitation_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="staff_invitations_sent"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "email", "role"],
                condition=models.Q(accepted_at__isnull=True),
                name="unique_pending_staff_invitation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} invited as {self.get_role_display().lower()} of {self.event}"

    def get_absolute_url(self) -> str:
        return reverse("hackathon:accept_invitation", kwargs={"token": self.token})

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None


# --- Talking to the room: announcements, personal preferences, extensions (issue 19) -------------------------


def _valid_time_zone(name: str) -> None:
    from zoneinfo import available_timezones

    from django.core.exceptions import ValidationError

    if name and name not in available_timezones():
        raise ValidationError(f"“{name}” is not a time zone; choose one such as Europe/Rome.")


class Preferences(models.Model):
    """A person's own choices across events: the time zone dates are shown in, and email for announcements."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[_valid_time_zone],
        help_text="Deadlines are shown in this time zone; empty for the site's own.",
    )
    announcements_by_email = models.BooleanField(
        default=True, help_text="Send me the announcements of my events by email too."
    )

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class Announcement(models.Model):
    """A short Markdown message from an event's organizers or tutors to an audience resolved when it was sent."""

    class Audience(models.TextChoices):
        EVENT = "event", "Every participant of the event"
        STATUS = "status", "Registrants with a status"
        GROUPS = "groups", "Some groups"
        EXERCISE = "exercise", "The participants of one exercise"
        ERROR = "error", "Everyone whose latest run failed with one error"

    TITLE_MAX_CHARS = 200
    BODY_MAX_CHARS = 5000

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="announcements")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="announcements_written"
    )
    title = models.CharField(max_length=TITLE_MAX_CHARS)
    body = models.TextField(max_length=BODY_MAX_CHARS, help_text="Markdown; links and emphasis, no HTML scripts.")
    audience = models.CharField(max_length=10, choices=Audience.choices)
    # The audience in words as it was chosen ("Group 2, group 3"), kept with the list of who got it.
    audience_text = models.CharField(max_length=300)
    sent_at = models.DateTimeField(auto_now_add=True, db_index=True)
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="AnnouncementReceipt", related_name="announcements_received"
    )

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.event})"


class AnnouncementReceipt(models.Model):
    """One person in an announcement's audience: when they read it and whether it was emailed."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="announcement_receipts")
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["announcement", "id"]
        constraints = [models.UniqueConstraint(fields=["announcement", "user"], name="unique_announcement_receipt")]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.announcement} to {self.user}"


class Extension(models.Model):
    """More time for one person on one event exercise: they may submit until `until` instead of its closing."""

    event_exercise = models.ForeignKey(EventExercise, on_delete=models.CASCADE, related_name="extensions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="extensions")
    until = models.DateTimeField()
    reason = models.TextField(max_length=1000)
    # The group the extension was granted to, when it was one: kept as history, the person keeps it if they move.
    group = models.ForeignKey(Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-granted_at", "-id"]

    def __str__(self) -> str:
        return f"Extension of {self.user} on {self.event_exercise} until {self.until:%Y-%m-%d %H:%M}"
