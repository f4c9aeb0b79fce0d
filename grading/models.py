"""Submissions and their results: the database is the source of truth of every grading run."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse


def notebook_upload_path(submission: Submission, filename: str) -> str:
    return f"submissions/{submission.event_exercise.event_id}/{submission.uid}.ipynb"


# What a run left that can be large (up to the sandbox's caps: megabytes a row): loaded only by the pages
# that show one submission's result, never by lists, boards or the queue.
RESULT_FIELDS = ("executed_notebook", "log", "traceback")


def result_fields_through(relation: str) -> list[str]:
    """Return RESULT_FIELDS as seen through a relation, for `.defer()` after `select_related(relation)`."""
    return [f"{relation}__{field}" for field in RESULT_FIELDS]


class SubmissionQuerySet(models.QuerySet):
    def with_results(self) -> SubmissionQuerySet:
        """Load the run's notebook, log and traceback too (one submission's result page)."""
        return self.defer(None)


class SubmissionManager(models.Manager.from_queryset(SubmissionQuerySet)):  # type: ignore[misc]
    """Leaves RESULT_FIELDS out of every query unless `with_results()` asks for them."""

    def get_queryset(self) -> SubmissionQuerySet:
        return super().get_queryset().defer(*RESULT_FIELDS)


class Submission(models.Model):
    """One notebook a participant sent for one exercise of one event, and what grading made of it."""

    class Kind(models.TextChoices):
        GRADED = "graded", "Graded submission"
        CHECK = "check", "Free check on the public sample"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SCORED = "scored", "Scored"
        FAILED = "failed", "Failed"
        INVALID = "invalid", "Invalid"

    class Reason(models.TextChoices):
        EXCEPTION = "exception", "The notebook raised an exception"
        TIMEOUT = "timeout", "Time limit reached"
        MEMORY = "memory", "Memory limit reached"
        PROCESSES = "processes", "Process limit reached"
        OUTPUT = "output", "Too much output"
        DISK = "disk", "Disk limit reached"
        PREDICTIONS = "predictions", "Predictions not valid"
        NOTEBOOK = "notebook", "Notebook not valid"
        INFRASTRUCTURE = "infrastructure", "Platform failure"

    FINAL = (Status.SCORED, Status.FAILED, Status.INVALID)

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_exercise = models.ForeignKey("hackathon.EventExercise", on_delete=models.CASCADE, related_name="submissions")
    participant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.GRADED)
    notebook = models.FileField(upload_to=notebook_upload_path, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    queue = models.CharField(max_length=10, default="cpu")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)
    message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    score = models.FloatField(null=True, blank=True, help_text="On the public part of the hidden set.")
    private_score = models.FloatField(null=True, blank=True, help_text="On the private part; shown once revealed.")
    secondary = models.JSONField(default=dict, blank=True)
    figures = models.JSONField(default=dict, blank=True)
    failed_cell = models.IntegerField(null=True, blank=True)
    traceback = models.TextField(blank=True)
    log = models.TextField(blank=True)
    executed_notebook = models.JSONField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    peak_memory_bytes = models.BigIntegerField(null=True, blank=True)
    backend = models.CharField(max_length=20, blank=True)
    gpu_seconds = models.FloatField(
        null=True, blank=True, help_text="GPU time charged to the event's budget: the time limit while running."
    )
    worker = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = SubmissionManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["event_exercise", "participant", "created_at"])]

    def __str__(self) -> str:
        return f"Submission {self.pk} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("submission_detail", kwargs={"uid": self.uid})

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    @property
    def counts_toward_quota(self) -> bool:
        """Graded submissions count, failed and invalid ones too, except when the platform itself failed."""
        return self.kind == self.Kind.GRADED and self.reason != self.Reason.INFRASTRUCTURE


# --- Help requests (issue 8: tutors and participants at work) ------------------------------------------------


class HelpRequest(models.Model):
    """A participant's call for a tutor: it waits in their group's queue until a tutor claims and resolves it."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a tutor"
        CLAIMED = "claimed", "A tutor is on it"
        RESOLVED = "resolved", "Resolved"

    MESSAGE_MIN_CHARS = 10
    MESSAGE_MAX_CHARS = 1000

    event = models.ForeignKey("hackathon.Event", on_delete=models.CASCADE, related_name="help_requests")
    participant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="help_requests")
    # Without a group the request goes to the event's organizers, so nobody is left unanswered.
    group = models.ForeignKey(
        "hackathon.Group", on_delete=models.SET_NULL, null=True, blank=True, related_name="help_requests"
    )
    submission = models.ForeignKey(
        Submission, on_delete=models.SET_NULL, null=True, blank=True, related_name="help_requests"
    )
    message = models.TextField(max_length=MESSAGE_MAX_CHARS)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="claimed_help_requests"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One request at a time per person: a second question goes into the thread of the first.
            models.UniqueConstraint(
                fields=["event", "participant"],
                condition=~models.Q(status="resolved"),
                name="one_unresolved_help_request_per_participant",
            )
        ]

    def __str__(self) -> str:
        return f"Help request {self.pk} ({self.get_status_display()})"

    @property
    def is_resolved(self) -> bool:
        return self.status == self.Status.RESOLVED


