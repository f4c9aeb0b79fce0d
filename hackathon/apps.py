"""Django app configuration of the event domain."""

from django.apps import AppConfig


class HackathonConfig(AppConfig):
    name = "hackathon"
    verbose_name = "Events and people"

    def ready(self) -> None:
        from allauth.account.signals import email_confirmed, user_signed_up

        from hackathon import staffing

        # An invited person becomes staff the moment an account owns the invited address.
        user_signed_up.connect(staffing.on_signed_up, dispatch_uid="hackathon-staff-invitations-signup")
        email_confirmed.connect(staffing.on_email_confirmed, dispatch_uid="hackathon-staff-invitations-confirmed")
