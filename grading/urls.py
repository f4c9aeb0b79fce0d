"""URLs of submitting, feedback and pictures."""

from django.urls import path

from grading import views

urlpatterns = [
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/", views.event_exercise, name="event_exercise"),
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/submit/", views.submit, name="submit"),
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/download/", views.download, name="download_exercise"),
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/mine/", views.my_submissions, name="my_submissions"),
    path("submissions/<uuid:uid>/", views.submission_detail, name="submission_detail"),
    path("submissions/<uuid:uid>/status/", views.submission_status, name="submission_status"),
    path("submissions/<uuid:uid>/figures/<str:name>", views.submission_figure, name="submission_figure"),
]