class HelpMessage(models.Model):
    """One message of a help request's short thread, from the participant or a tutor."""

    MAX_CHARS = 2000

    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="help_messages")
    text = models.TextField(max_length=MAX_CHARS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Message {self.pk} on help request {self.request_id}"


# --- Leaderboards: board options, final picks, disqualifications and the audit log (issue 7) ----------------


class BoardSettings(models.Model):
    """How one event exercise's boards behave: freeze, reveal, Ladder mode, final picks, orientation rows."""

    event_exercise = models.OneToOneField(
        "hackathon.EventExercise", on_delete=models.CASCADE, related_name="board_settings"
    )
    freeze_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Minutes before the exercise closes when participants' public board stops updating. "
        "Leave empty to never freeze.",
    )
    reveal_at = models.DateTimeField(
        null=True, blank=True, help_text="When the private board opens to participants on its own."
    )
    revealed_at = models.DateTimeField(null=True, blank=True, editable=False)
    ladder = models.BooleanField(
        default=False, help_text="Ladder mode: a new best shows only when it beats the shown one by the step."
    )
    ladder_step = models.FloatField(default=0.01, help_text="The Ladder's significance margin and rounding step.")
    final_picks = models.PositiveSmallIntegerField(
        default=0,
        help_text="How many submissions each participant may pick for the final ranking; 0 = the best public one.",
    )
    show_targets = models.BooleanField(default=True, help_text="Show the baseline and reference rows.")

    class Meta:
        verbose_name_plural = "board settings"
        constraints = [models.CheckConstraint(condition=models.Q(ladder_step__gt=0), name="board_ladder_step_positive")]

    def __str__(self) -> str:
        return f"Board of {self.event_exercise}"


class FinalPick(models.Model):
    """A submission its participant picked for the final ranking, before the exercise closed."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="final_pick")
    picked_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Final pick {self.submission_id}"


class Disqualification(models.Model):
    """A submission an organizer took off the boards, and why."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="disqualification")
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Disqualified {self.submission_id}"


class AuditEntry(models.Model):
    """One board-changing action by an organizer or the platform: kept, never edited."""

    class Action(models.TextChoices):
        DISQUALIFY = "disqualify", "Disqualified a submission"
        REINSTATE = "reinstate", "Reinstated a submission"
        RESCORE = "rescore", "Queued a submission to be scored again"
        REVEAL = "reveal", "Revealed the private board"
        SETTINGS = "settings", "Changed the board settings"

    event_exercise = models.ForeignKey(
        "hackathon.EventExercise", on_delete=models.CASCADE, related_name="audit_entries"
    )
    submission = models.ForeignKey(
        Submission, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    reason = models.TextField(blank=True)
    # A re-score keeps the scores it replaces: the new ones are the submission's once its run ends.
    old_score = models.FloatField(null=True, blank=True)
    old_private_score = models.FloatField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.at:%Y-%m-%d %H:%M})"


# --- Personal API tokens (issue 9: REST API and the hackathon-submit client) --------------------------------


class ApiToken(models.Model):
    """A personal token for the API and `hackathon-submit`; only its sha256 is kept, the token is shown once."""

    PREFIX_CHARS = 8

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, help_text="Where the token is used, e.g. “JupyterHub”.")
    # The prefix is stored in clear to find the row; the hash proves the rest without keeping it.
    prefix = models.CharField(max_length=PREFIX_CHARS, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"API token {self.prefix}… of {self.user_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
