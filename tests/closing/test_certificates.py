"""Certificates: what they state, the organizers' wording, verification (valid, forged, revoked), zip and downloads."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from grading import certificates
from grading.certificate_pdf import certificate_pdf
from grading.errors import CertificateRefused
from grading.models import Certificate, CertificateAuditEntry, CertificateWording, Disqualification, Submission
from hackathon.models import Event, EventExercise, Extension, Group, Registration, Session
from tests.builders.events import make_event, open_exercise
from tests.builders.exercises import breast_cancer_exercise, make_exercise
from tests.builders.people import make_organizer, make_participant, make_tutor, make_user
from tests.builders.submissions import record_submission

pytestmark = pytest.mark.django_db


def ended_event(**fields: Any) -> Event:
    """An event that ended today, from the 1st to the 3rd of a month, with the breast-cancer exercise closed."""
    today = timezone.localdate()
    defaults: dict[str, Any] = {
        "title": "ML_INFN base hackathon",
        "starts_on": today - dt.timedelta(days=2),
        "ends_on": today,
        "programme_hours": Decimal("24"),
    }
    defaults.update(fields)
    return make_event(**defaults)


def exercise_of(event: Event, exercise: Any = None) -> EventExercise:
    """The breast-cancer exercise (or `exercise`) of the event, open for two days and closed an hour ago."""
    return open_exercise(
        event,
        exercise or breast_cancer_exercise(),
        opened=dt.timedelta(days=2),
        closes_in=-dt.timedelta(hours=1),
    )


def person(event: Event, first: str, last: str) -> Any:
    user = make_participant(event)
    user.first_name, user.last_name = first, last
    user.save()
    return user


def graded(event_exercise: EventExercise, participant: Any, score: float | None, **fields: Any) -> Submission:
    status = Submission.Status.SCORED if score is not None else Submission.Status.FAILED
    return record_submission(event_exercise, participant, status=status, score=score, **fields)


def pdf_text(payload: bytes) -> str:
    """Return the PDF's text with its line breaks as spaces: the layout wraps sentences where it likes."""
    text = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(payload)).pages)
    return " ".join(text.split())


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_certificate_states_the_event_dates_hours_and_what_the_person_did_per_exercise(settings):
    settings.SITE_URL = "https://hack.example.org"
    event = ended_event(mode=Event.Mode.ONLINE)
    cancer = exercise_of(event)
    other = exercise_of(event, make_exercise("muon-tracks"))
    unused = exercise_of(event, make_exercise("jet-tagging"))
    group = Group.objects.create(event=event, event_exercise=other, number=1)
    ada = person(event, "Ada", "Rossi")
    Registration.objects.filter(event=event, user=ada).update(group=group)
    graded(cancer, ada, 0.55)
    graded(cancer, ada, 0.97)  # above the reference (0.96)
    organizer = make_organizer(event)

    (certificate,) = certificates.issue_certificates(event=event, actor=organizer)
    text = pdf_text(certificate_pdf(certificate))

    assert "Certificate" in text and "Ada Rossi" in text
    assert "ML_INFN base hackathon" in text
    assert certificates.dates_text(event.starts_on, event.ends_on) in text
    assert "24 hours" in text and "online" in text
    assert certificate.statement == (
        f"This certifies that Ada Rossi took part in ML_INFN base hackathon, held online "
        f"{certificates.dates_text(event.starts_on, event.ends_on)}, a programme of 24 hours of lectures and "
        "hands-on sessions."
    )
    assert "Reached the reference score of Breast cancer diagnosis from cell nuclei features" in text
    assert "Worked on Muon Tracks" in text  # the group's exercise, without a submission
    assert unused.exercise.title not in text
    assert certificates.verification_url(certificate) in text
    assert certificates.verification_url(certificate).startswith("https://hack.example.org/certificates/")


def test_each_level_is_reached_by_the_best_public_score_and_disqualified_runs_do_not_count():
    event = ended_event()
    cancer = exercise_of(event)
    baseline, submitted, failing, cheat = (person(event, name, "X") for name in ("Bea", "Cleo", "Dan", "Eve"))
    graded(cancer, baseline, 0.7, private_score=0.99)
    graded(cancer, submitted, 0.3)
    graded(cancer, failing, None, reason=Submission.Reason.EXCEPTION)
    graded(cancer, failing, None, reason=Submission.Reason.INFRASTRUCTURE)
    cheating = graded(cancer, cheat, 0.999)
    Disqualification.objects.create(submission=cheating, reason="Looked the labels up.")
    Submission.objects.create(event_exercise=cancer, participant=cheat, kind=Submission.Kind.CHECK, score=0.99)

    levels = {
        user.first_name: [a.level for a in certificates.achievements_of(event, user)]
        for user in (baseline, submitted, failing, cheat)
    }

    assert levels == {"Bea": ["baseline"], "Cleo": ["submitted"], "Dan": ["submitted"], "Eve": []}


