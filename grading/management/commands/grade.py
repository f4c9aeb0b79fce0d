"""Grade one notebook synchronously against an exercise's default hidden set and print one JSON object."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, OperationalError, ProgrammingError, connection

from exercises.models import Exercise
from exercises.services import sync_builtin_exercises
from grading.services import grade_notebook_file
from sandbox.errors import UserFacingError

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Grade NOTEBOOK for EXERCISE outside any event and print one JSON object; exit 0 whenever it could "
        "grade, whatever the status, 2 for a wrong exercise or file, 1 when the platform could not grade."
    )
    # The system checks import every URL and view of the site (half a second); grading one notebook needs none.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("exercise", help="the exercise's slug, e.g. breast-cancer")
        parser.add_argument("notebook", type=Path, help="the .ipynb file to grade")
        parser.add_argument("--backend", choices=["docker", "bwrap", "process"], help="sandbox backend to use")
        parser.add_argument("--json", action="store_true", help="print JSON only (the default output is JSON too)")

    def handle(self, *args: Any, **options: Any) -> None:
        """Print one JSON object for every outcome, a refusal or a platform fault included; never a traceback."""
        try:
            report = self.grade(options["exercise"], options["notebook"], options["backend"])
        except (OperationalError, ProgrammingError) as error:
            if not _has_tables():
                report = _error_report(
                    "setup",
                    "The database has no tables yet: run `python manage.py migrate` first (make run and make test "
                    "do it), then grade again.",
                )
            else:
                report = _error_report("infrastructure", f"The database failed while grading: {error}.")
        except UserFacingError as error:
            report = _error_report("usage", error.message)
        except Exception as error:  # a platform fault: say so in the same JSON shape, with its kind
            logger.exception("grade failed")
            report = _error_report("infrastructure", f"The platform failed while grading ({type(error).__name__}).")
        self.stdout.write(json.dumps(report))
        if report["status"] == "error":
            raise SystemExit(2 if report["reason"] == "usage" else 1)

    def grade(self, slug: str, notebook: Path, backend: str | None) -> dict[str, Any]:
        if not notebook.is_file():
            raise UserFacingError(f"There is no notebook file at {notebook}.")
        exercise = Exercise.objects.filter(slug=slug).first()
        if exercise is None:
            sync_builtin_exercises()
            exercise = Exercise.objects.filter(slug=slug).first()
        if exercise is None:
            known = ", ".join(Exercise.objects.order_by("slug").values_list("slug", flat=True))
            raise UserFacingError(f"There is no exercise {slug!r}. Known exercises: {known}.")
        return grade_notebook_file(exercise, notebook, backend=backend)


def _has_tables() -> bool:
    try:
        return "exercises_exercise" in connection.introspection.table_names()
    except DatabaseError:
        return False


def _error_report(reason: str, message: str) -> dict[str, Any]:
    return {"status": "error", "reason": reason, "score": None, "message": message}
