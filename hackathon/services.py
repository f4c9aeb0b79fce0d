"""The actions that change an event: registering, cancelling, promoting, importing, assigning groups, feedback."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from exercises.models import Label
from hackathon import assignment, selectors, signals
from hackathon.errors import (
    EventsError,
    ExerciseChangeRefused,
    GroupChangeRefused,
    ImportRefused,
    RegistrationRefused,
)
from hackathon.models import (
    STRUCTURES,
    Event,
    EventExercise,
    EventRole,
    Feedback,
    Group,
    Preference,
    Registration,
    Session,
    TutorProfile,
)
from hackathon.spreadsheets import csv_writer

logger = logging.getLogger(__name__)
Status = Registration.Status


def offer_hours() -> int:
    """Return how long a promoted person has to accept a freed place (setting REGISTRATION_OFFER_HOURS)."""
    return settings.REGISTRATION_OFFER_HOURS


# --- Events -----------------------------------------------------------------------------------------------


@transaction.atomic
def create_event(*, organizer: AbstractBaseUser, **fields: object) -> Event:
    """Create an event and make its creator an organizer of it."""
    event = Event.objects.create(**fields)
    EventRole.objects.create(event=event, user=organizer, role=EventRole.Role.ORGANIZER)
    return event


def default_exercise_window(event: Event) -> tuple[dt.datetime, dt.datetime]:
    """Return the window an exercise gets when attached: from the event's first midnight to its last day's 23:59."""
    opens = timezone.make_aware(dt.datetime.combine(event.starts_on, dt.time.min))
    closes = timezone.make_aware(dt.datetime.combine(event.ends_on, dt.time(23, 59)))
    return opens, closes


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def what_detaching_removes(event_exercise: EventExercise) -> str:
    """Say what removing the exercise from its event would delete with it, or "" when nothing would be lost."""
    # Reverse relations by name: submissions live on a higher floor (grading/) that this module must not import.
    submissions = event_exercise.submissions.count()
    groups = event_exercise.groups.count()
    members = Registration.objects.filter(group__event_exercise=event_exercise).count()
    lost = []
    if submissions:
        lost.append(_plural(submissions, "submission"))
    if groups:
        lost.append(f"{_plural(groups, 'group')} with {_plural(members, 'participant')} in them")
    return " and ".join(lost)


def set_event_exercises(
    *, event: Event, exercises: list, opens_at: dt.datetime | None = None, closes_at: dt.datetime | None = None
) -> list[EventExercise]:
    """Attach exactly these exercises to the event, keeping the seeds and windows of those already attached.

    A newly attached exercise takes submissions over the given window, by default the event's dates. Removing one
    that has submissions or groups is refused with a sentence naming what would be lost: it never deletes a group
    silently.
    """
    wanted = {e.pk for e in exercises}
    leaving = list(event.event_exercises.exclude(exercise_id__in=wanted).select_related("exercise"))
    losses = [(ee, lost) for ee in leaving if (lost := what_detaching_removes(ee))]
    if losses:
        named = "; ".join(f"{ee.exercise.title} has {lost}" for ee, lost in losses)
        raise ExerciseChangeRefused(
            f"Nothing was saved: {named}, and removing it from the event would delete them. Keep it attached "
            "and set its closing time to end its submissions instead."
        )
    for ee in leaving:
        ee.delete()
    have = set(event.event_exercises.values_list("exercise_id", flat=True))
    default_opens, default_closes = default_exercise_window(event)
    opens_at, closes_at = opens_at or default_opens, closes_at or default_closes
    attached = [
        EventExercise.objects.create(event=event, exercise=exercise, opens_at=opens_at, closes_at=closes_at)
        for exercise in exercises
        if exercise.pk not in have
    ]
    if attached:
        ids = [ee.pk for ee in attached]
        transaction.on_commit(lambda: signals.exercises_attached.send(sender=EventExercise, event_exercise_ids=ids))
    return attached


def follow_event_dates(*, event: Event, old_starts: dt.date, old_ends: dt.date) -> list[str]:
    """After the event's dates moved, move the windows that were the old dates' default to the new dates.

    A window the organizers set themselves is kept as it is (it was chosen on purpose), and named in the
    sentences returned, so that nobody believes it moved.
    """
    if (old_starts, old_ends) == (event.starts_on, event.ends_on):
        return []
    old = (
        timezone.make_aware(dt.datetime.combine(old_starts, dt.time.min)),
        timezone.make_aware(dt.datetime.combine(old_ends, dt.time(23, 59))),
    )
    new = default_exercise_window(event)
    notes = []
    for ee in event.event_exercises.select_related("exercise"):
        if (ee.opens_at, ee.closes_at) == old:
            ee.opens_at, ee.closes_at = new
            ee.save(update_fields=["opens_at", "closes_at"])
            notes.append(f"{ee.exercise.title} moved with the event: it now {_window(ee)}.")
        else:
            notes.append(
                f"{ee.exercise.title} kept its own window (it {_window(ee)}); change it under "
                "Exercise windows if it should follow the new dates."
            )
    return notes


def _window(ee: EventExercise) -> str:
    opens, closes = timezone.localtime(ee.opens_at), timezone.localtime(ee.closes_at)
    return f"takes submissions from {opens:%d %b %Y %H:%M} to {closes:%d %b %Y %H:%M}"


# --- Registration -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationDetails:
    """What a person tells the event when registering."""

    affiliation: str
    career_stage: str
    ml_experience: str
    ranking: tuple[int, ...] = ()  # EventExercise ids, favourite first
    affiliation_other: str = ""
    first_name: str = ""  # kept on the account when given: organizers and boards show the names
    last_name: str = ""


def places_taken(event: Event) -> int:
    return event.registrations.filter(status__in=Registration.HOLDING_A_PLACE).count()


def has_attended_a_base_event(user: AbstractBaseUser, before: dt.date) -> bool:
    return Registration.objects.filter(
        user=user, status=Status.CONFIRMED, event__level=Event.Level.BASE, event__ends_on__lt=before
    ).exists()


def check_prerequisite(event: Event, user: AbstractBaseUser, ml_experience: str) -> None:
    """Refuse a registrant who neither attended a base event nor declares machine-learning experience."""
    if not event.requires_prerequisite:
        return
    if ml_experience in (Registration.Experience.BASIC, Registration.Experience.ADVANCED):
        return
    if has_attended_a_base_event(user, event.starts_on):
        return
    raise RegistrationRefused(
        f"{event.title} is an advanced event: it asks that you attended a base hackathon first or already "
        "have some machine-learning experience. If you do, choose your experience in the form; otherwise "
        "look for the next base event on the home page."
    )


def _check_window(event: Event, now: dt.datetime) -> None:
    refusal = event.registration_refusal(now)
    if refusal:
        raise RegistrationRefused(refusal)


def _clean_ranking(event: Event, ranking: tuple[int, ...]) -> list[EventExercise]:
    offered = {ee.pk: ee for ee in event.event_exercises.all()}
    if len(set(ranking)) != len(ranking) or any(pk not in offered for pk in ranking):
        raise RegistrationRefused("Rank each of the event's use cases at most once, choosing only from the list.")
    return [offered[pk] for pk in ranking]


def _status_for_new_place(event: Event) -> str:
    """Decide, with the event row locked, whether a new registrant gets a place, a waiting turn, or nothing."""
    if places_taken(event) < event.capacity:
        return Status.PENDING if event.needs_approval else Status.CONFIRMED
    if event.has_waiting_list:
        return Status.WAITING
    raise RegistrationRefused(
        f"{event.title} is full and keeps no waiting list, so you could not be registered. "
        "Watch the home page for the next edition."
    )


def _lock(event: Event) -> Event:
    # Locking the event row serializes every change to its places: on PostgreSQL concurrent registrations
    # queue here; SQLite's IMMEDIATE transactions already serialize writers.
    return Event.objects.select_for_update().get(pk=event.pk)


def register(
    *, event: Event, user: AbstractBaseUser, details: RegistrationDetails, now: dt.datetime | None = None
) -> Registration:
    """Register a person: a place if one is free (or awaiting approval), else the waiting list."""
    now = now or timezone.now()
    with transaction.atomic():
        event = _lock(event)
        existing = Registration.objects.filter(event=event, user=user).first()
        if existing and existing.status not in (Status.CANCELLED,):
            raise RegistrationRefused(
                f"You are already registered for {event.title} ({existing.get_status_display().lower()}); "
                "your registration is unchanged."
            )
        _check_window(event, now)
        check_prerequisite(event, user, details.ml_experience)
        ranked = _clean_ranking(event, details.ranking)
        status = _status_for_new_place(event)
        registration = existing or Registration(event=event, user=user)
        registration.status = status
        registration.affiliation = details.affiliation
        registration.affiliation_other = details.affiliation_other if details.affiliation == "other" else ""
        registration.career_stage = details.career_stage
        registration.ml_experience = details.ml_experience
        registration.source = Registration.Source.FORM
        registration.queued_at = now
        registration.offer_expires_at = None
        registration.group = None
        registration.save()
        _keep_names(user, details)
        registration.preferences.all().delete()
        Preference.objects.bulk_create(
            Preference(registration=registration, event_exercise=ee, rank=rank)
            for rank, ee in enumerate(ranked, start=1)
        )
    return registration


def _keep_names(user: AbstractBaseUser, details: RegistrationDetails) -> None:
    first, last = details.first_name.strip(), details.last_name.strip()
    if (first or last) and (first, last) != (user.first_name, user.last_name):
        user.first_name, user.last_name = first[:150], last[:150]
        user.save(update_fields=["first_name", "last_name"])


def _refresh_locked(registration: Registration) -> tuple[Event, Registration]:
    event = _lock(registration.event)
    return event, Registration.objects.select_for_update().get(pk=registration.pk)


def cancel_registration(*, registration: Registration, now: dt.datetime | None = None) -> Registration:
    """Cancel a registration; a place it held passes to the first on the waiting list."""
    now = now or timezone.now()
    with transaction.atomic():
        event, registration = _refresh_locked(registration)
        if registration.status in (Status.CANCELLED, Status.REJECTED):
            raise RegistrationRefused("This registration is already closed; nothing changed.")
        registration.status = Status.CANCELLED
        registration.group = None
        registration.offer_expires_at = None
        registration.save(update_fields=["status", "group", "offer_expires_at"])
        promote_waiting(event=event, now=now)
    return registration


def what_cancelling_gives_up(registration: Registration) -> list[str]:
    """Say, before it happens, what cancelling this registration gives up."""
    event = registration.event
    lines = []
    if registration.status in Registration.HOLDING_A_PLACE:
        waiting = event.registrations.filter(status=Status.WAITING).count()
        passes = (
            f"it passes at once to the first of the {waiting} people on the waiting list, who is emailed."
            if waiting
            else "it becomes free for anyone who registers."
        )
        lines.append(f"You give up your place at {event.title}: {passes}")
    elif registration.status == Status.WAITING:
        lines.append(f"You leave the waiting list of {event.title} and lose your turn in it.")
    if registration.group_id:
        lines.append(f"You leave group {registration.group.number}; its tutors no longer follow you.")
    lines.append("Registering again later starts a new registration, behind everyone already waiting.")
    return lines


def promote_waiting(*, event: Event, now: dt.datetime) -> list[Registration]:
    """Offer free places to the waiting list in order; call with the event row locked."""
    offered = []
    free = event.capacity - places_taken(event)
    waiting = (
        event.registrations.filter(status=Status.WAITING).select_related("user").order_by(*Registration.WAITING_ORDER)
    )
    for registration in waiting[: max(free, 0)]:
        registration.status = Status.OFFERED
        registration.offer_expires_at = now + dt.timedelta(hours=offer_hours())
        registration.save(update_fields=["status", "offer_expires_at"])
        offered.append(registration)
        transaction.on_commit(lambda r=registration: _email_offer(r))
    return offered


def offer_place_by_hand(*, registration: Registration, now: dt.datetime | None = None) -> Registration:
    """Offer a place to someone on the waiting list out of turn (an organizer's choice), even beyond capacity.

    The person is emailed and has the usual time to accept, as when a place frees up.
    """
    now = now or timezone.now()
    with transaction.atomic():
        event, registration = _refresh_locked(registration)
        if registration.status != Status.WAITING:
            raise RegistrationRefused(
                f"Only people on the waiting list can be offered a place; {registration.person_name} is "
                f"{registration.get_status_display().lower()}."
            )
        registration.status = Status.OFFERED
        registration.offer_expires_at = now + dt.timedelta(hours=offer_hours())
        registration.save(update_fields=["status", "offer_expires_at"])
        transaction.on_commit(lambda: _email_offer(registration))
    return registration


def _email_offer(registration: Registration) -> None:
    event = registration.event
    url = settings.SITE_URL.rstrip("/") + event.get_absolute_url()
    expires = timezone.localtime(registration.offer_expires_at)
    send_mail(
        subject=f"A place is free for you at {event.title}",
        message=(
            f"A place has opened at {event.title} and it is yours if you want it.\n\n"
            f"Accept it on the event page before {expires:%d %b %Y at %H:%M}: {url}\n"
            "After that, the place passes to the next person on the waiting list."
        ),
        from_email=None,
        recipient_list=[registration.user.email],
    )


def accept_offer(*, registration: Registration, now: dt.datetime | None = None) -> Registration:
    """Take an offered place before the offer expires."""
    now = now or timezone.now()
    with transaction.atomic():
        event, registration = _refresh_locked(registration)
        if registration.status != Status.OFFERED:
            raise RegistrationRefused("There is no place on offer to you for this event.")
        if registration.offer_expires_at and registration.offer_expires_at <= now:
            raise RegistrationRefused("This offer has expired and the place passed to the next person; sorry.")
        registration.status = Status.PENDING if event.needs_approval else Status.CONFIRMED
        registration.offer_expires_at = None
        registration.save(update_fields=["status", "offer_expires_at"])
    return registration


def expire_offers(now: dt.datetime | None = None) -> list[Registration]:
    """Close every offer unanswered past its deadline and pass each place on; a periodic task calls this."""
    now = now or timezone.now()
    expired: list[Registration] = []
    event_ids = set(
        Registration.objects.filter(status=Status.OFFERED, offer_expires_at__lte=now).values_list("event_id", flat=True)
    )
    for event_id in sorted(event_ids):
        with transaction.atomic():
            event = Event.objects.select_for_update().get(pk=event_id)
            due = list(event.registrations.filter(status=Status.OFFERED, offer_expires_at__lte=now))
            for registration in due:
                registration.status = Status.CANCELLED
                registration.save(update_fields=["status"])
            expired.extend(due)
            promote_waiting(event=event, now=now)
    if expired:
        logger.info("Expired %d unanswered place offers", len(expired))
    return expired


def decide_registration(*, registration: Registration, approve: bool, now: dt.datetime | None = None) -> Registration:
    """Approve or reject a registration awaiting approval; a rejection frees its place."""
    now = now or timezone.now()
    with transaction.atomic():
        event, registration = _refresh_locked(registration)
        if registration.status != Status.PENDING:
            raise RegistrationRefused("Only registrations awaiting approval can be approved or rejected.")
        registration.status = Status.CONFIRMED if approve else Status.REJECTED
        registration.save(update_fields=["status"])
        if not approve:
            promote_waiting(event=event, now=now)
    return registration


# --- CSV import and export --------------------------------------------------------------------------------

HEADER_ALIASES = {
    "name": {"name", "full name", "full_name"},
    "first": {"first name", "first_name", "firstname"},
    "last": {"last name", "last_name", "lastname", "surname"},
    "email": {"email", "email address", "e-mail", "e-mail address"},
    "affiliation": {"affiliation", "institution", "institute"},
}
MAX_IMPORT_ROWS = 2000


@dataclass(frozen=True)
class ImportRow:
    line: int
    name: str
    email: str
    affiliation: str
    affiliation_other: str
    action: str  # "create account", "register", "unchanged"


@dataclass(frozen=True)
class ImportPlan:
    rows: tuple[ImportRow, ...]
    applied: bool = False
    places_left: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def new_accounts(self) -> int:
        return self.count("create account")

    @property
    def new_registrations(self) -> int:
        return self.count("create account") + self.count("register")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")


def match_structure(text: str) -> tuple[str, str]:
    """Map an affiliation as written to one of the institute's structures, or to other with the text kept."""
    words = slugify(text).replace("-", " ")
    # Longest names first, so that "Milano Bicocca" is not taken for "Milano".
    for code, label in sorted(STRUCTURES, key=lambda s: -len(s[1])):
        if code == "other":
            continue
        city = slugify(label.removeprefix("Sezione di ")).replace("-", " ")
        if words in (city, code, f"infn {code}") or f"sezione di {city}" in words or f"infn {city}" in words:
            return code, ""
    return "other", text.strip()


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = raw.strip().lower().lstrip("\ufeff")
        for key, aliases in HEADER_ALIASES.items():
            if name in aliases and key not in found:
                found[key] = index
    return found


def plan_import(*, event: Event, text: str) -> ImportPlan:
    """Read an Indico-like registrants CSV (name, email, affiliation) and list what importing would change.

    Raise ImportRefused naming every problem (wrong columns, bad emails, duplicates) when any row is bad.
    """
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise ImportRefused(["The file is empty: export the registrants from Indico as CSV and upload that."])
    columns = _columns(header)
    has_name = "name" in columns or ("first" in columns and "last" in columns)
    if not has_name or "email" not in columns or "affiliation" not in columns:
        raise ImportRefused(
            [
                f"The columns are {', '.join(h.strip() for h in header) or 'missing'}; the import needs "
                "name (or first name and last name), email and affiliation."
            ]
        )
    problems: list[str] = []
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    users = get_user_model().objects
    registered = {
        email.lower(): status
        for email, status in event.registrations.exclude(status=Status.CANCELLED).values_list("user__email", "status")
    }
    for line, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if line > MAX_IMPORT_ROWS + 1:
            problems.append(f"The file has more than {MAX_IMPORT_ROWS} rows; split it.")
            break

        def cell(key: str, record: list[str] = record) -> str:
            index = columns.get(key)
            return record[index].strip() if index is not None and index < len(record) else ""

        name = cell("name") or f"{cell('first')} {cell('last')}".strip()
        email = cell("email").lower()
        try:
            validate_email(email)
        except ValidationError:
            problems.append(f"Line {line}: {email or 'an empty cell'} is not an email address.")
            continue
        if email in seen:
            problems.append(f"Line {line}: {email} appears again (first on line {seen[email]}).")
            continue
        seen[email] = line
        code, other = match_structure(cell("affiliation"))
        if email in registered:
            action = "unchanged"
        elif users.filter(email__iexact=email).exists():
            action = "register"
        else:
            action = "create account"
        rows.append(ImportRow(line, name, email, code, other, action))
    if problems:
        raise ImportRefused(problems)
    if not rows:
        raise ImportRefused(["The file has a header but no registrants."])
    return ImportPlan(rows=tuple(rows), places_left=max(event.capacity - places_taken(event), 0))


def import_registrants(*, event: Event, text: str, dry_run: bool = True, now: dt.datetime | None = None) -> ImportPlan:
    """Import registrants from CSV: with dry_run only report; otherwise create accounts and registrations.

    Imported people take free places in file order and join the waiting list (if any) when the event is full;
    organizer approval does not apply, since the organizers chose them.
    """
    now = now or timezone.now()
    plan = plan_import(event=event, text=text)
    if dry_run:
        return plan
    statuses: dict[str, int] = {}
    with transaction.atomic():
        event = _lock(event)
        free = event.capacity - places_taken(event)
        for row in plan.rows:
            if row.action == "unchanged":
                continue
            user = get_user_model().objects.filter(email__iexact=row.email).first() or _imported_account(row)
            if free > 0:
                status, free = Status.CONFIRMED, free - 1
            elif event.has_waiting_list:
                status = Status.WAITING
            else:
                raise ImportRefused(
                    [f"{event.title} is full and keeps no waiting list; only {plan.places_left} place(s) were free."]
                )
            registration, _ = Registration.objects.update_or_create(
                event=event,
                user=user,
                defaults={
                    "status": status,
                    "affiliation": row.affiliation,
                    "affiliation_other": row.affiliation_other,
                    "source": Registration.Source.IMPORT,
                    "queued_at": now,
                },
            )
            statuses[status] = statuses.get(status, 0) + 1
    return ImportPlan(rows=plan.rows, applied=True, places_left=plan.places_left, statuses=statuses)


def _imported_account(row: ImportRow) -> AbstractBaseUser:
    # The person signs in later through the institute's login or resets the password by email.
    first, _, last = row.name.partition(" ")
    base = slugify(row.email.split("@")[0])[:100] or "person"
    username, n = base, 1
    model = get_user_model()
    while model.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    user = model.objects.create_user(username=username, email=row.email, first_name=first[:150], last_name=last[:150])
    user.set_unusable_password()
    user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=row.email, verified=False, primary=True)
    return user


