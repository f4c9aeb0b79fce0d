"""Import an event's registrants from an Indico-like CSV: a dry run unless --apply is given."""

from argparse import ArgumentParser
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hackathon.models import Event
from hackathon.services import import_registrants
from sandbox.errors import UserFacingError


class Command(BaseCommand):
    help = "List (or with --apply, make) the registrations a CSV of name, email, affiliation would add."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("event", help="The event's slug.")
        parser.add_argument("csv", type=Path, help="The CSV file exported from Indico.")
        parser.add_argument("--apply", action="store_true", help="Make the changes instead of only listing them.")

    def handle(self, *args: object, **options: object) -> None:
        try:
            event = Event.objects.get(slug=options["event"])
        except Event.DoesNotExist:
            raise CommandError(f"No event has the slug {options['event']!r}.") from None
        path: Path = options["csv"]  # type: ignore[assignment]
        try:
            plan = import_registrants(
                event=event, text=path.read_text(encoding="utf-8-sig"), dry_run=not options["apply"]
            )
        except UserFacingError as error:
            raise CommandError(error.message) from None
        for row in plan.rows:
            self.stdout.write(f"line {row.line:>4}  {row.email:<40} {row.action}")
        verb = "Imported" if plan.applied else "Would import"
        self.stdout.write(f"{verb} {plan.new_registrations} registration(s); {plan.unchanged} unchanged.")
