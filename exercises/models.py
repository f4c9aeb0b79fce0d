"""The exercise catalog: each exercise bundle known to the site, with its knowledge-base labels."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from exercises.metrics import METRICS


class Label(models.Model):
    """One value of one of the knowledge base's label dimensions, e.g. technology = CNN."""

    class Dimension(models.TextChoices):
        TECHNOLOGY = "technology", "ML technology"
        FIELD = "field", "Scientific field"
        TOOL = "tool", "ML tool"

    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["dimension", "name"]
        constraints = [models.UniqueConstraint(fields=["dimension", "name"], name="unique_label")]

    def __str__(self) -> str:
        return f"{self.get_dimension_display()}: {self.name}"


class Exercise(models.Model):
    """An exercise bundle as the catalog shows it; the bundle folder on disk stays the source of truth."""

    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    class Device(models.TextChoices):
        CPU = "cpu", "CPU"
        GPU = "gpu", "GPU"

    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300)
    description = models.TextField()
    levels = models.JSONField(default=list)
    labels = models.ManyToManyField(Label, related_name="exercises", blank=True)
    metric = models.CharField(max_length=40)
    metric_display_name = models.CharField(
        max_length=80, blank=True, help_text="What pages call the metric (the manifest's metric.display_name)."
    )
    direction = models.CharField(max_length=6, choices=Direction.choices)
    secondary_metrics = models.JSONField(default=list, blank=True)
    output_kind = models.CharField(max_length=20)
    device = models.CharField(max_length=3, choices=Device.choices)
    gpu_preferred = models.BooleanField(default=False)
    wall_seconds = models.PositiveIntegerField()
    memory_mb = models.PositiveIntegerField()
    processes = models.PositiveIntegerField()
    cpus = models.FloatField()
    target_reference = models.FloatField()
    target_baseline = models.FloatField()
    authors = models.JSONField(default=list, blank=True)
    bundle_path = models.CharField(max_length=500, help_text="Folder of the bundle on the workers' disk.")
    builtin = models.BooleanField(default=False)
    published = models.BooleanField(default=True)

    class Build(models.TextChoices):
        """Where an uploaded bundle's check stands: its data.py runs in the sandbox on a worker, then it is shown."""

        READY = "ready", "Built and checked"
        CHECKING = "checking", "Being built and checked on the workers"
        FAILED = "failed", "Its data could not be built"

    build_status = models.CharField(max_length=8, choices=Build.choices, default=Build.READY)
    build_message = models.TextField(blank=True, help_text="What the check of an uploaded bundle found.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="uploaded_exercises"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("exercises:exercise_detail", kwargs={"slug": self.slug})

    @property
    def metric_label(self) -> str:
        """The metric as pages name it: the manifest's display name, else the metric's own label."""
        known = METRICS.get(self.metric)
        return self.metric_display_name or (known.label if known else self.metric)

    @property
    def secondary_metric_labels(self) -> list[str]:
        return [METRICS[name].label if name in METRICS else name for name in self.secondary_metrics]

    @property
    def queue(self) -> str:
        """The Celery queue whose workers can run this exercise: only GPU-bound exercises need the gpu queue."""
        return "gpu" if self.device == self.Device.GPU else "cpu"

    def labels_of(self, dimension: str) -> list[str]:
        return [label.name for label in self.labels.all() if label.dimension == dimension]
