"""URLs of the REST API, version 1 (mounted at /api/v1/)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from grading.api import announcements, boards, docs, help_requests, views

app_name = "api"

urlpatterns = [
    path("events/", views.EventList.as_view(), name="event_list"),
    path("events/<slug:slug>/", views.EventDetail.as_view(), name="event_detail"),
    path("events/<slug:slug>/exercises/", views.EventExerciseList.as_view(), name="event_exercise_list"),
    path(
        "events/<slug:slug>/exercises/<slug:exercise_slug>/",
        views.EventExerciseDetail.as_view(),
        name="event_exercise_detail",
    ),
    path(
        "events/<slug:slug>/exercises/<slug:exercise_slug>/download/",
        views.event_exercise_download,
        name="event_exercise_download",
    ),
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/board/", boards.exercise_board, name="exercise_board"),
    path("events/<slug:slug>/help/", help_requests.HelpRequestList.as_view(), name="help_request_list"),
    path("events/<slug:slug>/help/<int:pk>/", help_requests.HelpRequestDetail.as_view(), name="help_request_detail"),
    path("events/<slug:slug>/help/<int:pk>/messages/", help_requests.help_request_message, name="help_request_message"),
    path("events/<slug:slug>/help/<int:pk>/claim/", help_requests.help_request_claim, name="help_request_claim"),
    path("events/<slug:slug>/help/<int:pk>/resolve/", help_requests.help_request_resolve, name="help_request_resolve"),
    path("registrations/", views.MyRegistrations.as_view(), name="my_registrations"),
    path("announcements/", announcements.my_announcements, name="my_announcements"),
    path("announcements/read/", announcements.mark_read, name="mark_announcements_read"),
    path("exercises/", views.ExerciseList.as_view(), name="exercise_list"),
    path("exercises/<slug:slug>/", views.ExerciseDetail.as_view(), name="exercise_detail"),
    path("submissions/", views.SubmissionList.as_view(), name="submission_list"),
    path("submissions/<uuid:uid>/", views.SubmissionDetail.as_view(), name="submission_detail"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs.api_docs, name="docs"),
    # The split view serves its start-up script as a file, so the page needs no inline script.
    path("docs/try/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="swagger"),
    re_path(r"^(?P<rest>[\s\S]*)$", views.not_found, name="not_found"),
]
