"""Submissions and their results: the database is the source of truth of every grading run."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.functional import cached_property

from grading import pictures

if TYPE_CHECKING:
    from hackathon.models import Group


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

    def counting_toward_quota(self) -> SubmissionQuerySet:
        """Keep the submissions that use quota: Submission.counts_toward_quota's rule, asked of the database."""
        return self.filter(kind=Submission.Kind.GRADED).exclude(reason=Submission.Reason.INFRASTRUCTURE)


class SubmissionManager(models.Manager.from_queryset(SubmissionQuerySet)):  # type: ignore[misc]
    """Leaves RESULT_FIELDS out of every query unless `with_results()` asks for them."""

    def get_queryset(self) -> SubmissionQuerySet:
        return super().get_queryset().defer(*RESULT_FIELDS)


RUNNER_CELL = re.compile(r"\bCell (\d+)\b")


def cell_numbers_as_shown(text: str) -> str:
    """Renumber the runner's "Cell N" (an index from 0 over every cell) as the pages number cells, from 1."""
    return RUNNER_CELL.sub(lambda m: f"Cell {int(m.group(1)) + 1}", text or "")


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
    share_notebook = models.BooleanField(
        default=False,
        help_text="The author agreed that the organizers may show this notebook to the event's people after the "
        "deadline (grading.closing.release_submission refuses a notebook without this consent); the author may give "
        "or withdraw it later (grading.closing.set_notebook_sharing).",
    )
    worker = models.CharField(max_length=200, blank=True)
    # What the notebook ran on (grading.fingerprints): runtime lock hash or image, Python, key packages, GPU.
    runtime_fingerprint = models.JSONField(default=dict, blank=True)
    # The extension that let it in after the exercise closed (boards mark its row); null within the window.
    extension = models.ForeignKey(
        "hackathon.Extension", on_delete=models.SET_NULL, null=True, blank=True, related_name="submissions"
    )
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
        return reverse("grading:submission_detail", kwargs={"uid": self.uid})

    @property
    def failed_cell_number(self) -> int | None:
        """The failing cell as the page numbers cells: every cell shown, counted from 1 (the runner counts from 0)."""
        return None if self.failed_cell is None else self.failed_cell + 1

    @property
    def shown_message(self) -> str:
        """The grading message with its "Cell N" in the page's numbering (see failed_cell_number)."""
        return cell_numbers_as_shown(self.message)

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    @property
    def pictures_state(self) -> str:
        """Where the feedback pictures stand: one of grading.pictures.STATES ("drawing" while being drawn)."""
        return pictures.pictures_state(self.figures, self.finished_at)

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
    # The group the author had when raising it, kept as history. Who handles the request follows the author's group
    # now (current_group, grading.permissions.handleable_help_requests): a move hands it to the new tutors.
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

    @cached_property
    def current_group(self) -> Group | None:
        """Return the author's group in the event now (None without one: the organizers help)."""
        from hackathon.models import Registration

        registration = (
            Registration.objects.filter(
                event_id=self.event_id, user_id=self.participant_id, status=Registration.Status.CONFIRMED
            )
            .select_related("group")
            .first()
        )
        return registration.group if registration is not None else None


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


# Bounds of the board options. A Ladder step is a margin in the metric's units: below a millionth it rounds scores
# to nothing a board shows (1e-320 even overflows score / step and broke every participant's board); above a
# thousand it hides every score of the metrics we have. A freeze longer than a month, or more picks than anyone
# sends graded, is a typing mistake.
LADDER_STEP_MIN = 1e-6
LADDER_STEP_MAX = 1000.0
FREEZE_MINUTES_MAX = 60 * 24 * 30
FINAL_PICKS_MAX = 50


class BoardSettings(models.Model):
    """How one event exercise's boards behave: freeze, reveal, Ladder mode, final picks, orientation rows."""

    event_exercise = models.OneToOneField(
        "hackathon.EventExercise", on_delete=models.CASCADE, related_name="board_settings"
    )
    freeze_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(FREEZE_MINUTES_MAX)],
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
    ladder_step = models.FloatField(
        default=0.01,
        validators=[MinValueValidator(LADDER_STEP_MIN), MaxValueValidator(LADDER_STEP_MAX)],
        help_text=f"The Ladder's significance margin and rounding step, from {LADDER_STEP_MIN:g} to "
        f"{LADDER_STEP_MAX:g} in the metric's units.",
    )
    final_picks = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(FINAL_PICKS_MAX)],
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
    """One board-changing action by an organizer or the platform, or an author's change of consent to share a
    notebook: kept, never edited."""

    class Action(models.TextChoices):
        DISQUALIFY = "disqualify", "Disqualified a submission"
        REINSTATE = "reinstate", "Reinstated a submission"
        RESCORE = "rescore", "Queued a submission to be scored again"
        REVEAL = "reveal", "Revealed the private board"
        SETTINGS = "settings", "Changed the board settings"
        OPEN_DESPITE_GATE = "override", "Opened the exercise although its reference missed its target"
        EXTEND = "extend", "Granted an extension"
        SHARE = "share", "Its author agreed to share a notebook"
        UNSHARE = "unshare", "Its author stopped sharing a notebook"

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
    # A re-score keeps the runtime the replaced scores came from; once its run ends, `runtime_change` says what
    # differs in the new run's runtime (empty when nothing does).
    old_fingerprint = models.JSONField(null=True, blank=True)
    runtime_change = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.at:%Y-%m-%d %H:%M})"


