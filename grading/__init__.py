"""Submissions, scoring against hidden sets, leaderboards and the Celery tasks that run them."""
