"""Certificates of an event: what each participant did, issuing and revoking them, and verifying their address."""

from __future__ import annotations

import datetime as dt
import io
import string
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from grading.errors import CertificateRefused, CertificateRevoked
from grading.models import Certificate, CertificateAuditEntry, CertificateWording, Submission
from grading.tutoring.selectors import person_name
from hackathon.models import Event, Extension, Registration

# What a participant did on one exercise, from least to most.
ATTENDED, SUBMITTED, BASELINE, REFERENCE = "attended", "submitted", "baseline", "reference"
LEVELS = (ATTENDED, SUBMITTED, BASELINE, REFERENCE)
PLACEHOLDERS = ("name", "event", "dates", "hours", "where")
SIGNING_SALT = "grading.certificate"
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Achievement:
    """What a participant did on one of the event's exercises."""

    exercise: str
    level: str


def wording_of(event: Event) -> CertificateWording:
    """Return the event's certificate wording, or unsaved defaults until an organizer saves theirs.

    Reading never writes: a page that shows the wording, or a refused form, leaves the database as it was.
    """
    return CertificateWording.objects.filter(event=event).first() or CertificateWording(event=event)


def unknown_placeholders(text: str) -> list[str]:
    """Return the {placeholders} of a wording that certificates cannot fill; raise ValueError for a broken brace."""
    unknown = []
    for _, field, spec, conversion in string.Formatter().parse(text):
        if field is None:
            continue
        # Only bare names: attribute access ({name.__class__}) and format specs ({name:>99999}) are refused.
        if field not in PLACEHOLDERS or spec or conversion:
            unknown.append("{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
    return unknown


def _reaches(score: float, target: float, direction: str) -> bool:
    return score >= target if direction == "higher" else score <= target


def achievements_of(event: Event, participant: AbstractBaseUser) -> list[Achievement]:
    """Return what the person did per exercise: the exercise of their group and every one they submitted to.

    A graded submission counts unless the platform failed it or it was disqualified; the targets are the exercise's
    baseline and reference, reached by the best public score (the private part's labels stay out of it).
    """
    group_exercise = (
        Registration.objects.filter(event=event, user=participant, group__isnull=False)
        .values_list("group__event_exercise_id", flat=True)
        .first()
    )
    submissions = (
        Submission.objects.filter(
            event_exercise__event=event,
            participant=participant,
            kind=Submission.Kind.GRADED,
            disqualification__isnull=True,
        )
        .exclude(reason=Submission.Reason.INFRASTRUCTURE)
        .only("event_exercise_id", "status", "score")
    )
    by_exercise: dict[int, list[Submission]] = {}
    for submission in submissions:
        by_exercise.setdefault(submission.event_exercise_id, []).append(submission)
    achievements = []
    for event_exercise in event.event_exercises.select_related("exercise").order_by("opens_at", "id"):
        exercise = event_exercise.exercise
        own = by_exercise.get(event_exercise.pk, [])
        if not own and event_exercise.pk != group_exercise:
            continue
        scores = [float(s.score) for s in own if s.status == Submission.Status.SCORED and s.score is not None]
        level = SUBMITTED if own else ATTENDED
        if any(_reaches(score, exercise.target_baseline, exercise.direction) for score in scores):
            level = BASELINE
        if any(_reaches(score, exercise.target_reference, exercise.direction) for score in scores):
            level = REFERENCE
        achievements.append(Achievement(exercise.title, level))
    return achievements


def dates_text(starts_on: dt.date, ends_on: dt.date) -> str:
    """Say an event's dates as a certificate does: "on 3 December 2026", "from 1 to 3 December 2026"."""
    if starts_on == ends_on:
        return f"on {starts_on.day} {starts_on:%B %Y}"
    if (starts_on.year, starts_on.month) == (ends_on.year, ends_on.month):
        return f"from {starts_on.day} to {ends_on.day} {ends_on:%B %Y}"
    if starts_on.year == ends_on.year:
        return f"from {starts_on.day} {starts_on:%B} to {ends_on.day} {ends_on:%B %Y}"
    return f"from {starts_on.day} {starts_on:%B %Y} to {ends_on.day} {ends_on:%B %Y}"


def hours_text(hours: Decimal) -> str:
    return str(int(hours)) if hours == hours.to_integral_value() else f"{hours:.1f}"


def statement_of(event: Event, wording: CertificateWording, name: str) -> str:
    """Fill the wording's main text for one person."""
    where = "online" if event.mode == Event.Mode.ONLINE else (f"at {event.venue}" if event.venue else "in person")
    values = {
        "name": name,
        "event": event.title,
        "dates": dates_text(event.starts_on, event.ends_on),
        "hours": hours_text(event.hours_of_programme()),
        "where": where,
    }
    return wording.text.format_map(values)


def _phrase(wording: CertificateWording, level: str) -> str:
    return str(getattr(wording, level))


def certificate_lines(certificate: Certificate) -> list[str]:
    """Return the per-exercise lines a certificate prints: "Reached the reference score of <exercise>"."""
    lines = []
    for item in certificate.achievements:
        phrase = str(item.get("phrase", ""))
        lines.append(f"{phrase[:1].upper()}{phrase[1:]} {item.get('exercise', '')}".strip())
    return lines


def verification_id(certificate: Certificate) -> str:
    """Return the certificate's public id: its random token signed with the site's key."""
    return signing.Signer(salt=SIGNING_SALT).sign(certificate.token)


def verification_url(certificate: Certificate) -> str:
    """Return the address anyone opens to confirm the certificate (absolute, from SITE_URL)."""
    path = reverse("grading:verify_certificate", kwargs={"token": verification_id(certificate)})
    return settings.SITE_URL.rstrip("/") + path


def issuable_from(event: Event) -> dt.date:
    """Return the first day certificates may be issued: the event's last day."""
    return event.ends_on


@transaction.atomic
def issue_certificates(*, event: Event, actor: AbstractBaseUser) -> list[Certificate]:
    """Issue a certificate to each confirmed participant who has no valid one, with an audit entry each.

    What each states (name, text, achievements) is fixed now. Raise CertificateRefused before the event's last day,
    while someone still submits under an extension, or when the wording has a placeholder certificates cannot fill.
    """
    if timezone.localdate() < issuable_from(event):
        raise CertificateRefused(
            f"Certificates can be issued from the event's last day, {issuable_from(event):%d %B %Y}: "
            "until then what the participants did is not complete."
        )
    running = Extension.objects.filter(event_exercise__event=event, until__gt=timezone.now()).order_by("-until")
    if last := running.select_related("event_exercise__exercise").first():
        raise CertificateRefused(
            f"Someone still submits to {last.event_exercise.exercise.title} under an extension until "
            f"{timezone.localtime(last.until):%d %B %Y at %H:%M}: issue the certificates after that, "
            "so that they state what everyone did."
        )
    wording = wording_of(event)
    if unknown := unknown_placeholders(wording.text):
        raise CertificateRefused(f"The certificate text names {', '.join(unknown)}; use only {_placeholder_list()}.")
    if "{hours}" in wording.text and not event.hours_of_programme():
        raise CertificateRefused(
            "The certificates state the programme's hours, and this event has none: set the hours of the programme "
            "on the event's Edit page (or add its sessions), then issue the certificates."
        )
    # Two organizers pressing Issue at once: the second waits here and then finds everyone holding one.
    Event.objects.select_for_update().filter(pk=event.pk).first()
    holders = set(event.certificates.filter(revoked_at__isnull=True).values_list("participant_id", flat=True))
    registrations = (
        Registration.objects.filter(event=event, status=Registration.Status.CONFIRMED)
        .exclude(user_id__in=holders)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )
    issued = []
    for registration in registrations:
        name = person_name(registration.user)
        achievements = [
            {"exercise": a.exercise, "level": a.level, "phrase": _phrase(wording, a.level)}
            for a in achievements_of(event, registration.user)
        ]
        certificate = Certificate.objects.create(
            event=event,
            participant=registration.user,
            name=name,
            statement=statement_of(event, wording, name),
            achievements=achievements,
            signed_by=wording.signed_by,
            issued_by=actor,
        )
        CertificateAuditEntry.objects.create(
            certificate=certificate, actor=actor, action=CertificateAuditEntry.Action.ISSUE
        )
        issued.append(certificate)
    return issued


def _placeholder_list() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


@transaction.atomic
def revoke_certificate(*, certificate: Certificate, actor: AbstractBaseUser, reason: str) -> None:
    """Revoke a certificate: its address then says so. Raise CertificateRefused without a reason or if revoked."""
    reason = reason.strip()
    if not reason:
        raise CertificateRefused("Say why the certificate is revoked; the reason is kept in the audit log.")
    changed = Certificate.objects.filter(pk=certificate.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor, revoke_reason=reason
    )
    if not changed:
        raise CertificateRefused("This certificate is revoked already.")
    CertificateAuditEntry.objects.create(
        certificate=certificate, actor=actor, action=CertificateAuditEntry.Action.REVOKE, reason=reason
    )
    certificate.refresh_from_db()


def verify(token: str) -> Certificate:
    """Return the valid certificate a public id names.

    Raise CertificateRefused for an id whose signature does not hold (forged or mistyped), one that names no
    certificate, and one that was revoked.
    """
    try:
        raw = signing.Signer(salt=SIGNING_SALT).unsign(token)
    except signing.BadSignature:
        raise CertificateRefused(
            "This address does not name a certificate issued by this site: check that it was copied whole."
        ) from None
    certificate = Certificate.objects.select_related("event").filter(token=raw).first()
    if certificate is None:
        raise CertificateRefused("This address does not name a certificate issued by this site.")
    if certificate.is_revoked:
        raise CertificateRevoked(
            f"This certificate was revoked on {timezone.localtime(certificate.revoked_at):%d %B %Y} and is no "
            "longer valid."
        )
    return certificate


def valid_certificates(event: Event) -> QuerySet[Certificate]:
    return event.certificates.filter(revoked_at__isnull=True).select_related("event").order_by("name", "id")


def certificate_of(event: Event, participant: AbstractBaseUser) -> Certificate | None:
    """Return the person's valid certificate of the event, if one was issued."""
    return valid_certificates(event).filter(participant=participant).first()


def file_name(certificate: Certificate) -> str:
    """Return a file name for the certificate's PDF: the event's slug and the person's name, ASCII only."""
    safe = "".join(c if c.isascii() and c.isalnum() else "-" for c in certificate.name).strip("-").lower()
    return f"certificate-{certificate.event.slug}-{safe or certificate.pk}.pdf"


def certificates_zip(event: Event) -> bytes:
    """Return a zip of the PDFs of the event's valid certificates, one file per person."""
    from grading.certificate_pdf import certificate_pdf

    buffer = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for certificate in valid_certificates(event):
            name = file_name(certificate)
            if name in seen:  # two people of the same name
                name = name.replace(".pdf", f"-{certificate.pk}.pdf")
            seen.add(name)
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, certificate_pdf(certificate))
    return buffer.getvalue()
