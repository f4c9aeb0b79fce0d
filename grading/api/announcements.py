"""Announcements in the API: the caller's announcements (the JupyterLab panel shows them) and marking them read."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from exercises.notebook_html import markdown_html
from grading.api.views import errors
from hackathon import announcements
from hackathon.models import AnnouncementReceipt


class AnnouncementSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="announcement_id")
    event = serializers.CharField(source="announcement.event.slug", help_text="The event's slug.")
    event_title = serializers.CharField(source="announcement.event.title")
    title = serializers.CharField(source="announcement.title")
    body = serializers.CharField(source="announcement.body", help_text="The message as written, in Markdown.")
    html = serializers.SerializerMethodField(help_text="The message rendered to sanitized HTML (no script).")
    sent_at = serializers.DateTimeField(source="announcement.sent_at")
    read = serializers.SerializerMethodField(help_text="Whether the caller marked it read.")

    def get_html(self, receipt: AnnouncementReceipt) -> str:
        return str(markdown_html(receipt.announcement.body))

    def get_read(self, receipt: AnnouncementReceipt) -> bool:
        return receipt.read_at is not None


class AnnouncementListSerializer(serializers.Serializer):
    results = AnnouncementSerializer(many=True)


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62), max_length=200, help_text="Announcement ids."
    )


@extend_schema(
    tags=["announcements"],
    summary="List my announcements, newest first",
    parameters=[OpenApiParameter("unread", bool, description="Only the ones not marked read yet.")],
    responses={200: AnnouncementListSerializer, **errors(401)},
)
@api_view(["GET"])
def my_announcements(request: Request) -> Response:
    receipts = (
        announcements.unread_receipts(request.user)[:50]
        if request.query_params.get("unread") in ("1", "true", "yes")
        else announcements.received(request.user)
    )
    return Response({"results": AnnouncementSerializer(receipts, many=True).data})


@extend_schema(
    tags=["announcements"],
    summary="Mark some of my announcements read",
    request=MarkReadSerializer,
    responses={200: MarkReadSerializer, **errors(400, 401)},
)
@api_view(["POST"])
def mark_read(request: Request) -> Response:
    body = MarkReadSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    announcements.mark_read(user=request.user, announcement_ids=body.validated_data["ids"])
    return Response({"ids": body.validated_data["ids"]})
