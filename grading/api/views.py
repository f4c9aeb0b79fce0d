"""The API's endpoints: parse, ask the permissions, call a service or selector, serialize."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from exercises import selectors as exercise_selectors
from exercises.models import Exercise
from exercises.release import student_zip
from exercises.services import bundle_of, ensure_dataset
from grading import closing, selectors, services
from grading.api.errors import ErrorSerializer, UploadTooLarge
from grading.api.serializers import (
    EventExerciseSerializer,
    EventSerializer,
    ExerciseDetailSerializer,
    ExerciseSerializer,
    RegistrationSerializer,
    SharingSerializer,
    SubmissionSerializer,
    SubmissionSummarySerializer,
    SubmissionUploadSerializer,
)
from grading.errors import ExerciseNotOpen, SharingRefused
from grading.models import Submission
from grading.permissions import can_change_sharing
from hackathon import permissions
from hackathon.deadlines import deadline_for
from hackathon.models import Event, EventExercise, Registration
from hackathon.selectors import get_visible_event, visible_events

# Multipart framing around the notebook; a body larger than the limit plus this is refused before it is read.
UPLOAD_OVERHEAD_BYTES = 64 * 1024

ERROR_TEXT = {
    400: "The request is not valid; `detail` says why and `errors` names the bad fields.",
    401: "No valid credentials: send `Authorization: Bearer <token>`.",
    403: "Signed in, but not allowed (for example, not a confirmed participant of the event).",
    404: "No such object, or it belongs to someone else.",
    413: "The notebook is over the size limit.",
    429: "Today's graded submissions are used up; `Retry-After` gives the seconds until midnight.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Describe the error answers an endpoint may give, all with the one error shape."""
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_TEXT[code]) for code in codes}


# --- Events and registrations -------------------------------------------------------------------------------


def text_param(request: Request, name: str) -> str:
    """Return a query parameter that a query compares with text; refuse NUL, which PostgreSQL cannot compare."""
    value = request.query_params.get(name, "")
    if "\x00" in value:
        raise exceptions.ValidationError({name: ["Remove the NUL character (\\0) from this filter and ask again."]})
    return value


@extend_schema(tags=["events"], summary="List the events you may see", responses={200: EventSerializer, **errors(401)})
class EventList(generics.ListAPIView):
    serializer_class = EventSerializer
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Event]:
        return visible_events(self.request.user).order_by("-starts_on", "title")


@extend_schema(tags=["events"], summary="Show one event", responses={200: EventSerializer, **errors(401, 404)})
class EventDetail(generics.RetrieveAPIView):
    serializer_class = EventSerializer
    permission_classes = [AllowAny]

    def get_object(self) -> Event:
        return get_visible_event(self.request.user, self.kwargs["slug"])


@extend_schema(tags=["events"], summary="List my registrations", responses={200: RegistrationSerializer, **errors(401)})
class MyRegistrations(generics.ListAPIView):
    serializer_class = RegistrationSerializer

    def get_queryset(self) -> QuerySet[Registration]:
        # One's own registrations, to the events one may see (an unpublished event's stay out until it is shown).
        visible = visible_events(self.request.user).values("pk")
        return Registration.objects.filter(user_id=self.request.user.pk, event__in=visible).select_related(
            "event", "group"
        )


# --- Exercises ------------------------------------------------------------------------------------------------


@extend_schema(
    tags=["exercises"],
    summary="List the exercise catalog",
    parameters=[
        OpenApiParameter(name, str, description=f"Only exercises with this {name}.")
        for name in ("technology", "field", "tool", "level")
    ],
    responses={200: ExerciseSerializer, **errors(400, 401)},
)
class ExerciseList(generics.ListAPIView):
    serializer_class = ExerciseSerializer
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Exercise]:
        chosen = {key: text_param(self.request, key) for key in ("technology", "field", "tool", "level")}
        return exercise_selectors.catalog(**chosen).order_by("title", "slug")


@extend_schema(
    tags=["exercises"],
    summary="Show one catalog exercise",
    responses={200: ExerciseDetailSerializer, **errors(401, 404)},
)
class ExerciseDetail(generics.RetrieveAPIView):
    serializer_class = ExerciseDetailSerializer
    permission_classes = [AllowAny]

    def get_object(self) -> Exercise:
        return exercise_selectors.get_published_exercise(self.kwargs["slug"])