EXPORT_COLUMNS = [
    "name",
    "email",
    "status",
    "affiliation",
    "career stage",
    "ML experience",
    "registered at",
    "source",
    "group",
    "preferences",
]


def export_registrations(event: Event, registrations: list[Registration]) -> str:
    """Write the event's registrations as CSV, one row each, columns as in EXPORT_COLUMNS."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for r in registrations:
        writer.writerow(
            [
                r.person_name,
                r.user.email,
                r.get_status_display(),
                r.affiliation_name,
                r.get_career_stage_display(),
                r.get_ml_experience_display(),
                timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M"),
                r.get_source_display(),
                r.group.number if r.group else "",
                " > ".join(p.event_exercise.exercise.title for p in r.preferences.all()),
            ]
        )
    return out.getvalue()


# --- Tutors and groups ------------------------------------------------------------------------------------


def declare_tutoring(
    *, event: Event, user: AbstractBaseUser, expertise: list[Label], available_days: list[dt.date], max_groups: int
) -> TutorProfile:
    """Record what a tutor knows and which of the event's days they can help on."""
    days = sorted({d.isoformat() for d in available_days if event.starts_on <= d <= event.ends_on})
    profile, _ = TutorProfile.objects.update_or_create(
        event=event, user=user, defaults={"available_days": days, "max_groups": max_groups}
    )
    profile.expertise.set(expertise)
    return profile


