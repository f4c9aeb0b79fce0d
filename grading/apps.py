"""Django app configuration of submissions and scoring."""

from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = "Grading"

    def ready(self) -> None:
        from grading import reference_gate
        from hackathon.signals import exercises_attached

        # An exercise attached to an event proves on the workers that its reference reaches its target.
        exercises_attached.connect(reference_gate.on_exercises_attached, dispatch_uid="grading-reference-gate")