def test_certificates_use_the_wording_the_organizer_chose():
    event = ended_event(venue="LNF, Frascati", mode=Event.Mode.IN_PERSON)
    cancer = exercise_of(event)
    organizer = make_organizer(event)
    graded(cancer, person(event, "Ada", "Rossi"), 0.97)
    response = signed_in(organizer).post(
        f"/events/{event.slug}/closing/",
        {
            "text": "{name} attended {event} {where}, {dates}: {hours} hours in all.",
            "attended": "took part in",
            "submitted": "sent a notebook to",
            "baseline": "beat the baseline of",
            "reference": "matched the experts on",
            "signed_by": "Prof. Maria Bianchi, director",
        },
    )
    assert response.status_code == 302

    (certificate,) = certificates.issue_certificates(event=event, actor=organizer)
    text = pdf_text(certificate_pdf(certificate))

    assert "Ada Rossi attended ML_INFN base hackathon at LNF, Frascati" in text
    assert "24 hours in all" in text
    assert "Matched the experts on Breast cancer" in text
    assert "Prof. Maria Bianchi, director" in text


@pytest.mark.parametrize("text", ["{name.__class__.__init__}", "{nome} took part", "{name:>999999}", "{0}", "{name"])
def test_a_wording_with_a_placeholder_certificates_cannot_fill_is_refused(text):
    event = ended_event()
    organizer = make_organizer(event)

    response = signed_in(organizer).post(
        f"/events/{event.slug}/closing/",
        {"text": text, "attended": "a", "submitted": "b", "baseline": "c", "reference": "d"},
    )

    assert response.status_code == 200
    assert "The wording was not saved" in response.content.decode()
    assert not CertificateWording.objects.filter(event=event).exists()  # nothing written: the defaults hold
    assert certificates.wording_of(event).text == CertificateWording._meta.get_field("text").default


def test_the_hours_default_to_the_sum_of_the_programmes_sessions():
    event = ended_event(programme_hours=None)
    for day in (event.starts_on, event.ends_on):
        Session.objects.create(
            event=event, day=day, starts_at=dt.time(9), ends_at=dt.time(12, 30), kind="lecture", title="Lectures"
        )
    make_participant(event)

    (certificate,) = certificates.issue_certificates(event=event, actor=make_organizer(event))

    assert event.hours_of_programme() == Decimal("7.0")
    assert "7 hours" in certificate.statement


def test_certificates_are_not_issued_before_the_events_last_day():
    today = timezone.localdate()
    event = ended_event(starts_on=today, ends_on=today + dt.timedelta(days=1))
    make_participant(event)

    with pytest.raises(CertificateRefused, match="from the event's last day"):
        certificates.issue_certificates(event=event, actor=make_organizer(event))
    assert not Certificate.objects.exists()


def test_certificates_wait_for_the_last_extension_of_the_event():
    event = ended_event()
    organizer, ada = make_organizer(event), make_participant(event)
    until = timezone.now() + dt.timedelta(hours=5)
    Extension.objects.create(event_exercise=exercise_of(event), user=ada, until=until, reason="Lost a day")

    with pytest.raises(
        CertificateRefused, match=f"under an extension until {timezone.localtime(until):%d %B %Y at %H:%M}"
    ):
        certificates.issue_certificates(event=event, actor=organizer)
    assert not Certificate.objects.exists()


def test_issuing_gives_each_confirmed_participant_one_certificate_with_an_audit_entry():
    event = ended_event()
    organizer = make_organizer(event)
    make_participant(event)
    make_participant(event)
    make_participant(event, status=Registration.Status.CANCELLED)
    make_tutor(event)

    response = signed_in(organizer).post(f"/events/{event.slug}/certificates/issue/")
    again = certificates.issue_certificates(event=event, actor=organizer)

    assert response.status_code == 302
    assert event.certificates.count() == 2 and again == []
    assert list(CertificateAuditEntry.objects.values_list("action", "actor")) == [("issue", organizer.pk)] * 2


