"""Turn every API error into JSON with a clear message and the right status, in this one place."""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.utils import timezone
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from grading.errors import QuotaExceeded
from sandbox.errors import UserFacingError

logger = logging.getLogger(__name__)


class UploadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self, size: int | None = None) -> None:
        shown = f"The upload is {_amount(size)}, over" if size else "The upload is over"
        super().__init__(
            f"{shown} the limit of {_amount(settings.SUBMISSION_MAX_BYTES)}. Clear the notebook's outputs "
            "(Kernel > Restart & Clear Output), save it and upload it again."
        )


def _amount(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


class ErrorSerializer(serializers.Serializer):
    """The shape of every error: a sentence saying what to do next, and the bad fields for a 400."""

    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For a 400: the message of each bad field, by field name.",
    )


def seconds_until_local_midnight(now: dt.datetime | None = None) -> int:
    """Return the seconds until the daily quota starts again (local midnight)."""
    local = timezone.localtime(now or timezone.now())
    midnight = timezone.make_aware(dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time.min))
    return max(1, math.ceil((midnight - local).total_seconds()))


def _field_errors(data: Any) -> dict[str, list[str]]:
    if isinstance(data, dict):
        return {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in data.items()}
    return {"non_field_errors": [str(m) for m in (data if isinstance(data, list) else [data])]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer each error as `{"detail": ...}` (plus `errors` for bad fields) with its status."""
    if isinstance(exc, QuotaExceeded):
        set_rollback()
        return Response(
            {"detail": exc.message},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(seconds_until_local_midnight())},
        )
    if isinstance(exc, UserFacingError):
        set_rollback()
        return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        exc = UploadTooLarge()
    elif isinstance(exc, TooManyFieldsSent):
        exc = exceptions.ParseError("The request has too many fields. Send only the fields this endpoint names.")
    response = exception_handler(exc, context)
    if response is None:
        # Anything unexpected is logged in full and shown as a generic failure, never as a traceback.
        logger.exception("API request failed", exc_info=exc)
        set_rollback()
        return Response(
            {
                "detail": "The server failed to answer this request. Try again later; if it keeps failing, tell the "
                "organizers."
            },
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": "Some fields are not valid: correct the fields named in errors and send again.",
            "errors": _field_errors(response.data),
        }
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"])}
    else:
        response.data = {"detail": str(response.data)}
    return response
