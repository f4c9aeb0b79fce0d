"""Signals the exercise catalog sends for higher floors to act on, without it knowing who listens."""

from django.dispatch import Signal

# Sent after the transaction that stored an uploaded bundle commits, with `exercise_id`: the workers build its data
# in the sandbox and publish it, or say why not (grading listens and queues that check).
bundle_uploaded = Signal()
