"""URLs of submissions, feedback and boards."""

urlpatterns: list = []
