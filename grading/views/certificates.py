"""Certificate pages: the organizers' (wording, issuing, revoking, the zip), a participant's PDF, verification."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from grading import certificates, closing
from grading.certificate_pdf import certificate_pdf
from grading.errors import CertificateRefused, CertificateRevoked
from grading.forms import CertificateWordingForm
from grading.models import CertificateAuditEntry
from hackathon import permissions
from hackathon.models import Event
from hackathon.selectors import get_visible_event


def _managed_event(request: HttpRequest, slug: str) -> Event:
    """Return the event if the person organizes it: 404 when they cannot see it, 403 when they may not manage."""
    event = get_visible_event(request.user, slug)
    if not permissions.can_manage_event(request.user, event):
        raise PermissionDenied("Only the event's organizers can open this page.")
    return event


def _pdf_response(payload: bytes, name: str, *, attachment: bool = True) -> HttpResponse:
    response = HttpResponse(payload, content_type="application/pdf")
    response["Content-Disposition"] = f'{"attachment" if attachment else "inline"}; filename="{name}"'
    return response


@login_required
def event_closing(request: HttpRequest, slug: str) -> HttpResponse:
    """The organizers' closing page: each exercise's debrief, the certificates' wording, list and audit log."""
    event = _managed_event(request, slug)
    wording = certificates.wording_of(event)
    form = CertificateWordingForm(request.POST or None, instance=wording)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "The certificates' wording is saved; certificates issued from now on use it.")
            return redirect("grading:event_closing", slug=event.slug)
        messages.error(request, "The wording was not saved: correct the field marked below.")
    exercises = [
        (event_exercise, closing.has_closed(event_exercise))
        for event_exercise in event.event_exercises.select_related("exercise").order_by("opens_at", "id")
    ]
    context = {
        "event": event,
        "form": form,
        "exercises": exercises,
        "hours": certificates.hours_text(event.hours_of_programme()),
        "issuable": timezone.localdate() >= certificates.issuable_from(event),
        "issuable_from": certificates.issuable_from(event),
        "certificates": event.certificates.select_related("participant").order_by("revoked_at", "name", "id"),
        "audit": CertificateAuditEntry.objects.filter(certificate__event=event).select_related("certificate", "actor")[
            :50
        ],
    }
    return render(request, "grading/closing/event_closing.html", context)


@login_required
@require_POST
def issue_certificates(request: HttpRequest, slug: str) -> HttpResponse:
    event = _managed_event(request, slug)
    try:
        issued = certificates.issue_certificates(event=event, actor=request.user)
    except CertificateRefused as error:
        messages.error(request, error.message)
    else:
        if issued:
            messages.success(request, f"Issued {len(issued)} certificate{'s' if len(issued) != 1 else ''}.")
        else:
            messages.info(request, "Every confirmed participant has a certificate already; nothing was issued.")
    return redirect("grading:event_closing", slug=event.slug)


@login_required
def revoke_certificate(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Ask for a reason, then revoke: its verification page then refuses it."""
    event = _managed_event(request, slug)
    certificate = event.certificates.filter(pk=pk, revoked_at__isnull=True).first()
    if certificate is None:
        raise Http404("This event has no such valid certificate.")
    if request.method == "POST":
        try:
            certificates.revoke_certificate(
                certificate=certificate, actor=request.user, reason=request.POST.get("reason", "")
            )
        except CertificateRefused as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"The certificate of {certificate.name} is revoked.")
            return redirect("grading:event_closing", slug=event.slug)
    return render(request, "grading/closing/revoke_certificate.html", {"event": event, "certificate": certificate})


@login_required
def certificates_zip(request: HttpRequest, slug: str) -> HttpResponse:
    event = _managed_event(request, slug)
    response = HttpResponse(certificates.certificates_zip(event), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="certificates-{event.slug}.zip"'
    return response


@login_required
def certificate_download(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One certificate's PDF, for the organizers (valid or revoked: they keep the record)."""
    event = _managed_event(request, slug)
    certificate = event.certificates.filter(pk=pk).first()
    if certificate is None:
        raise Http404("This event has no such certificate.")
    return _pdf_response(certificate_pdf(certificate), certificates.file_name(certificate))


@login_required
def my_certificate(request: HttpRequest, slug: str) -> HttpResponse:
    """The participant's own certificate of the event, once the organizers issued it."""
    event = get_visible_event(request.user, slug)
    if not permissions.can_take_part(request.user, event):
        raise Http404("Only the event's participants have a page here.")
    certificate = certificates.certificate_of(event, request.user)
    if certificate is None:
        raise Http404("No certificate has been issued to you for this event yet.")
    return _pdf_response(certificate_pdf(certificate), certificates.file_name(certificate))


def verify_certificate(request: HttpRequest, token: str) -> HttpResponse:
    """Anyone confirms a certificate here: what it states if it is valid; a refusal if forged, unknown or revoked."""
    try:
        certificate = certificates.verify(token)
    except CertificateRefused as error:
        status = 410 if isinstance(error, CertificateRevoked) else 404
        return render(request, "grading/closing/verify_certificate.html", {"refusal": error.message}, status=status)
    context = {"certificate": certificate, "lines": certificates.certificate_lines(certificate)}
    return render(request, "grading/closing/verify_certificate.html", context)
