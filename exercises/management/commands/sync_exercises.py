"""Bring the exercise catalog in step with the bundles shipped in exercises/bundles/."""

from django.core.management.base import BaseCommand

from exercises.services import sync_builtin_exercises


class Command(BaseCommand):
    help = "Create or update the catalog entries of the built-in exercise bundles."

    def handle(self, *args: object, **options: object) -> None:
        for exercise in sync_builtin_exercises():
            self.stdout.write(f"  {exercise.slug}: {exercise.title}")