def what_assigning_replaces(event: Event) -> list[str]:
    """Say, before it happens, what forming the event's groups (again) replaces."""
    groups = event.groups.count()
    participants = event.registrations.filter(status=Status.CONFIRMED).count()
    lines = [
        f"The optimizer places the {_plural(participants, 'confirmed participant')} in groups of at most "
        f"{event.group_size} by their ranked use cases, and gives each group tutors by expertise and availability."
    ]
    if groups:
        lines.append(
            ("The current group is" if groups == 1 else f"The {groups} current groups are")
            + " deleted and replaced, with every move made by hand; "
            "participants and tutors may find themselves in a different group."
        )
    return lines


@transaction.atomic
def assign_groups(*, event: Event) -> assignment.AssignmentReport:
    """Replace the event's groups with the optimizer's plan and return its report."""
    event = _lock(event)
    participants, use_cases, tutors = selectors.assignment_input(event)
    if not use_cases:
        raise GroupChangeRefused("Open at least one exercise in the event before forming groups.")
    if not participants:
        raise GroupChangeRefused("There are no confirmed participants to place in groups yet.")
    plan = assignment.plan_groups(
        participants,
        use_cases,
        tutors,
        group_size=event.group_size,
        participants_per_tutor=event.participants_per_tutor,
    )
    event.registrations.update(group=None)
    event.groups.all().delete()
    for planned in plan:
        group = Group.objects.create(event=event, event_exercise_id=planned.use_case, number=planned.number)
        group.tutors.set(planned.tutors)
        event.registrations.filter(pk__in=planned.members).update(group=group)
    return assignment.summarize(
        plan, participants, use_cases, tutors, participants_per_tutor=event.participants_per_tutor
    )


