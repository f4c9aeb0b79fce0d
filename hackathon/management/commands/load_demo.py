"""Load the demo events and accounts once, printing the accounts' passwords that one time."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from hackathon.demo import PARTICIPANTS, load_demo, open_now


class Command(BaseCommand):
    help = "Create the demo events and accounts on first run and print their passwords once."

    def handle(self, *args: object, **options: object) -> None:
        accounts = load_demo()
        if not accounts:
            self.stdout.write(
                "Demo data already loaded (passwords were printed on first run; "
                "reset one with: python manage.py changepassword USERNAME)."
            )
            return
        width = max(len(a.email) for a in accounts)
        self.stdout.write(self.style.SUCCESS("Demo accounts (shown only this once):"))
        for a in accounts:
            self.stdout.write(f"  {a.email:<{width}}  {a.password}   {a.role}")
        if (first := open_now()) is not None:
            self.stdout.write(
                f"Try it first: sign in as {PARTICIPANTS[0]} and submit a notebook to {first.exercise.title}, "
                f"open now in {first.event.title} ({settings.SITE_URL.rstrip('/')}"
                f"{reverse('grading:event_exercise', args=[first.event.slug, first.exercise.slug])})."
            )
