"""Prepare the browser tests' site: migrate a fresh database, then create the people and events the journeys start from.

Run as a script against the site's own environment (DATABASE_URL, VAR_DIR, SANDBOX_BACKEND), never imported by the
test process: the site, the worker and this script share one file database that the test process does not open.

    python tests/e2e/site_data.py prepare         # migrate and seed; prints the seeded facts as JSON
    python tests/e2e/site_data.py enrol SLUG      # make a second participant (Marco) part of SLUG
    python tests/e2e/site_data.py migrate         # only migrate (the single sign-on journey seeds its own people)
    python tests/e2e/site_data.py account EMAIL verified|unverified   # an account with PASSWORD and that address
    python tests/e2e/site_data.py token EMAIL     # print a new API token of that person (as a hub would hold)
    python tests/e2e/site_data.py hub SLUG URL    # name the event's JupyterHub
    python tests/e2e/site_data.py quota SLUG EXERCISE N|default   # set the graded submissions per day
    python tests/e2e/site_data.py closed          # an event ending today whose exercise closed: prints its slug
    python tests/e2e/site_data.py announce SLUG TITLE BODY       # the organizer writes to every participant
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages, tests.builders among them

from tests.builders.notebooks import (  # noqa: E402
    READ_TEST_ROWS,
    WRITE_CONSTANT_SCORES,
    WRITE_FEATURE_SCORES,
    notebook_text,
)

PASSWORD = "e2e-correct-horse-battery"
BASE_SLUG = "base-online"
EXERCISE_SLUG = "breast-cancer"
ORGANIZER = "organizer@e2e.example.org"
TUTOR = "tutor@e2e.example.org"
STUCK_MEMBER = ("giulia.neri@e2e.example.org", "Giulia", "Neri")
OTHER_MEMBER = ("marco.bianchi@e2e.example.org", "Marco", "Bianchi")
# A participant of the closing-day event only: Giulia and Marco still solve breast-cancer in the base hackathon.
CLOSING_ONLY_MEMBER = ("chiara.conti@e2e.example.org", "Chiara", "Conti")
LATE_PARTICIPANT = ("lucia.verdi@e2e.example.org", "Lucia", "Verdi")

# The column is misspelt: the kind of mistake a tutor sees several members make.
BROKEN_COLUMN = """
radii = [float(r["{column}"]) for r in rows]
"""


def good_notebook(*, feature: bool = True, pause_s: float = 0) -> str:
    """A notebook that scores: by mean radius (AUC about 0.9) or a constant (0.5), after an optional pause."""
    cells = [READ_TEST_ROWS]
    if pause_s:
        # A pause keeps the run on "Running" for a few polls, so a test can watch the status change in place.
        cells.append(f"import time\ntime.sleep({pause_s})")
    cells.append(WRITE_FEATURE_SCORES if feature else WRITE_CONSTANT_SCORES)
    return notebook_text(*cells, strip=True)


def broken_notebook(column: str = "radius") -> str:
    """A notebook whose second cell raises KeyError on a misspelt column."""
    return notebook_text(READ_TEST_ROWS, BROKEN_COLUMN.replace("{column}", column), WRITE_CONSTANT_SCORES, strip=True)


@dataclass(frozen=True)
class SeededSite:
    """What the journeys need to know about the seeded site."""

    password: str
    base_slug: str
    exercise_slug: str
    organizer: str
    tutor: str
    stuck_member: str
    stuck_member_name: str
    other_member_name: str
    late_participant: str
    late_participant_name: str


def _setup_django() -> None:
    import django

    django.setup()


def _person(email: str, first: str = "", last: str = "", *, staff: bool = False, verified: bool = True):  # type: ignore[no-untyped-def]
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username=email.split("@")[0], email=email, password=PASSWORD, is_staff=staff, first_name=first, last_name=last
    )
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def _confirmed(event, user, use_case):  # type: ignore[no-untyped-def]
    from hackathon.models import Preference, Registration

    registration = Registration.objects.create(
        event=event, user=user, status=Registration.Status.CONFIRMED, affiliation="pisa", career_stage="phd"
    )
    Preference.objects.create(registration=registration, event_exercise=use_case, rank=1)
    return registration


def _tutor(event, user) -> None:  # type: ignore[no-untyped-def]
    from hackathon import services
    from hackathon.models import EventRole

    EventRole.objects.get_or_create(event=event, user=user, role=EventRole.Role.TUTOR)
    services.declare_tutoring(
        event=event, user=user, expertise=[], available_days=[event.starts_on, event.ends_on], max_groups=2
    )


def prepare() -> SeededSite:
    """Migrate, then create the base event with a group whose members already failed in the same way."""
    _setup_django()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)

    from exercises.bundles import builtin_bundle
    from exercises.services import save_exercise
    from grading import services as grading
    from hackathon import services
    from hackathon.models import Event, EventExercise, EventRole

    exercise = save_exercise(builtin_bundle(EXERCISE_SLUG), builtin=True)
    now = timezone.now()
    today = timezone.localdate()
    event = Event.objects.create(
        title="ML_INFN base hackathon (online)",
        slug=BASE_SLUG,
        description="Lectures and hands-on exercises online, on CPU resources.",
        level=Event.Level.BASE,
        mode=Event.Mode.ONLINE,
        starts_on=today,
        ends_on=today + dt.timedelta(days=2),
        registration_opens_at=now - dt.timedelta(days=7),
        registration_closes_at=now + dt.timedelta(days=1),
        capacity=60,
        participants_per_tutor=5,
        compute=Event.Compute.CPU,
    )
    use_case = EventExercise.objects.create(
        event=event, exercise=exercise, opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=2)
    )
    organizer = _person(ORGANIZER, "Olga", "Organizer", staff=True)
    EventRole.objects.create(event=event, user=organizer, role=EventRole.Role.ORGANIZER)
    tutor = _person(TUTOR, "Tommaso", "Tutor")
    _tutor(event, tutor)
    stuck = _person(*STUCK_MEMBER)
    other = _person(*OTHER_MEMBER)
    _person(*LATE_PARTICIPANT)  # signs up in the organizer's journey's new event
    for member in (stuck, other):
        _confirmed(event, member, use_case)
    services.assign_groups(event=event)

    # Real runs, queued for the worker: Giulia has no valid submission an hour after the exercise opened, so she is
    # stuck; Marco scored once. Their misspellings differ only in the quoted name, so the tutor sees one shared error.
    runs = [(other, good_notebook(feature=False)), (stuck, broken_notebook("radius")), (other, broken_notebook("rad"))]
    for member, text in runs:
        grading.submit_notebook(participant=member, event_exercise=use_case, raw=text.encode())

    return SeededSite(
        password=PASSWORD,
        base_slug=BASE_SLUG,
        exercise_slug=EXERCISE_SLUG,
        organizer=ORGANIZER,
        tutor=TUTOR,
        stuck_member=STUCK_MEMBER[0],
        stuck_member_name=" ".join(STUCK_MEMBER[1:]),
        other_member_name=" ".join(OTHER_MEMBER[1:]),
        late_participant=LATE_PARTICIPANT[0],
        late_participant_name=" ".join(LATE_PARTICIPANT[1:]),
    )


def enrol(slug: str) -> None:
    """Make Marco a confirmed participant of the event, ranking its first use case (its tutor is invited by email)."""
    _setup_django()
    from django.contrib.auth import get_user_model

    from hackathon.models import Event

    event = Event.objects.get(slug=slug)
    use_case = event.event_exercises.order_by("pk").first()
    if use_case is None:
        raise SystemExit(f"{slug} opens no exercise: tick one when creating the event.")
    _confirmed(event, get_user_model().objects.get(email=OTHER_MEMBER[0]), use_case)


def migrate() -> None:
    _setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def account(email: str, verification: str) -> None:
    """Create an account that signs in with PASSWORD, its address confirmed (`verified`) or not (`unverified`)."""
    if verification not in ("verified", "unverified"):
        raise SystemExit(f"{verification!r}: say verified or unverified.")
    _setup_django()
    _person(email, verified=verification == "verified")


def token(email: str) -> str:
    """Create an API token for the person, as they would on the site's API tokens page, and return its secret."""
    _setup_django()
    from django.contrib.auth import get_user_model

    from grading.api_auth import create_token

    return create_token(user=get_user_model().objects.get(email=email), name="JupyterLab").secret


