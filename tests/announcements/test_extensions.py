"""Extensions and visible deadlines: who may submit after the closing, what the pages, API, CLI and boards say."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grading import client, extensions, services
from grading.boards import services as board_services
from grading.boards.ranking import Audience
from grading.boards.selectors import exercise_board
from grading.errors import BoardActionRefused, ExerciseNotOpen, ExtensionRefused, QuotaExceeded
from grading.models import AuditEntry, BoardSettings, Submission
from hackathon.deadlines import deadline_for
from hackathon.models import Extension, Group, Preferences
from tests.api.conftest import client_of
from tests.builders.events import open_event_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import make_organizer, make_participant, person
from tests.builders.submissions import scored

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


@pytest.fixture
def no_queue():
    with mock.patch("grading.services.enqueue") as enqueue:
        yield enqueue


@pytest.fixture
def closed():  # type: ignore[no-untyped-def]
    """An exercise that closed ten minutes ago, its organizer and two participants."""
    now = timezone.now()
    ee = open_event_exercise(opens_at=now - dt.timedelta(days=1), closes_at=now - dt.timedelta(minutes=10))
    return ee, make_organizer(ee.event), person(ee.event, "Ada Late"), person(ee.event, "Bob Punctual")


def _submit(ee, who):  # type: ignore[no-untyped-def]
    return services.submit_notebook(participant=who, event_exercise=ee, raw=notebook_bytes(CONSTANT_SCORES))


def _extend(ee, organizer, who=None, *, group=None, hours=2, reason="Her train was late."):  # type: ignore[no-untyped-def]
    return extensions.grant_extension(
        actor=organizer,
        event_exercise=ee,
        until=timezone.now() + dt.timedelta(hours=hours),
        reason=reason,
        participant=who,
        group=group,
    )


def test_a_person_with_an_extension_submits_after_the_closing_and_the_submission_says_so(closed, no_queue):
    ee, organizer, ada, _ = closed
    [extension] = _extend(ee, organizer, ada)
    submission = _submit(ee, ada)
    assert submission.extension == extension
    assert Submission.objects.filter(participant=ada).count() == 1


def test_a_person_without_an_extension_is_refused_after_the_deadline(closed, no_queue):
    ee, organizer, ada, bob = closed
    _extend(ee, organizer, ada)
    with pytest.raises(ExerciseNotOpen, match="takes submissions from"):
        _submit(ee, bob)
    assert not Submission.objects.filter(participant=bob).exists()


def test_an_extension_that_ended_refuses_like_a_closing(closed, no_queue):
    ee, organizer, ada, _ = closed
    [extension] = _extend(ee, organizer, ada)
    Extension.objects.filter(pk=extension.pk).update(until=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(ExerciseNotOpen):
        _submit(ee, ada)
    assert "your extension ended" in deadline_for(ee, ada).refusal()


def test_the_daily_quota_still_counts_under_an_extension(closed, no_queue):
    ee, organizer, ada, _ = closed
    ee.submissions_per_day = 1
    ee.save()
    _extend(ee, organizer, ada)
    _submit(ee, ada)
    with pytest.raises(QuotaExceeded):
        _submit(ee, ada)


def test_a_group_extension_covers_each_member_and_no_one_else(closed, no_queue):
    ee, organizer, ada, bob = closed
    group = Group.objects.create(event=ee.event, event_exercise=ee, number=1)
    ada.registrations.update(group=group)
    granted = _extend(ee, organizer, group=group)
    assert [e.user for e in granted] == [ada] and granted[0].group == group
    assert _submit(ee, ada).extension is not None
    with pytest.raises(ExerciseNotOpen):
        _submit(ee, bob)


def test_granting_writes_an_audit_entry_with_the_reason(closed):
    ee, organizer, ada, _ = closed
    _extend(ee, organizer, ada, reason="Power cut in the lab.")
    entry = AuditEntry.objects.get(event_exercise=ee, action=AuditEntry.Action.EXTEND)
    assert entry.actor == organizer and "Ada Late" in entry.reason and "Power cut in the lab." in entry.reason


@pytest.mark.parametrize(
    ("who", "hours", "reason", "message"),
    [
        ("ada", 2, "  ", "Say why"),
        ("ada", -1, "late", "choose a later time"),
        ("ada", 24 * 40, "late", "at most 30 days"),
        ("outsider", 2, "late", "confirmed participants"),
        ("participant", 2, "late", "Only the event's organizers"),
    ],
)
def test_an_extension_is_refused_with_a_sentence_and_nothing_granted(closed, who, hours, reason, message):
    ee, organizer, ada, bob = closed
    outsider = make_participant(open_event_exercise().event)
    actor = bob if who == "participant" else organizer
    target = outsider if who == "outsider" else ada
    with pytest.raises(ExtensionRefused, match=message):
        extensions.grant_extension(
            actor=actor,
            event_exercise=ee,
            until=timezone.now() + dt.timedelta(hours=hours),
            reason=reason,
            participant=target,
        )
    assert not Extension.objects.exists() and not AuditEntry.objects.exists()


def test_the_board_counts_and_marks_a_row_submitted_under_an_extension(closed):
    ee, organizer, ada, bob = closed
    [extension] = _extend(ee, organizer, ada)
    scored(ee, bob, 0.7)
    late = scored(ee, ada, 0.9, at=timezone.now())
    Submission.objects.filter(pk=late.pk).update(extension=extension)
    for audience in Audience:
        rows = {row.name: row for row in exercise_board(ee, audience=audience).ranked}
        assert rows["Ada Late"].rank == 1 and rows["Ada Late"].extended is True
        assert rows["Bob Punctual"].extended is False
    browser = Client()
    browser.force_login(organizer)
    page = browser.get(reverse("grading:exercise_board", args=[ee.event.slug, ee.exercise.slug])).content.decode()
    assert page.count('class="extended"') == 1
    export = browser.get(reverse("grading:boards_csv", args=[ee.event.slug])).content.decode()
    exercise_rows = ("exercise", "participants")
    rows = [r for r in csv.DictReader(io.StringIO(export)) if (r["board"], r["ranking"]) == exercise_rows]
    marks = {(r["part"], r["name"]): r["extended"] for r in rows}
    assert marks[("public", "Ada Late")] == marks[("private", "Ada Late")] == "yes"
    assert marks[("public", "Bob Punctual")] == ""


def test_final_picks_stay_open_as_long_as_the_persons_extension(closed):
    ee, organizer, ada, bob = closed
    BoardSettings.objects.create(event_exercise=ee, final_picks=1)
    mine, theirs = scored(ee, ada, 0.8), scored(ee, bob, 0.8)
    _extend(ee, organizer, ada)
    assert board_services.pick_final_submissions(participant=ada, event_exercise=ee, uids=[str(mine.uid)])
    with pytest.raises(BoardActionRefused, match="locked"):
        board_services.pick_final_submissions(participant=bob, event_exercise=ee, uids=[str(theirs.uid)])


# --- Deadlines people can see ------------------------------------------------------------------------------


def test_the_exercise_page_says_when_submissions_close_in_the_persons_time_zone(client):
    closes = timezone.now() + dt.timedelta(days=1)
    ee = open_event_exercise(closes_at=closes)
    ada = make_participant(ee.event)
    Preferences.objects.create(user=ada, time_zone="America/New_York")
    client.force_login(ada)
    page = client.get(reverse("grading:event_exercise", args=[ee.event.slug, ee.exercise.slug])).content.decode()
    local = closes.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert f"Submissions close on {local:%d %b %Y at %H:%M} (America/New_York)" in page
    # The countdown script reads the moment itself, in UTC.
    assert f'data-closes-at="{closes.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"' in page


def test_the_last_hour_counts_down_on_the_page_and_in_the_api(client):
    ee = open_event_exercise(closes_at=timezone.now() + dt.timedelta(minutes=42, seconds=30))
    ada = make_participant(ee.event)
    client.force_login(ada)
    page = client.get(reverse("grading:event_exercise", args=[ee.event.slug, ee.exercise.slug])).content.decode()
    assert "42 min left" in page
    detail = client_of(ada).get(f"/api/v1/events/{ee.event.slug}/exercises/{ee.exercise.slug}/").json()
    assert detail["deadline"].endswith(": 42 min left")
    assert detail["extended"] is False and detail["time_zone"] == "Europe/Rome"


def test_no_countdown_more_than_an_hour_before(client):
    ee = open_event_exercise(closes_at=timezone.now() + dt.timedelta(hours=3))
    ada = make_participant(ee.event)
    detail = client_of(ada).get(f"/api/v1/events/{ee.event.slug}/exercises/{ee.exercise.slug}/").json()
    assert "left" not in detail["deadline"]


def test_the_page_and_the_api_show_the_persons_extension(client, closed):
    ee, organizer, ada, bob = closed
    [extension] = _extend(ee, organizer, ada)
    client.force_login(ada)
    page = client.get(reverse("grading:event_exercise", args=[ee.event.slug, ee.exercise.slug])).content.decode()
    assert "thanks to your extension" in page and "Submit for grading" in page
    assert 'id="window"' not in page and "Closed on" not in page  # the exercise's own window would contradict hers
    client.force_login(bob)
    page = client.get(reverse("grading:event_exercise", args=[ee.event.slug, ee.exercise.slug])).content.decode()
    assert 'id="window"' in page and "Closed on" in page
    detail = client_of(ada).get(f"/api/v1/events/{ee.event.slug}/exercises/{ee.exercise.slug}/").json()
    assert detail["is_open"] is True and detail["extended"] is True
    assert detail["closes_for_me"].startswith(extension.until.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M"))
    other = client_of(bob).get(f"/api/v1/events/{ee.event.slug}/exercises/{ee.exercise.slug}/").json()
    assert other["is_open"] is False and other["deadline"].startswith("Closed on ")


def test_the_command_line_client_prints_the_deadline_after_sending():
    class Site:
        def event_exercise(self, event: str, exercise: str) -> dict:
            assert (event, exercise) == ("hack", "breast-cancer")
            return {"deadline": "Submissions close on 30 Nov 2026 at 18:00 (Europe/Rome): 12 min left"}

    out = io.StringIO()
    client.write_deadline(Site(), {"event": "hack", "exercise": "breast-cancer"}, out)  # type: ignore[arg-type]
    assert out.getvalue() == "breast-cancer: Submissions close on 30 Nov 2026 at 18:00 (Europe/Rome): 12 min left.\n"


def test_an_organizer_grants_an_extension_on_the_extensions_page(client, closed):
    ee, organizer, ada, _ = closed
    Preferences.objects.create(user=organizer, time_zone="UTC")
    until = (timezone.now() + dt.timedelta(hours=3)).astimezone(dt.UTC).replace(second=0, microsecond=0)
    client.force_login(organizer)
    url = reverse("grading:event_extensions", args=[ee.event.slug])
    registration = ada.registrations.get()
    response = client.post(
        url,
        {
            "exercise": ee.pk,
            "participant": registration.pk,
            "until": until.strftime("%Y-%m-%dT%H:%M"),
            "reason": "Lost an afternoon to a broken laptop.",
        },
    )
    assert response.status_code == 302
    extension = Extension.objects.get()
    assert extension.user == ada and extension.until == until and extension.granted_by == organizer
    page = client.get(url).content.decode()
    assert "Lost an afternoon to a broken laptop." in page and "your time zone, UTC" in page


def test_my_event_keeps_listing_an_exercise_closed_for_others_while_the_persons_extension_runs(client, closed):
    ee, organizer, ada, bob = closed
    _extend(ee, organizer, ada)
    client.force_login(ada)
    page = client.get(reverse("grading:my_event", args=[ee.event.slug])).content.decode()
    assert ee.exercise.title in page and 'class="extended"' in page
    client.force_login(bob)
    assert ee.exercise.title not in client.get(reverse("grading:my_event", args=[ee.event.slug])).content.decode()
