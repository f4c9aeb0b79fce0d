"""The page where a person lists, creates and revokes their personal API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from grading import api_auth
from grading.models import ApiToken
from sandbox.errors import UserFacingError


def _page(request: HttpRequest, *, new_secret: str = "", status: int = 200) -> HttpResponse:
    context = {
        "tokens": ApiToken.objects.filter(user=request.user),
        "new_secret": new_secret,
        "site_url": request.build_absolute_uri("/").rstrip("/"),
        "max_tokens": api_auth.MAX_ACTIVE_TOKENS,
    }
    return render(request, "grading/tokens.html", context, status=status)


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    try:
        new = api_auth.create_token(user=request.user, name=request.POST.get("name", ""))
    except UserFacingError as error:
        messages.error(request, error.message)
        return redirect("grading:api_tokens")
    # Rendered, not redirected: the secret exists only in this answer and is never stored in clear.
    response = _page(request, new_secret=new.secret, status=201)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = api_auth.revoke_token(user=request.user, token_id=pk)
    messages.success(request, f"The token “{token.name}” is revoked: programs using it can no longer sign in.")
    return redirect("grading:api_tokens")
