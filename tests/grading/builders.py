"""Builders for grading tests: an open event exercise on a real bundle, and notebooks made of given cells."""

from __future__ import annotations

import datetime as dt

import nbformat
from django.utils import timezone

from exercises.bundles import builtin_bundle
from exercises.models import Exercise
from exercises.services import save_exercise
from hackathon.models import EventExercise
from tests.factories import make_event, make_participant

# A participant's notebook for breast-cancer that runs in a second: read test ids, write a score per id.
CONSTANT_SCORES = """
import csv
with open("data/test.csv") as f:
    ids = [row["id"] for row in csv.DictReader(f)]
with open("output/predictions.csv", "w") as f:
    f.write("id,score\\n" + "".join(f"{i},0.5\\n" for i in ids))
"""
FEATURE_SCORES = """
import csv
with open("data/test.csv") as f:
    rows = list(csv.DictReader(f))
# Malignant tumours (label 1 in this exercise) have larger nuclei: the mean radius alone ranks them well.
with open("output/predictions.csv", "w") as f:
    f.write("id,score\\n" + "".join(f"{r['id']},{float(r['mean_radius'])}\\n" for r in rows))
"""


def notebook_bytes(*sources: str, kernel: str = "python3") -> bytes:
    """Return an .ipynb file with one code cell per source."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nbformat.writes(notebook).encode()


def breast_cancer_exercise(**limits) -> Exercise:
    """Return the built-in breast-cancer exercise, with limits overridden for a test."""
    exercise = save_exercise(builtin_bundle("breast-cancer"), builtin=True)
    if limits:
        Exercise.objects.filter(pk=exercise.pk).update(**limits)
        exercise.refresh_from_db()
    return exercise


def open_event_exercise(exercise: Exercise | None = None, **fields) -> EventExercise:
    now = timezone.now()
    defaults = {
        "event": make_event(),
        "exercise": exercise or breast_cancer_exercise(),
        "opens_at": now - dt.timedelta(hours=1),
        "closes_at": now + dt.timedelta(days=1),
    }
    defaults.update(fields)
    return EventExercise.objects.create(**defaults)


def participant_of(event_exercise: EventExercise):
    return make_participant(event_exercise.event)
