"""The people and the mail the intake tests speak of.

Alice and Bob are asked (required), Carol's agency paused the request, Dave answers voluntarily.
Week 2026-W48 is due Monday 30 November, 23:59 in New York. `reply()` writes a reply as a mail client
would; `request_mail()` records the request a person was sent, so replies can refer to its Message-ID.
"""

from __future__ import annotations

import datetime as dt
import email.utils

from django.utils import timezone

from lastweek.directives.models import Assignment, Cycle, Mode, RequestMail
from lastweek.mail import reply_address
from tests.directives.test_outbound import DEADLINE, open_test_cycle

PEOPLE = {"alice": Mode.REQUIRED, "bob": Mode.REQUIRED, "carol": Mode.PAUSED, "dave": Mode.VOLUNTARY}
ON_TIME = DEADLINE - dt.timedelta(hours=3)
LATE = DEADLINE + dt.timedelta(hours=10)


def open_week(people: dict[str, str] | None = None) -> Cycle:
    """Week 2026-W48 with one assignment each for PEOPLE (or the people given)."""
    return open_test_cycle(people or PEOPLE)


def assignment(cycle: Cycle, name: str) -> Assignment:
    return cycle.assignments.get(employee__email=f"{name}@example.gov")


def request_mail(item: Assignment) -> RequestMail:
    return RequestMail.objects.create(
        assignment=item,
        cycle_id=item.cycle_id,
        message_id=f"<{item.cycle.week}.{item.pk}.cafe@lastweek.example.gov>",
        verify_code=f"V{item.pk:09d}",
        to_address=item.employee.email,
        state=RequestMail.State.SENT,
        claimed_at=timezone.now(),
    )


def reply(
    sender: str,
    to: str,
    body: str,
    *,
    message_id: str,
    date: dt.datetime = ON_TIME,
    in_reply_to: str | None = None,
    subject: str = "Re: What did you get done last week? (week 2026-W48)",
    headers: dict[str, str] | None = None,
) -> bytes:
    """A plain-text reply as bytes, CRLF line ends."""
    lines = {
        "From": sender,
        "To": to,
        "Subject": subject,
        "Date": email.utils.format_datetime(date),
        "Message-ID": f"<{message_id}>",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
    }
    if in_reply_to:
        lines["In-Reply-To"] = in_reply_to
    lines |= headers or {}
    head = "".join(f"{name}: {value}\r\n" for name, value in lines.items())
    return (head + "\r\n" + body.replace("\n", "\r\n")).encode("utf-8")


def answer_by_token(cycle: Cycle, name: str, message_id: str, **options) -> bytes:
    """`name` answers the request by replying to its reply address, with two bullets."""
    to = reply_address(assignment(cycle, name).pk)
    body = "- Closed 14 benefit claims\n- Trained two new staff on the case system\n"
    return reply(f"{name}@example.gov", to, body, message_id=message_id, **options)


def out_of_office(cycle: Cycle, name: str, message_id: str) -> bytes:
    return reply(
        f"{name}@example.gov",
        reply_address(assignment(cycle, name).pk),
        "I am out of the office until Monday with limited access to email.\n",
        message_id=message_id,
        subject="Automatic reply: What did you get done last week?",
        headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    )


def bounce(cycle: Cycle, name: str, request: RequestMail, message_id: str) -> bytes:
    """A delivery status notification for the request to `name`, sent to its reply address."""
    recipient = f"{name}@example.gov"
    boundary = "dsn-boundary-1"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.gov>\r\n"
        f"To: {reply_address(assignment(cycle, name).pk)}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {email.utils.format_datetime(ON_TIME)}\r\n"
        f"Message-ID: <{message_id}>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
        f"Your message could not be delivered to {recipient}: mailbox unavailable.\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.gov\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: lastweek@lastweek.example.gov\r\nTo: {recipient}\r\n"
        f"Message-ID: {request.message_id}\r\nSubject: What did you get done last week?\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()
