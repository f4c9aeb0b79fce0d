"""The site's URL map: each app's pages, the accounts, the admin."""

from django.contrib import admin
from django.urls import include, path

# Each app names its pages in its own namespace (hackathon:home, exercises:exercise_detail, grading:submission_detail,
# api:event_list); the names of allauth and the admin are theirs.
urlpatterns = [
    path("", include("hackathon.urls")),
    path("exercises/", include("exercises.urls")),
    path("", include("grading.urls")),
    path("api/v1/", include("grading.api.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
