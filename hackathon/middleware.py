"""Middleware of the site: requests refused at the edge (text with NUL), and the site's own 404 page in development."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.defaults import page_not_found

NUL = "\x00"
SENTENCE = "The request holds a NUL character (\\0), which no field of this site accepts; remove it and send it again."


def _holds_nul(request: HttpRequest) -> bool:
    # The API answers for itself, with the errors its schema documents: its serializers' text fields refuse NUL,
    # and its filters read query parameters through grading.api.views.text_param.
    if request.path.startswith("/api/"):
        return False
    if NUL in request.path or any(NUL in key or any(NUL in v for v in values) for key, values in request.GET.lists()):
        return True
    if request.method == "POST":
        return any(NUL in key or any(NUL in value for value in values) for key, values in request.POST.lists())
    return False


def refuse_nul_characters(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Answer 400 with a sentence to a query or form field holding NUL.

    PostgreSQL cannot store NUL in text, nor compare text with it: a NUL that reached a query or a save was a 500
    on the production database (SQLite took it), wherever a view read a parameter without a form.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        if _holds_nul(request):
            return render(request, "hackathon/refused_request.html", {"sentence": SENTENCE}, status=400)
        return get_response(request)

    return middleware


# Django's debug pages carry this tag; the site's own pages never do.
DEBUG_PAGE_MARK = b'<meta name="robots" content="NONE,NOARCHIVE">'


class FriendlyNotFoundMiddleware:
    """With DEBUG on (the demo of `make run`), answer a missing page with 404.html, as production does.

    The API answers its own 404s in JSON and is left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and not request.path.startswith("/api/")
            and not getattr(response, "streaming", False)
            and DEBUG_PAGE_MARK in response.content
        ):
            return page_not_found(request, Http404())
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404) and not request.path.startswith("/api/"):
            return page_not_found(request, exception)
        return None
