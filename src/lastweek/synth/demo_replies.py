"""The demo's replies: a few dozen synthetic answers, out-of-office replies and bounces sent with smtplib
through the real intake SMTP server (in this process, on a loopback port), then processed into reports."""

from __future__ import annotations

import smtplib

from django.conf import settings

from lastweek.directives.models import Cycle
from lastweek.intake.actions import Tally, process_stored
from lastweek.intake.models import InboundMessage
from lastweek.intake.parse import parse_message
from lastweek.intake.smtp import serve_in_thread
from lastweek.synth.assignment_replies import reply_requests
from lastweek.synth.replies import replies

DEMO_REPLIES = 36


def demo_replies(cycle: Cycle, say=print, count: int = DEMO_REPLIES) -> Tally | None:
    """Send `count` replies to the cycle's requests through the SMTP server and process them, once:
    a later run finds them stored and sends nothing."""
    if InboundMessage.objects.filter(source=InboundMessage.Source.SMTP).exists():
        return None
    messages = [message.raw for message in replies(reply_requests(cycle, count))]
    with serve_in_thread(process=False) as server, smtplib.SMTP("127.0.0.1", server.port) as client:
        for raw in messages:
            sender, recipients = _envelope(raw)
            client.sendmail(sender, recipients, raw)
    tally = process_stored()
    counts = tally.counts
    say(
        f"Received {len(messages)} replies through the SMTP server (port {server.port}): "
        f"{counts['reports']} answers recorded, {counts['auto_reply']} automatic replies, "
        f"{counts['bounce']} bounces, {counts[InboundMessage.State.QUARANTINED]} quarantined."
    )
    return tally


def _envelope(raw: bytes) -> tuple[str, list[str]]:
    """Who a mail server would hand the message over for: the sender, and the To addresses at our
    domain (the reply address), else the directive's sending address."""
    parsed = parse_message(raw)
    domain = "@" + settings.MAIL_DOMAIN.lower()
    ours = [address for address in parsed.to_addresses if address.lower().endswith(domain)]
    return parsed.from_address or "", ours or [settings.DEFAULT_FROM_EMAIL]