def participant_event(request: Request, slug: str) -> Event:
    """Return the event if the caller may work on its exercises: 404 if unseen, 403 if seen but not taking part."""
    event = get_visible_event(request.user, slug)
    if not (permissions.can_take_part(request.user, event) or permissions.can_manage_event(request.user, event)):
        raise exceptions.PermissionDenied(
            "Only the event's confirmed participants see its exercises. Register for the event first."
        )
    return event


@extend_schema(
    tags=["exercises"],
    summary="List an event's exercises, with your remaining submissions",
    responses={200: EventExerciseSerializer, **errors(401, 403, 404)},
)
class EventExerciseList(generics.ListAPIView):
    serializer_class = EventExerciseSerializer

    def get_queryset(self) -> QuerySet[EventExercise]:
        event = participant_event(self.request, self.kwargs["slug"])
        return event.event_exercises.select_related("exercise", "event").order_by("opens_at", "id")


@extend_schema(
    tags=["exercises"],
    summary="Show one of an event's exercises",
    responses={200: EventExerciseSerializer, **errors(401, 403, 404)},
)
class EventExerciseDetail(generics.RetrieveAPIView):
    serializer_class = EventExerciseSerializer

    def get_object(self) -> EventExercise:
        event = participant_event(self.request, self.kwargs["slug"])
        return selectors.get_open_event_exercise(event, self.kwargs["exercise_slug"])


