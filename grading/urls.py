"""URLs of submitting, feedback and pictures."""

from django.urls import path

from grading.views import reports, submissions

urlpatterns = [
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/", submissions.event_exercise, name="event_exercise"),
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/submit/", submissions.submit, name="submit"),
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/download/", submissions.download, name="download_exercise"),
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/mine/", submissions.my_submissions, name="my_submissions"),
    path("events/<slug:slug>/report/grading/", reports.event_report_section, name="event_report_grading"),
    path("submissions/<uuid:uid>/", submissions.submission_detail, name="submission_detail"),
    path("submissions/<uuid:uid>/status/", submissions.submission_status, name="submission_status"),
    path("submissions/<uuid:uid>/figures/<str:name>", submissions.submission_figure, name="submission_figure"),
]
