"""Signals the event domain sends for higher floors to act on, without it knowing who listens."""

from django.dispatch import Signal

# Sent after the transaction that attached exercises to an event commits; `event_exercise_ids` lists the new
# EventExercise rows. Grading listens to check each exercise's reference on the workers before it opens.
exercises_attached = Signal()
