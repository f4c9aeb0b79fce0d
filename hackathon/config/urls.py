"""The site's URL map: each app's pages, the accounts, the admin."""

from django.contrib import admin
from django.urls import include, path

# Without namespaces: every app's URL names stay global (home, event_detail, submission_detail, ...).
urlpatterns = [
    path("", include("hackathon.urls")),
    path("exercises/", include("exercises.urls")),
    path("", include("grading.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
