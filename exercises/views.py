"""Pages of the public exercise catalog."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from exercises import selectors, services
from exercises.models import Label
from exercises.notebook_html import markdown_html, notebook_html
from exercises.release import student_notebook


def catalog(request: HttpRequest) -> HttpResponse:
    chosen = {key: request.GET.get(key, "") for key in ("technology", "field", "tool", "level")}
    exercises = selectors.catalog(**chosen)
    choices = selectors.label_choices()
    dimensions = [(d.value, d.label, choices[d.value], chosen[d.value]) for d in Label.Dimension]
    context = {"exercises": exercises, "chosen": chosen, "dimensions": dimensions}
    return render(request, "exercises/catalog.html", context)


def exercise_detail(request: HttpRequest, slug: str) -> HttpResponse:
    exercise = selectors.get_published_exercise(slug)
    bundle = services.bundle_of(exercise)
    preview = notebook_html(student_notebook(bundle.source_notebook))
    context = {"exercise": exercise, "preview": preview, "description_html": markdown_html(exercise.description)}
    return render(request, "exercises/exercise_detail.html", context)
