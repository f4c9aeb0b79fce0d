"""Expire unanswered place offers and pass the places on (what the periodic task runs, for cron or by hand)."""

from django.core.management.base import BaseCommand

from hackathon.services import expire_offers


class Command(BaseCommand):
    help = "Close place offers unanswered past their deadline and offer the places to the next on the waiting list."

    def handle(self, *args: object, **options: object) -> None:
        expired = expire_offers()
        self.stdout.write(f"{len(expired)} offer(s) expired.")
