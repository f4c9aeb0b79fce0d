"""The development email backend: prints each email's headers and its decoded text, so links can be followed."""

from __future__ import annotations

from typing import Any

from django.core.mail.backends import console

# Django 6 encodes a body with lines over 78 characters as quoted-printable; printed as such, a link is cut by a
# soft line break ("...confirm-ema=" / "il/MTA:...") and a newcomer signing up on `make run` cannot open it.


class EmailBackend(console.EmailBackend):
    """Django's console backend, writing the message's text parts decoded rather than in their transfer encoding."""

    def write_message(self, message: Any) -> None:
        msg = message.message()
        headers = "".join(
            f"{name}: {value}\n" for name, value in msg.items() if name.lower() != "content-transfer-encoding"
        )
        parts = [part for part in msg.walk() if part.get_content_type() == "text/plain"]
        parts = parts or [part for part in msg.walk() if part.get_content_maintype() == "text"]
        bodies = [part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8") for part in parts]
        self.stream.write(headers + "\n" + "\n\n".join(body.rstrip("\n") for body in bodies) + "\n")
        self.stream.write("-" * 79 + "\n")
