"""The boards in the API: an exercise's public board, and its private one once revealed (organizers: always)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from grading.api.views import errors
from grading.boards import cache as board_cache
from grading.boards import selectors as board_selectors
from grading.boards.ranking import Part, Ranking, board_json


class BoardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="None for the baseline and reference rows.")
    kind = serializers.CharField(help_text="participant, group, baseline or reference.")
    name = serializers.CharField()
    score = serializers.FloatField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    submissions = serializers.IntegerField()
    group = serializers.IntegerField(allow_null=True)
    you = serializers.BooleanField(help_text="Whether the row is the caller's.")
    extended = serializers.BooleanField(
        help_text="Whether the counted submission came in after the exercise closed, under an extension."
    )
    submission = serializers.CharField(required=False, help_text="Organizers only: the counted submission's uid.")


class BoardSerializer(serializers.Serializer):
    exercise = serializers.CharField()
    metric = serializers.CharField()
    direction = serializers.CharField()
    part = serializers.ChoiceField(choices=[p.value for p in Part])
    ranking = serializers.ChoiceField(choices=[r.value for r in Ranking])
    decimals = serializers.IntegerField()
    hidden = serializers.BooleanField(help_text="True while the private board is not revealed: no rows then.")
    frozen = serializers.BooleanField()
    freezes_at = serializers.DateTimeField(allow_null=True)
    ladder = serializers.BooleanField()
    ladder_step = serializers.FloatField(allow_null=True)
    generated_at = serializers.DateTimeField()
    rows = BoardRowSerializer(many=True)


def _choice(request: Request, name: str, kind: type[Part] | type[Ranking], default: Any) -> Any:
    value = request.query_params.get(name, default)
    try:
        return kind(value)
    except ValueError:
        raise exceptions.ValidationError({name: [f"Use one of: {', '.join(k.value for k in kind)}."]}) from None


@extend_schema(
    tags=["boards"],
    summary="Show an exercise's board",
    description="The public board, or with `part=private` the private one: hidden (no rows) until the organizers "
    "reveal it, except to organizers. Participants and tutors see a frozen board as it was at the freeze.",
    parameters=[
        OpenApiParameter("part", str, enum=[p.value for p in Part], description="public (default) or private."),
        OpenApiParameter(
            "ranking", str, enum=[r.value for r in Ranking], description="participants (default) or groups."
        ),
    ],
    responses={200: BoardSerializer, **errors(400, 401, 404)},
)
@api_view(["GET"])
def exercise_board(request: Request, slug: str, exercise_slug: str) -> Response:
    # As on the site: people outside the event do not learn that its boards exist (404).
    event_exercise, audience = board_selectors.get_board_access(request.user, slug, exercise_slug)
    part = _choice(request, "part", Part, Part.PUBLIC)
    ranking = _choice(request, "ranking", Ranking, Ranking.PARTICIPANTS)
    board = board_cache.cached_board(event_exercise, audience=audience, part=part, ranking=ranking)
    return Response(board_json(board, viewer_id=request.user.pk))