def name_hub(slug: str, url: str) -> None:
    _setup_django()
    from hackathon.models import Event

    Event.objects.filter(slug=slug).update(jupyterhub_url=url)


def set_quota(slug: str, exercise: str, per_day: str) -> None:
    _setup_django()
    from hackathon.models import EventExercise

    limit = None if per_day == "default" else int(per_day)
    EventExercise.objects.filter(event__slug=slug, exercise__slug=exercise).update(submissions_per_day=limit)


CLOSED_SLUG = "winter-school-closing"


def closed_event() -> str:
    """Create an event that ends today, its breast-cancer exercise closed an hour ago, Giulia and Marco its
    participants: Marco's best notebook may be shared, Giulia's may not, and each has a run that failed with a KeyError
    (the debrief lists an error once it hit two people)."""
    _setup_django()
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from exercises.models import Exercise
    from grading.models import Submission
    from hackathon.models import Event, EventExercise, EventRole

    now, today = timezone.now(), timezone.localdate()
    event = Event.objects.create(
        title="ML_INFN winter school (closing day)",
        slug=CLOSED_SLUG,
        level=Event.Level.BASE,
        mode=Event.Mode.ONLINE,
        starts_on=today - dt.timedelta(days=2),
        ends_on=today,
        programme_hours=Decimal("24"),
        registration_opens_at=now - dt.timedelta(days=30),
        registration_closes_at=now - dt.timedelta(days=3),
        capacity=60,
        participants_per_tutor=5,
        compute=Event.Compute.CPU,
    )
    use_case = EventExercise.objects.create(
        event=event,
        exercise=Exercise.objects.get(slug=EXERCISE_SLUG),
        opens_at=now - dt.timedelta(days=2),
        closes_at=now - dt.timedelta(hours=1),
    )
    people = get_user_model().objects
    EventRole.objects.create(event=event, user=people.get(email=ORGANIZER), role=EventRole.Role.ORGANIZER)
    giulia, marco = people.get(email=STUCK_MEMBER[0]), people.get(email=OTHER_MEMBER[0])
    chiara = _person(*CLOSING_ONLY_MEMBER)
    for member in (giulia, marco, chiara):
        _confirmed(event, member, use_case)
    runs = [
        (marco, {"score": 0.9312, "share_notebook": True}, good_notebook()),
        (giulia, {"score": 0.5}, good_notebook(feature=False)),
        (giulia, {"status": Submission.Status.FAILED, "reason": Submission.Reason.EXCEPTION, "failed_cell": 1,
                  "message": "Cell 1 raised KeyError: 'radius'"}, broken_notebook()),
        (marco, {"status": Submission.Status.FAILED, "reason": Submission.Reason.EXCEPTION, "failed_cell": 1,
                  "message": "Cell 1 raised KeyError: 'rad'"}, broken_notebook("rad")),
    ]  # fmt: skip
    for member, fields, text in runs:
        submission = Submission(
            event_exercise=use_case,
            participant=member,
            status=fields.pop("status", Submission.Status.SCORED),
            finished_at=now - dt.timedelta(hours=2),
            **fields,
        )
        submission.notebook.save("closing.ipynb", ContentFile(text.encode()), save=False)
        submission.save()
    return event.slug


