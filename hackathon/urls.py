"""The site's URL map: each app's pages, the accounts, the admin."""

from django.contrib import admin
from django.urls import include, path

from hackathon import views

urlpatterns = [
    path("", views.home, name="home"),
    path("events/<slug:slug>/", views.event_detail, name="event_detail"),
    path("exercises/", include("exercises.urls")),
    path("", include("grading.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