def _ratio_warning(event: Event, group: Group) -> str | None:
    size = group.members.count()
    tutors = group.tutors.count()
    if tutors >= assignment.tutors_needed(size, event.participants_per_tutor):
        return None
    return (
        f"Group {group.number} now has {size} participant{'s' if size != 1 else ''} for {tutors} "
        f"tutor{'s' if tutors != 1 else ''}: the event asks for one tutor per {event.participants_per_tutor}."
    )


@transaction.atomic
def move_participant(*, event: Event, registration: Registration, group: Group | None) -> list[str]:
    """Move a confirmed participant to another group of the same event; return warnings about the ratio."""
    if registration.event_id != event.pk or (group is not None and group.event_id != event.pk):
        raise GroupChangeRefused("That participant or group belongs to another event.")
    if registration.status != Status.CONFIRMED:
        raise GroupChangeRefused("Only confirmed participants can be placed in a group.")
    before = registration.group
    registration.group = group
    registration.save(update_fields=["group"])
    warnings = [w for g in (group, before) if g is not None for w in [_ratio_warning(event, g)] if w]
    return warnings


@transaction.atomic
def move_tutor(*, event: Event, tutor: AbstractBaseUser, from_group: Group | None, to_group: Group | None) -> list[str]:
    """Move a tutor between groups of the event (either side may be none); return warnings about the ratio."""
    if not EventRole.objects.filter(event=event, user=tutor, role=EventRole.Role.TUTOR).exists():
        raise GroupChangeRefused("Only the event's tutors can be put in charge of a group.")
    for group in (from_group, to_group):
        if group is not None and group.event_id != event.pk:
            raise GroupChangeRefused("That group belongs to another event.")
    if from_group is not None:
        from_group.tutors.remove(tutor)
    if to_group is not None:
        to_group.tutors.add(tutor)
    return [w for g in (from_group, to_group) if g is not None for w in [_ratio_warning(event, g)] if w]


# --- Programme and feedback -------------------------------------------------------------------------------


def add_session(*, event: Event, **fields: object) -> Session:
    """Add a session to the event's programme, on one of the event's days."""
    session = Session(event=event, **fields)
    if not (event.starts_on <= session.day <= event.ends_on):
        raise EventsError(
            f"{session.day:%d %b %Y} is outside the event ({event.starts_on:%d %b} – {event.ends_on:%d %b %Y})."
        )
    session.full_clean()
    session.save()
    return session


def give_feedback(*, event: Event, user: AbstractBaseUser, rating: int, went_well: str, suggestions: str) -> Feedback:
    """Record (or update) a participant's end-of-event feedback."""
    if not event.registrations.filter(user=user, status=Status.CONFIRMED).exists():
        raise EventsError("Only the event's participants can leave feedback on it.")
    feedback, _ = Feedback.objects.update_or_create(
        event=event,
        user=user,
        defaults={"rating": rating, "went_well": went_well.strip(), "suggestions": suggestions.strip()},
    )
    return feedback
