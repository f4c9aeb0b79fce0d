"""URLs of the public exercise catalog."""

from django.urls import path

from exercises import views

app_name = "exercises"

urlpatterns = [
    path("", views.catalog, name="exercise_catalog"),
    path("upload/", views.upload_bundle, name="exercise_upload"),
    path("uploads/<slug:slug>/", views.upload_status, name="exercise_upload_status"),
    path("<slug:slug>/", views.exercise_detail, name="exercise_detail"),
]
