"""Show people the site's own "not found" page in development too, instead of Django's debug page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.views.defaults import page_not_found

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