def test_verification_confirms_a_valid_certificate_to_anyone():
    event = ended_event()
    person(event, "Ada", "Rossi")
    (certificate,) = certificates.issue_certificates(event=event, actor=make_organizer(event))

    response = Client().get(f"/certificates/{certificates.verification_id(certificate)}/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "Valid certificate" in text and "Ada Rossi" in text and "ML_INFN base hackathon" in text


def test_a_forged_or_unknown_certificate_address_is_refused():
    event = ended_event()
    make_participant(event)
    (certificate,) = certificates.issue_certificates(event=event, actor=make_organizer(event))
    real = certificates.verification_id(certificate)
    token, signature = real.split(":")
    other_signature = "A" * len(signature) if signature[0] != "A" else "B" * len(signature)
    forged = [
        f"{token}:{other_signature}",  # a made-up signature
        token,  # the bare token, unsigned
        f"{token[:-1]}{'x' if token[-1] != 'x' else 'y'}:{signature}",  # another token under a real signature
        "AbCdEfGhIjKlMnOpQrStUvWx:1234567890abcdefghijklmnopq",
    ]

    for address in forged:
        response = Client().get(f"/certificates/{address}/")
        assert response.status_code == 404, address
        assert "Certificate not valid" in response.content.decode()
        assert "does not name a certificate" in response.content.decode()
    # A signed token that names no certificate (a deleted one): refused as well.
    certificate.delete()
    assert Client().get(f"/certificates/{real}/").status_code == 404


def test_a_revoked_certificate_is_refused_and_the_revocation_is_audited():
    event = ended_event()
    ada = person(event, "Ada", "Rossi")
    organizer = make_organizer(event)
    (certificate,) = certificates.issue_certificates(event=event, actor=organizer)
    client = signed_in(organizer)
    revoke = f"/events/{event.slug}/certificates/{certificate.pk}/revoke/"

    assert client.get(revoke).status_code == 200
    assert client.post(revoke, {"reason": ""}).status_code == 200  # asks again: a reason is required
    assert client.post(revoke, {"reason": "Issued to the wrong person."}).status_code == 302

    response = Client().get(f"/certificates/{certificates.verification_id(certificate)}/")
    assert response.status_code == 410
    assert "was revoked on" in response.content.decode() and "Ada Rossi" not in response.content.decode()
    entry = CertificateAuditEntry.objects.get(action="revoke")
    assert entry.actor == organizer and entry.reason == "Issued to the wrong person."
    assert signed_in(ada).get(f"/events/{event.slug}/me/certificate.pdf").status_code == 404
    with pytest.raises(CertificateRefused, match="revoked already"):
        certificates.revoke_certificate(certificate=certificate, actor=organizer, reason="Again.")
    # A new one may be issued after a revocation; the old address stays refused.
    (renewed,) = certificates.issue_certificates(event=event, actor=organizer)
    assert renewed.token != certificate.token


def test_organizers_download_every_valid_certificate_as_a_zip():
    event = ended_event()
    organizer = make_organizer(event)
    person(event, "Ada", "Rossi")
    person(event, "Bruno", "Conti")
    person(event, "Carla", "Neri")
    issued = certificates.issue_certificates(event=event, actor=organizer)
    certificates.revoke_certificate(
        certificate=next(c for c in issued if c.name == "Carla Neri"), actor=organizer, reason="Did not attend."
    )

    response = signed_in(organizer).get(f"/events/{event.slug}/certificates.zip")

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(archive.namelist())
    assert names == [f"certificate-{event.slug}-ada-rossi.pdf", f"certificate-{event.slug}-bruno-conti.pdf"]
    assert "Bruno Conti" in pdf_text(archive.read(names[1]))


def test_a_participant_downloads_their_own_certificate_from_their_page():
    event = ended_event()
    exercise_of(event)
    ada = person(event, "Ada", "Rossi")
    certificates.issue_certificates(event=event, actor=make_organizer(event))
    late = make_participant(event)  # registered after the certificates were issued
    client = signed_in(ada)

    page = client.get(f"/events/{event.slug}/me/").content.decode()
    response = client.get(f"/events/{event.slug}/me/certificate.pdf")

    assert "Download my certificate (PDF)" in page
    assert "Debrief and solutions: Breast cancer" in page
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "Ada Rossi" in pdf_text(response.content)
    assert signed_in(late).get(f"/events/{event.slug}/me/certificate.pdf").status_code == 404


def test_another_events_organizer_and_the_participants_are_refused_the_organizers_pages():
    event = ended_event()
    organizer = make_organizer(event)
    make_participant(event)
    (certificate,) = certificates.issue_certificates(event=event, actor=organizer)
    outsiders = [make_organizer(make_event()), make_participant(event), make_tutor(event), make_user()]

    for outsider in outsiders:
        client = signed_in(outsider)
        assert client.get(f"/events/{event.slug}/closing/").status_code == 403
        assert client.get(f"/events/{event.slug}/certificates.zip").status_code == 403
        assert client.get(f"/events/{event.slug}/certificates/{certificate.pk}/").status_code == 403
        assert client.post(f"/events/{event.slug}/certificates/issue/").status_code == 403
        revoke = f"/events/{event.slug}/certificates/{certificate.pk}/revoke/"
        assert client.post(revoke, {"reason": "Mine now."}).status_code == 403
    # An organizer of another event cannot reach this event's certificate through their own event either.
    other = make_event()
    other_organizer = make_organizer(other)
    response = signed_in(other_organizer).post(
        f"/events/{other.slug}/certificates/{certificate.pk}/revoke/", {"reason": "x"}
    )
    assert response.status_code == 404
    certificate.refresh_from_db()
    assert not certificate.is_revoked
    assert not CertificateAuditEntry.objects.filter(action="revoke").exists()


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "said"),
    [
        (dt.date(2026, 12, 3), dt.date(2026, 12, 3), "on 3 December 2026"),
        (dt.date(2026, 12, 1), dt.date(2026, 12, 3), "from 1 to 3 December 2026"),
        (dt.date(2026, 11, 30), dt.date(2026, 12, 2), "from 30 November to 2 December 2026"),
        (dt.date(2026, 12, 30), dt.date(2027, 1, 2), "from 30 December 2026 to 2 January 2027"),
    ],
)
def test_the_dates_read_as_a_sentence_says_them(starts_on, ends_on, said):
    assert certificates.dates_text(starts_on, ends_on) == said


