"""Django admin for the exercise catalog."""

from django.contrib import admin

from exercises.models import Exercise, Label


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "metric", "device", "builtin", "published"]
    list_filter = ["builtin", "published", "device", "labels"]
    search_fields = ["title", "slug"]
    filter_horizontal = ["labels"]


admin.site.register(Label)
