"""Errors of the grading domain that a person should see, each saying what to do next."""

from sandbox.errors import UserFacingError


class GradingError(UserFacingError):
    """Base of grading's refusals: nothing changed, and the message says what to do instead."""


class SubmissionRefused(GradingError):
    """The upload was not recorded: nothing was queued and no quota was used."""


class NotebookInvalid(SubmissionRefused):
    """The upload is not a notebook the platform can run."""


class QuotaExceeded(SubmissionRefused):
    """The participant has used today's submissions for this exercise."""


class ExerciseNotOpen(SubmissionRefused):
    """The exercise does not take submissions now."""


class StorageFull(SubmissionRefused):
    """The platform could not store the notebook (its disk is full or failing)."""


class GpuBudgetSpent(SubmissionRefused):
    """The participant's (or group's) GPU time for today cannot cover another run of this exercise."""


class BoardActionRefused(GradingError):
    """A board action was not taken: nothing changed."""


class HelpRequestRefused(GradingError):
    """A help request, or a step of its life, could not be recorded; the message says what to do instead."""


class ReleaseRefused(GradingError):
    """A notebook cannot be released to the event's people (before the deadline, or without its author's consent)."""


class SharingRefused(GradingError):
    """Consent to share a notebook cannot be given or withdrawn by this person; nothing changed."""


class CertificateRefused(GradingError):
    """A certificate cannot be issued, revoked or verified as asked."""


class CertificateRevoked(CertificateRefused):
    """The certificate was valid once, and an organizer revoked it."""


class ExtensionRefused(GradingError):
    """An extension that cannot be granted as asked; nothing was granted."""


class GateRefused(GradingError):
    """An organizer's action on an exercise's reference gate was refused; nothing changed."""
