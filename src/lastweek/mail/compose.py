"""One notice as SMTP-ready bytes: what every sender but the request mail (which composes its own, see
`directives.request_message`) hands to the outbox."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage

from lastweek.mail.transport import smtp_data


def compose(
    subject: str,
    body: str,
    to: str,
    *,
    headers: dict[str, str] | None = None,
    reply_to: str = "",
    from_email: str = "",
) -> bytes:
    """The DATA payload (CRLF line ends, dots doubled, no final dot) of a plain-text message from
    DEFAULT_FROM_EMAIL, marked `Auto-Submitted: auto-generated` so that well-behaved responders stay
    quiet (RFC 3834)."""
    email = EmailMessage(
        subject,
        body,
        from_email or settings.DEFAULT_FROM_EMAIL,
        [to],
        headers={"Auto-Submitted": "auto-generated", **(headers or {})},
        reply_to=[reply_to] if reply_to else None,
    )
    return smtp_data(email.message().as_bytes())
