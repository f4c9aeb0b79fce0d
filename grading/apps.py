"""Django app configuration of submissions and scoring."""

from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = "Grading"

    def ready(self) -> None:
        from exercises.signals import bundle_uploaded
        from grading import bundle_builds, reference_gate
        from hackathon.signals import exercises_attached

        # An exercise attached to an event proves on the workers that its reference reaches its target.
        exercises_attached.connect(reference_gate.on_exercises_attached, dispatch_uid="grading-reference-gate")
        # An uploaded bundle's data.py runs in the sandbox on a worker, never in the web process.
        bundle_uploaded.connect(bundle_builds.on_bundle_uploaded, dispatch_uid="grading-bundle-builds")