def test_certificates_that_state_hours_are_refused_while_the_event_has_none():
    event = ended_event(programme_hours=None)
    make_participant(event)
    organizer = make_organizer(event)

    with pytest.raises(CertificateRefused, match="set the hours of the programme"):
        certificates.issue_certificates(event=event, actor=organizer)
    page = signed_in(organizer).post(f"/events/{event.slug}/certificates/issue/", follow=True).content.decode()

    assert "set the hours of the programme" in page
    assert not Certificate.objects.exists()


def test_a_very_long_name_with_markup_is_issued_whole_and_printed_within_the_page_as_text(client):
    """Found case: first and last name of 150 characters each made a 301-character name for a 200-character column
    (PostgreSQL refused it, so nobody of the event got a certificate) and ran off both edges of the page."""
    event = ended_event()
    exercise_of(event)
    first = ("<b>Ada</b>&amp;" + "x" * 150)[:150]
    last = ("<script>alert(1)</script>" + " Rossi" * 30)[:150]
    ada = person(event, first, last)

    (certificate,) = certificates.issue_certificates(event=event, actor=make_organizer(event))
    payload = certificate_pdf(certificate)

    assert len(certificate.name) == 301 <= Certificate._meta.get_field("name").max_length
    assert "".join(certificate.name.split()) in "".join(pdf_text(payload).split())  # the markup printed as text
    width = float(PdfReader(io.BytesIO(payload)).pages[0].mediabox.width)
    starts: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: Any) -> None:
        if text.strip():
            starts.append(tm[4] * cm[0] + tm[5] * cm[2] + cm[4])

    PdfReader(io.BytesIO(payload)).pages[0].extract_text(visitor_text=visit)
    assert starts and min(starts) >= 0 and max(starts) < width
    page = client.get(urlsplit(certificates.verification_url(certificate)).path)
    assert b"<script>alert(1)" not in page.content and b"&lt;script&gt;alert(1)" in page.content
    assert page.status_code == 200 and certificate.participant_id == ada.pk


@pytest.mark.parametrize("phrase", ["attended", "submitted", "baseline", "reference"])
def test_an_exercise_phrase_with_a_placeholder_is_refused_since_the_title_follows_it(phrase):
    event = ended_event()
    organizer = make_organizer(event)
    wording = {"text": "{name} took part", "attended": "a", "submitted": "b", "baseline": "c", "reference": "d"}

    response = signed_in(organizer).post(
        f"/events/{event.slug}/closing/", {**wording, phrase: "reached the reference score in {exercise}"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "The wording was not saved" in page and "the certificate writes the exercise&#x27;s title after it" in page
    assert not CertificateWording.objects.filter(event=event).exists()  # nothing written: the defaults hold
    assert getattr(certificates.wording_of(event), phrase) == CertificateWording._meta.get_field(phrase).default
