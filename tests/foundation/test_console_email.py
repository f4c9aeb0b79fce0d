"""In development the emails are printed whole: a long link stays on one line, ready to be opened."""

from __future__ import annotations

import io

from django.core.mail import EmailMessage

from hackathon.console_email import EmailBackend

LINK = "http://127.0.0.1:8000/accounts/confirm-email/MTA:1xY4pH:EMQBrW-8aXJgNuKE_sCEQJ2x7Lj2eGqcqTouLx1d9pE/"


def test_a_printed_email_keeps_a_long_link_whole_on_one_line() -> None:
    stream = io.StringIO()
    body = f"Hello from ML_INFN hackathons! To confirm this is correct, go to {LINK}\n\nThank you, café included."
    email = EmailMessage("Please confirm", body, "hackathon@localhost", ["nora@example.org"])

    EmailBackend(stream=stream).send_messages([email])

    printed = stream.getvalue()
    assert f"go to {LINK}\n" in printed
    assert "Subject: Please confirm" in printed and "To: nora@example.org" in printed
    assert "café included" in printed and "=\n" not in printed
