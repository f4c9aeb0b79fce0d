"""Help requests in the API: a participant raises one and writes in its thread; their tutors claim and resolve it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, serializers, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from grading.api.views import errors
from grading.models import HelpMessage, HelpRequest, Submission, result_fields_through
from grading.permissions import can_handle_help_request, visible_help_requests
from grading.tutoring import selectors as tutoring
from grading.tutoring import services as help_requests
from hackathon import permissions
from hackathon.models import Event
from hackathon.selectors import get_visible_event


def _name(person: Any) -> str:
    return person.get_full_name() or person.email or person.get_username()


class HelpMessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = HelpMessage
        fields = ["author", "text", "created_at"]

    def get_author(self, message: HelpMessage) -> str:
        return _name(message.author)


class HelpRequestSerializer(serializers.ModelSerializer):
    participant = serializers.SerializerMethodField()
    group = serializers.SerializerMethodField(help_text="The participant's group number; none: the organizers help.")
    claimed_by = serializers.SerializerMethodField()
    submission = serializers.SerializerMethodField(help_text="The uid of the submission the request is about.")
    place_in_queue = serializers.SerializerMethodField(help_text="While waiting: 1 = next.")
    can_handle = serializers.SerializerMethodField(help_text="Whether the caller may claim and resolve it.")
    messages = HelpMessageSerializer(many=True, read_only=True)

    class Meta:
        model = HelpRequest
        fields = [
            "id",
            "participant",
            "group",
            "status",
            "message",
            "submission",
            "claimed_by",
            "created_at",
            "claimed_at",
            "resolved_at",
            "place_in_queue",
            "can_handle",
            "messages",
        ]

    def get_participant(self, help_request: HelpRequest) -> str:
        return _name(help_request.participant)

    def get_group(self, help_request: HelpRequest) -> int | None:
        group = help_request.current_group
        return group.number if group is not None else None

    def get_claimed_by(self, help_request: HelpRequest) -> str | None:
        return _name(help_request.claimed_by) if help_request.claimed_by_id else None

    def get_submission(self, help_request: HelpRequest) -> str | None:
        return str(help_request.submission.uid) if help_request.submission_id else None

    def get_place_in_queue(self, help_request: HelpRequest) -> int | None:
        return tutoring.place_in_queue(help_request)

    def get_can_handle(self, help_request: HelpRequest) -> bool:
        return can_handle_help_request(self.context["request"].user, help_request)


class RaiseHelpSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=HelpRequest.MESSAGE_MAX_CHARS, help_text="What you are stuck on.")
    submission = serializers.UUIDField(required=False, help_text="The uid of one of your submissions it is about.")


class HelpMessageInSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=HelpMessage.MAX_CHARS)


def _requests_of(request: Request, event: Event) -> QuerySet[HelpRequest]:
    return (
        visible_help_requests(request.user, event)
        .select_related("participant", "group", "claimed_by", "submission")
        .defer(*result_fields_through("submission"))
        .prefetch_related("messages__author")
        .order_by("created_at", "id")
    )


def get_visible_help_request(request: Request, slug: str, pk: int) -> HelpRequest:
    """Return the request if the caller may read it (their own, or one they handle); 404 otherwise."""
    event = get_visible_event(request.user, slug)
    return get_object_or_404(_requests_of(request, event), pk=pk)


@extend_schema_view(
    get=extend_schema(
        tags=["help"],
        summary="List the help requests I may read: mine, and those of the groups I tutor",
        parameters=[OpenApiParameter("status", str, enum=HelpRequest.Status.values)],
        responses={200: HelpRequestSerializer, **errors(400, 401, 404)},
    ),
    post=extend_schema(
        tags=["help"],
        summary="Ask your group's tutors for help",
        request=RaiseHelpSerializer,
        responses={201: HelpRequestSerializer, **errors(400, 401, 404)},
    ),
)
class HelpRequestList(generics.ListCreateAPIView):
    serializer_class = HelpRequestSerializer

    def get_queryset(self) -> QuerySet[HelpRequest]:
        requests = _requests_of(self.request, get_visible_event(self.request.user, self.kwargs["slug"]))
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in HelpRequest.Status.values:
                raise exceptions.ValidationError({"status": [f"Use one of: {', '.join(HelpRequest.Status.values)}."]})
            requests = requests.filter(status=wanted)
        return requests

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event = get_visible_event(request.user, self.kwargs["slug"])
        if not permissions.can_take_part(request.user, event):
            raise exceptions.PermissionDenied("Only confirmed participants of this event can ask its tutors for help.")
        fields = RaiseHelpSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        submission = None
        if fields.validated_data.get("submission"):
            submission = Submission.objects.filter(
                uid=fields.validated_data["submission"], participant_id=request.user.pk, event_exercise__event=event
            ).first()
            if submission is None:
                raise exceptions.ValidationError({"submission": ["Name one of your own submissions in this event."]})
        help_request = help_requests.raise_help_request(
            participant=request.user, event=event, message=fields.validated_data["message"], submission=submission
        )
        shown = get_visible_help_request(request, event.slug, help_request.pk)
        return Response(self.get_serializer(shown).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["help"],
    summary="Show a help request and its thread",
    responses={200: HelpRequestSerializer, **errors(401, 404)},
)
class HelpRequestDetail(generics.RetrieveAPIView):
    serializer_class = HelpRequestSerializer

    def get_object(self) -> HelpRequest:
        return get_visible_help_request(self.request, self.kwargs["slug"], self.kwargs["pk"])


def _answer(request: Request, slug: str, pk: int) -> Response:
    help_request = get_visible_help_request(request, slug, pk)
    return Response(HelpRequestSerializer(help_request, context={"request": request}).data)


@extend_schema(
    tags=["help"],
    summary="Write in a help request's thread (a tutor's answer also claims a waiting request)",
    request=HelpMessageInSerializer,
    responses={200: HelpRequestSerializer, **errors(400, 401, 404)},
)
@api_view(["POST"])
def help_request_message(request: Request, slug: str, pk: int) -> Response:
    help_request = get_visible_help_request(request, slug, pk)
    fields = HelpMessageInSerializer(data=request.data)
    fields.is_valid(raise_exception=True)
    help_requests.answer_help_request(
        help_request=help_request, author=request.user, text=fields.validated_data["text"]
    )
    return _answer(request, slug, pk)


@extend_schema(
    tags=["help"],
    summary="Claim a waiting help request (its group's tutors and the organizers)",
    request=None,
    responses={200: HelpRequestSerializer, **errors(400, 401, 404)},
)
@api_view(["POST"])
def help_request_claim(request: Request, slug: str, pk: int) -> Response:
    help_request = get_visible_help_request(request, slug, pk)
    help_requests.claim_help_request(help_request=help_request, tutor=request.user)
    return _answer(request, slug, pk)


@extend_schema(
    tags=["help"],
    summary="Resolve a help request (the participant, their tutors, the organizers)",
    request=None,
    responses={200: HelpRequestSerializer, **errors(400, 401, 404)},
)
@api_view(["POST"])
def help_request_resolve(request: Request, slug: str, pk: int) -> Response:
    help_request = get_visible_help_request(request, slug, pk)
    help_requests.resolve_help_request(help_request=help_request, by=request.user)
    return _answer(request, slug, pk)