def announce(slug: str, title: str, body: str) -> None:
    """Send an announcement from the event's organizer to every participant, as the Announcements page does."""
    _setup_django()
    from hackathon import announcements
    from hackathon.models import Event, EventRole

    event = Event.objects.get(slug=slug)
    organizer = event.roles.filter(role=EventRole.Role.ORGANIZER).first().user
    audience = announcements.everyone(event)
    announcements.send_announcement(author=organizer, event=event, title=title, body=body, audience=audience)


def main(argv: list[str]) -> None:
    if argv[:1] == ["prepare"]:
        print(json.dumps(asdict(prepare())))
    elif len(argv) == 2 and argv[0] == "enrol":
        enrol(argv[1])
    elif argv == ["migrate"]:
        migrate()
    elif len(argv) == 3 and argv[0] == "account":
        account(argv[1], argv[2])
    elif len(argv) == 2 and argv[0] == "token":
        print(token(argv[1]))
    elif len(argv) == 3 and argv[0] == "hub":
        name_hub(argv[1], argv[2])
    elif len(argv) == 4 and argv[0] == "quota":
        set_quota(argv[1], argv[2], argv[3])
    elif argv == ["closed"]:
        print(closed_event())
    elif len(argv) == 4 and argv[0] == "announce":
        announce(argv[1], argv[2], argv[3])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
