"""Organizers import registrants from an Indico-like CSV (dry run first) and export the list as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hackathon import services
from hackathon.errors import ImportRefused
from hackathon.services import RegistrationDetails
from tests.builders.events import make_event
from tests.builders.people import make_organizer, make_participant, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

GOOD = (
    "Name,Email,Affiliation\n"
    "Ada Rossi,ada@example.org,INFN Sezione di Pisa\n"
    "Bruno Verdi,bruno@example.org,CERN\n"
    "Carla Neri,carla@example.org,INFN Milano Bicocca\n"
)


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("registrants.csv", text.encode(), content_type="text/csv")


def test_the_dry_run_lists_the_changes_and_changes_nothing():
    event = make_event()
    make_user("bruno@example.org")
    plan = services.import_registrants(event=event, text=GOOD)
    assert [(r.email, r.action) for r in plan.rows] == [
        ("ada@example.org", "create account"),
        ("bruno@example.org", "register"),
        ("carla@example.org", "create account"),
    ]
    assert [(r.affiliation, r.affiliation_other) for r in plan.rows] == [
        ("pisa", ""),
        ("other", "CERN"),
        ("milano-bicocca", ""),
    ]
    assert not event.registrations.exists()
    assert not get_user_model().objects.filter(email="ada@example.org").exists()


def test_applying_creates_accounts_and_registrations_up_to_capacity_then_the_waiting_list():
    event = make_event(capacity=2)
    plan = services.import_registrants(event=event, text=GOOD, dry_run=False)
    assert plan.applied and plan.statuses == {"confirmed": 2, "waiting": 1}
    rows = list(event.registrations.order_by("id").values_list("user__email", "status", "source"))
    assert rows == [
        ("ada@example.org", "confirmed", "import"),
        ("bruno@example.org", "confirmed", "import"),
        ("carla@example.org", "waiting", "import"),
    ]
    ada = get_user_model().objects.get(email="ada@example.org")
    assert (ada.first_name, ada.last_name, ada.has_usable_password()) == ("Ada", "Rossi", False)


def test_importing_the_same_file_twice_leaves_the_registrations_unchanged():
    event = make_event()
    services.import_registrants(event=event, text=GOOD, dry_run=False)
    plan = services.import_registrants(event=event, text=GOOD, dry_run=False)
    assert plan.unchanged == 3 and plan.new_registrations == 0
    assert event.registrations.count() == 3


def test_indico_first_and_last_name_columns_and_semicolons_are_understood():
    event = make_event()
    text = "First Name;Last Name;Email Address;Institution\nDario;Bianchi;dario@example.org;INFN LNF\n"
    plan = services.import_registrants(event=event, text=text)
    assert [(r.name, r.email, r.affiliation) for r in plan.rows] == [("Dario Bianchi", "dario@example.org", "lnf")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Name,Phone\nAda,123\n", "the import needs name (or first name and last name), email and affiliation"),
        ("Name,Email,Affiliation\nAda,not-an-email,Pisa\n", "Line 2: not-an-email is not an email address"),
        (
            "Name,Email,Affiliation\nAda,ada@example.org,Pisa\nAda again,ADA@example.org,Pisa\n",
            "Line 3: ada@example.org appears again (first on line 2)",
        ),
        ("", "The file is empty"),
        ("Name,Email,Affiliation\n", "no registrants"),
    ],
)
def test_a_malformed_csv_is_refused_with_the_reason_and_nothing_changes(text, message):
    event = make_event()
    users_before = get_user_model().objects.count()
    with pytest.raises(ImportRefused) as refused:
        services.import_registrants(event=event, text=text, dry_run=False)
    assert message in refused.value.message
    assert "nothing changed" in refused.value.message
    assert not event.registrations.exists()
    assert get_user_model().objects.count() == users_before


def test_a_full_event_with_no_waiting_list_refuses_the_whole_import():
    event = make_event(capacity=1, has_waiting_list=False)
    with pytest.raises(ImportRefused, match="keeps no waiting list"):
        services.import_registrants(event=event, text=GOOD, dry_run=False)
    assert not event.registrations.exists()
    assert not get_user_model().objects.filter(email="ada@example.org").exists()


def test_the_organizer_uploads_sees_the_dry_run_then_confirms(client):
    event = make_event()
    client.force_login(make_organizer(event))
    url = reverse("hackathon:import_registrations", args=[event.slug])
    page = client.post(url, {"file": upload(GOOD)}).content.decode()
    assert "Dry run" in page and "ada@example.org" in page and "create account" in page
    assert not event.registrations.exists()
    response = client.post(url, {"text": GOOD, "confirm": "on"}, follow=True)
    assert "Imported 3 registrants" in response.content.decode()
    assert event.registrations.count() == 3


def test_the_import_page_shows_a_malformed_csv_refusal(client):
    event = make_event()
    client.force_login(make_organizer(event))
    response = client.post(
        reverse("hackathon:import_registrations", args=[event.slug]),
        {"file": upload("Name,Email,Affiliation\nAda,@@,Pisa\n")},
    )
    assert "is not an email address" in response.content.decode()
    assert not event.registrations.exists()


def test_a_participant_may_not_import(client):
    event = make_event()
    client.force_login(make_participant(event))
    response = client.post(reverse("hackathon:import_registrations", args=[event.slug]), {"file": upload(GOOD)})
    assert response.status_code == 403
    assert not event.registrations.filter(user__email="ada@example.org").exists()


def test_the_export_lists_every_registration_with_its_answers(client):
    event = make_event()
    person = make_user("eva@example.org")
    services.register(
        event=event,
        user=person,
        details=RegistrationDetails(
            affiliation="other", affiliation_other="Univ. Firenze", career_stage="phd", ml_experience="basic"
        ),
    )
    client.force_login(make_organizer(event))
    response = client.get(reverse("hackathon:export_registrations", args=[event.slug]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    assert rows[0]["email"] == "eva@example.org"
    assert (rows[0]["status"], rows[0]["affiliation"], rows[0]["career stage"]) == (
        "Confirmed",
        "Univ. Firenze",
        "PhD student",
    )


def test_the_import_command_lists_changes_without_apply(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    event = make_event()
    path = tmp_path / "registrants.csv"
    path.write_text(GOOD)
    out = StringIO()
    call_command("import_registrants", event.slug, str(path), stdout=out)
    assert "Would import 3 registration(s)" in out.getvalue()
    assert not event.registrations.exists()
