"""How the API reads request bodies and pages: DRF's own, with limits on what a request can make it do."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

# The largest page and the furthest offset a request may ask for: beyond a database integer the query fails, and
# no list of this site holds a billion rows.
MAX_PAGE = 500
MAX_OFFSET = 10**9


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering a body nested past Python's recursion limit with a 400, not a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("The JSON body nests too deeply; send an object of the documented fields.") from None


class Pages(LimitOffsetPagination):
    """Limit and offset paging with bounds: a limit above MAX_PAGE gives MAX_PAGE rows."""

    max_limit = MAX_PAGE

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), MAX_OFFSET)