@extend_schema(
    tags=["exercises"],
    summary="Download an exercise: the released notebook and the public data, as one zip",
    responses={
        (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The zip."),
        **errors(401, 403, 404),
    },
)
@api_view(["GET"])
def event_exercise_download(request: Request, slug: str, exercise_slug: str) -> HttpResponse:
    event = participant_event(request, slug)
    event_exercise = selectors.get_open_event_exercise(event, exercise_slug)
    # The same service calls as the site's download page, so both hand out the same zip.
    dataset = ensure_dataset(event_exercise.exercise, event_exercise.secret_seed)
    payload = student_zip(bundle_of(event_exercise.exercise), dataset.public_data)
    response = HttpResponse(payload, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{event_exercise.exercise.slug}.zip"'
    return response


# --- Submissions ------------------------------------------------------------------------------------------------


def event_exercise_for_upload(request: Request, exercise: str, event_slug: str | None) -> EventExercise:
    """Find the event exercise a notebook is sent to; without an event, the one event the caller takes part in."""
    if event_slug:
        event = participant_event(request, event_slug)
        event_exercise = event.event_exercises.select_related("exercise", "event").filter(exercise__slug=exercise)
        found = event_exercise.first()
        if found is None:
            raise exceptions.ValidationError({"exercise": [f"The event {event.slug} has no exercise {exercise}."]})
        return found
    candidates = list(
        EventExercise.objects.filter(
            exercise__slug=exercise,
            event__registrations__user_id=request.user.pk,
            event__registrations__status=Registration.Status.CONFIRMED,
        )
        .select_related("exercise", "event")
        .distinct()
    )
    if len(candidates) > 1:
        # Several editions with the same exercise: the one open for this person is meant, if only one is (an
        # extension keeps an edition open for them after its own window closed).
        candidates = [c for c in candidates if deadline_for(c, request.user).is_open()] or candidates
    if not candidates:
        raise exceptions.ValidationError(
            {"exercise": [f"You take part in no event with the exercise {exercise}. Check its name, or register."]}
        )
    if len(candidates) > 1:
        slugs = ", ".join(sorted(c.event.slug for c in candidates))
        raise exceptions.ValidationError(
            {"event": [f"You take part in several events with {exercise} ({slugs}): name the event."]}
        )
    return candidates[0]


def check_upload_size(request: Request) -> None:
    """Refuse an oversized body from its Content-Length, before a byte of it is read."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > settings.SUBMISSION_MAX_BYTES + UPLOAD_OVERHEAD_BYTES:
        raise UploadTooLarge(declared)


@extend_schema_view(
    get=extend_schema(
        tags=["submissions"],
        summary="List my submissions, newest first",
        parameters=[
            OpenApiParameter("event", str, description="Only this event's (its slug)."),
            OpenApiParameter("exercise", str, description="Only this exercise's (its slug)."),
            OpenApiParameter("status", str, enum=Submission.Status.values, description="Only in this status."),
        ],
        responses={200: SubmissionSummarySerializer, **errors(400, 401)},
    ),
    post=extend_schema(
        tags=["submissions"],
        summary="Send a notebook to be graded (or checked on the public sample)",
        description="Upload the notebook as multipart/form-data. The answer is the queued submission; follow it at "
        "`/api/v1/submissions/{uid}/` until `is_final` is true.",
        request={"multipart/form-data": SubmissionUploadSerializer},
        responses={201: SubmissionSerializer, **errors(400, 401, 403, 404, 413, 429)},
    ),
)
class SubmissionList(generics.ListCreateAPIView):
    serializer_class = SubmissionSummarySerializer

    def get_queryset(self) -> QuerySet[Submission]:
        visible = visible_events(self.request.user).values("pk")
        submissions = Submission.objects.filter(
            participant_id=self.request.user.pk, event_exercise__event__in=visible
        ).select_related("event_exercise__event", "event_exercise__exercise", "participant")
        params = self.request.query_params
        if text_param(self.request, "event"):
            submissions = submissions.filter(event_exercise__event__slug=params["event"])
        if text_param(self.request, "exercise"):
            submissions = submissions.filter(event_exercise__exercise__slug=params["exercise"])
        if params.get("status"):
            if params["status"] not in Submission.Status.values:
                raise exceptions.ValidationError({"status": [f"Use one of: {', '.join(Submission.Status.values)}."]})
            submissions = submissions.filter(status=params["status"])
        return submissions.order_by("-created_at", "-id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        check_upload_size(request)
        upload = SubmissionUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        fields = upload.validated_data
        event_exercise = event_exercise_for_upload(request, fields["exercise"], fields.get("event"))
        if not permissions.can_take_part(request.user, event_exercise.event):
            raise exceptions.PermissionDenied(
                "Only confirmed participants of this event can submit. Register for the event first."
            )
        if refusal := deadline_for(event_exercise, request.user).refusal():
            raise ExerciseNotOpen(refusal)
        notebook = fields["notebook"]
        if notebook.size is not None and notebook.size > settings.SUBMISSION_MAX_BYTES:
            raise UploadTooLarge(notebook.size)
        submission = services.submit_notebook(
            participant=request.user,
            event_exercise=event_exercise,
            raw=notebook.read(settings.SUBMISSION_MAX_BYTES + 1),
            filename=notebook.name or "notebook.ipynb",
            kind=fields["kind"],
            share_notebook=fields["share_notebook"],
        )
        body = SubmissionSerializer(submission, context=self.get_serializer_context()).data
        location = request.build_absolute_uri(f"/api/v1/submissions/{submission.uid}/")
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})


@extend_schema_view(
    get=extend_schema(
        tags=["submissions"],
        summary="Show a submission: its status and, once in, its result",
        responses={200: SubmissionSerializer, **errors(401, 404)},
    ),
    patch=extend_schema(
        tags=["submissions"],
        summary="Agree to share your notebook after the deadline, or stop sharing it",
        description="Only the submission's author may change `share_notebook`, at any time. Agreeing lets the "
        "organizers release the notebook to the event's people after the deadline (nothing is released by itself); "
        "stopping takes back its release, if any, at once.",
        request=SharingSerializer,
        responses={200: SubmissionSerializer, **errors(400, 401, 403, 404)},
    ),
)
class SubmissionDetail(generics.RetrieveAPIView):
    serializer_class = SubmissionSerializer

    def get_object(self) -> Submission:
        # Own, one's groups' (tutors) or all (organizers): the same rule as the site's submission page.
        return selectors.get_visible_submission(self.request.user, str(self.kwargs["uid"]), with_results=True)

    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        submission = self.get_object()
        if not can_change_sharing(request.user, submission):
            raise exceptions.PermissionDenied("Only the notebook's author can agree to share it or stop sharing it.")
        fields = SharingSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        try:
            closing.set_notebook_sharing(
                submission=submission, author=request.user, share=fields.validated_data["share_notebook"]
            )
        except SharingRefused as error:
            raise exceptions.PermissionDenied(error.message) from None
        return Response(self.get_serializer(submission).data)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
def not_found(request: Request, rest: str = "") -> Response:
    """Answer unknown API paths in JSON too."""
    raise exceptions.NotFound("There is no such API endpoint. The list is at /api/v1/schema/.")
