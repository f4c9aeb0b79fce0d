"""A person's side of announcements: the banner until read, their list of announcements, their preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from exercises.notebook_html import markdown_html
from hackathon import announcements
from hackathon.forms import PreferencesForm
from hackathon.models import AnnouncementReceipt


def _shown(receipts: list[AnnouncementReceipt]) -> list[dict[str, object]]:
    # Markdown written by staff, rendered through the site's one sanitizer (nh3): no script, no handler survives.
    return [
        {"receipt": r, "announcement": r.announcement, "html": markdown_html(r.announcement.body)} for r in receipts
    ]


@login_required
def announcement_banner(request: HttpRequest) -> HttpResponse:
    """The banner of unread announcements, fetched by every page once loaded (htmx), so pages cost no query more."""
    unread = announcements.unread_receipts(request.user)
    shown = list(unread[: announcements.BANNER_MAX])
    more = unread.count() - len(shown) if len(shown) == announcements.BANNER_MAX else 0
    return render(request, "hackathon/_announcement_banner.html", {"items": _shown(shown), "more": more})


@login_required
@require_POST
def mark_announcements_read(request: HttpRequest) -> HttpResponse:
    """Mark the posted announcements read (the person's own only); htmx gets the banner back, a form a redirect."""
    ids = [int(value) for value in request.POST.getlist("announcement") if value.isdigit() and len(value) < 19]
    announcements.mark_read(user=request.user, announcement_ids=ids)
    if request.headers.get("HX-Request"):
        return announcement_banner(request)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = ""
    return redirect(back or "hackathon:my_announcements")


@login_required
def my_announcements(request: HttpRequest) -> HttpResponse:
    """Every announcement the person got, newest first, read or not."""
    items = _shown(list(announcements.received(request.user)))
    return render(request, "hackathon/my_announcements.html", {"items": items})


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """The person's time zone and whether announcements also come by email."""
    current = announcements.get_preferences(request.user)
    form = PreferencesForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your preferences are saved.")
        return redirect("hackathon:preferences")
    return render(request, "hackathon/preferences.html", {"form": form}, status=400 if form.errors else 200)
