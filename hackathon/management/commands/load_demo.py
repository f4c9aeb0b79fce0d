"""Load the demo events and accounts once, printing the accounts' passwords that one time."""

from django.core.management.base import BaseCommand

from hackathon.demo import load_demo


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
