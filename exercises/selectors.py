"""Queries of the exercise catalog that pages read."""

from __future__ import annotations

from django.db.models import QuerySet

from exercises.models import Exercise, Label


def catalog(*, technology: str = "", field: str = "", tool: str = "", level: str = "") -> QuerySet[Exercise]:
    """Return the published exercises carrying every chosen label, with their labels fetched in one query."""
    exercises = Exercise.objects.filter(published=True).prefetch_related("labels")
    for dimension, name in (("technology", technology), ("field", field), ("tool", tool)):
        if name:
            exercises = exercises.filter(labels__dimension=dimension, labels__name=name)
    if level:
        # Levels are a short JSON list; filter in Python so SQLite and PostgreSQL behave alike.
        ids = [e.id for e in exercises if level in e.levels]
        exercises = exercises.filter(id__in=ids)
    return exercises.distinct()


def label_choices() -> dict[str, list[str]]:
    """Return the label values in use, per dimension, for the catalog's filters."""
    choices: dict[str, list[str]] = {d.value: [] for d in Label.Dimension}
    for dimension, name in Label.objects.filter(exercises__published=True).distinct().values_list("dimension", "name"):
        choices[dimension].append(name)
    return choices


def get_published_exercise(slug: str) -> Exercise:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Exercise.objects.prefetch_related("labels"), slug=slug, published=True)