# --- Reference checks: an exercise proves itself on the workers before it opens (issue 20) ----------------------


class ReferenceCheck(models.Model):
    """One run of an exercise's reference and baseline notebooks against an event's hidden set, on the workers."""

    class Trigger(models.TextChoices):
        ATTACHED = "attached", "Attached to the event"
        OPENING = "opening", "About to open"
        ASKED = "asked", "Asked by an organizer"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        PASSED = "passed", "The reference reached its target"
        MISSED = "missed", "The reference missed its target"
        ERROR = "error", "The check could not run"

    FINAL = (Status.PASSED, Status.MISSED, Status.ERROR)

    event_exercise = models.ForeignKey(
        "hackathon.EventExercise", on_delete=models.CASCADE, related_name="reference_checks"
    )
    trigger = models.CharField(max_length=8, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.QUEUED, db_index=True)
    # The targets the manifest documented when the check was asked, kept with the scores they were held to.
    reference_target = models.FloatField()
    baseline_target = models.FloatField()
    reference_score = models.FloatField(null=True, blank=True)
    reference_private_score = models.FloatField(null=True, blank=True)
    baseline_score = models.FloatField(null=True, blank=True)
    baseline_private_score = models.FloatField(null=True, blank=True)
    message = models.TextField(blank=True)
    runtime_fingerprint = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Reference check {self.pk} of {self.event_exercise_id} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL


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


# --- After the deadline: released notebooks and certificates (issue 19) ---------------------------------------


class ReleasedNotebook(models.Model):
    """A notebook an organizer showed to the event's people after an exercise closed: the reference solution, or a
    participant's submission whose author agreed to share it. The notebook is kept as it was when released."""

    class Kind(models.TextChoices):
        REFERENCE = "reference", "Reference solution"
        SUBMISSION = "submission", "A participant's notebook"

    event_exercise = models.ForeignKey(
        "hackathon.EventExercise", on_delete=models.CASCADE, related_name="released_notebooks"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    submission = models.OneToOneField(
        Submission, on_delete=models.CASCADE, null=True, blank=True, related_name="release"
    )
    title = models.CharField(max_length=300)
    notebook = models.JSONField()
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    released_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "released_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="reference", submission__isnull=True)
                | models.Q(kind="submission", submission__isnull=False),
                name="released_notebook_submission_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["event_exercise"], condition=models.Q(kind="reference"), name="one_released_reference"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.event_exercise})"

    def get_absolute_url(self) -> str:
        return reverse(
            "grading:released_notebook",
            kwargs={
                "slug": self.event_exercise.event.slug,
                "exercise_slug": self.event_exercise.exercise.slug,
                "pk": self.pk,
            },
        )


DEFAULT_CERTIFICATE_TEXT = (
    "This certifies that {name} took part in {event}, held {where} {dates}, "
    "a programme of {hours} hours of lectures and hands-on sessions."
)


class CertificateWording(models.Model):
    """The words an event's certificates use: the main text with placeholders, and a phrase per achievement."""

    event = models.OneToOneField("hackathon.Event", on_delete=models.CASCADE, related_name="certificate_wording")
    text = models.TextField(
        default=DEFAULT_CERTIFICATE_TEXT,
        max_length=1000,
        help_text='Placeholders: {name}, {event}, {dates} ("from 1 to 3 December 2026"), {hours}, {where} ("online", '
        '"at <venue>").',
    )
    attended = models.CharField(max_length=120, default="worked on", help_text="An exercise without a submission.")
    submitted = models.CharField(max_length=120, default="submitted a solution to")
    baseline = models.CharField(max_length=120, default="reached the baseline score of")
    reference = models.CharField(max_length=120, default="reached the reference score of")
    signed_by = models.CharField(
        max_length=200, blank=True, help_text="The name printed under the signature line, e.g. the school's director."
    )

    def __str__(self) -> str:
        return f"Certificate wording of {self.event}"


def new_certificate_token() -> str:
    return secrets.token_urlsafe(18)


class Certificate(models.Model):
    """A participant's certificate of an event. What it states is fixed when issued; a revoked one stops verifying.

    Its public address carries the token signed with the site's key (grading.certificates.verification_id), so a
    made-up address is refused before any lookup and a guessed one needs the token's 144 random bits.
    """

    event = models.ForeignKey("hackathon.Event", on_delete=models.CASCADE, related_name="certificates")
    participant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certificates")
    token = models.CharField(max_length=64, unique=True, default=new_certificate_token, editable=False)
    # A full name is first (150) + space + last (150), or an address (254) when both are empty: all of it prints.
    name = models.CharField(max_length=320, help_text="The person's name as printed.")
    statement = models.TextField(help_text="The main text, the wording's placeholders filled in.")
    # [{"exercise": title, "level": "attended|submitted|baseline|reference", "phrase": "reached the ..."}]
    achievements = models.JSONField(default=list, blank=True)
    signed_by = models.CharField(max_length=200, blank=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoke_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "participant"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_valid_certificate_per_participant",
            )
        ]

    def __str__(self) -> str:
        return f"Certificate of {self.name} for {self.event}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class CertificateAuditEntry(models.Model):
    """One certificate issued or revoked, by whom and why: kept, never edited."""

    class Action(models.TextChoices):
        ISSUE = "issue", "Issued a certificate"
        REVOKE = "revoke", "Revoked a certificate"

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=6, choices=Action.choices)
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "certificate audit entries"

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.at:%Y-%m-%d %H:%M})"
