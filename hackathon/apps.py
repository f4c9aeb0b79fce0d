"""Django app configuration of the event domain."""

from django.apps import AppConfig


class HackathonConfig(AppConfig):
    name = "hackathon"
    verbose_name = "Events and people"
