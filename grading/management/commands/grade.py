"""Grade one notebook synchronously against an exercise's default hidden set and print one JSON object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exercises.errors import UserFacingError
from exercises.models import Exercise
from exercises.services import sync_builtin_exercises
from grading.services import grade_notebook_file


class Command(BaseCommand):
    help = "Grade NOTEBOOK for EXERCISE outside any event; exit 0 whenever it could grade, whatever the status."
    # The system checks import every URL and view of the site (half a second); grading one notebook needs none.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("exercise", help="the exercise's slug, e.g. breast-cancer")
        parser.add_argument("notebook", type=Path, help="the .ipynb file to grade")
        parser.add_argument("--backend", choices=["docker", "bwrap", "process"], help="sandbox backend to use")
        parser.add_argument("--json", action="store_true", help="print JSON only (the default output is JSON too)")

    def handle(self, *args: Any, **options: Any) -> None:
        slug, notebook = options["exercise"], options["notebook"]
        if not notebook.is_file():
            raise CommandError(f"There is no notebook file at {notebook}.")
        exercise = Exercise.objects.filter(slug=slug).first()
        if exercise is None:
            sync_builtin_exercises()
            exercise = Exercise.objects.filter(slug=slug).first()
        if exercise is None:
            known = ", ".join(Exercise.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(f"There is no exercise {slug!r}. Known exercises: {known}.")
        try:
            report = grade_notebook_file(exercise, notebook, backend=options["backend"])
        except UserFacingError as error:
            raise CommandError(error.message) from None
        self.stdout.write(json.dumps(report))
