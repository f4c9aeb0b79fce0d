"""Tutoring: the help requests (services), the tutor's dashboard and help queue (selectors), who is stuck."""
