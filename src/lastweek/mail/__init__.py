"""Outbound mail for every sender (requests, reminders, digests, review notices): the outbound twin of
`intake`, on the ground floor, so any app may send and none reaches into another's sender.

The public API, and the only names other packages import:
- `compose()`: one plain-text notice as SMTP-ready bytes;
- `Outbox` (`PipelinedSender`): pipelined SMTP over one or more connections, at a steady rate, calling
  the caller's `hand_over(keys)` just before each final dot, which is where a sender records "never send
  again" for exactly-once delivery (`HandOverJournal` makes that record cheap for large sends);
- `sending_lock()`: one sender at a time per cycle;
- reply tokens: `reply_address()`, `assignment_id_from_token()`;
- `DkimSigner`, `TokenBucket`, `SmtpBackend`, `Outgoing`, `SendReport`, `Outcome`, `sendable()`.
What to send and to whom stays with the apps: `directives` the requests, `compliance` the reminders.
"""

from lastweek.mail.compose import compose
from lastweek.mail.journal import HandOverJournal, journal_path
from lastweek.mail.lock import SendingLocked, sending_lock
from lastweek.mail.pipeline import Outgoing, PipelinedSender
from lastweek.mail.tokens import assignment_id_from_token, reply_address, reply_token
from lastweek.mail.transport import (
    DkimSigner,
    Outcome,
    SendReport,
    SmtpBackend,
    TokenBucket,
    sendable,
    smtp_data,
)

Outbox = PipelinedSender

__all__ = [
    "DkimSigner",
    "HandOverJournal",
    "Outbox",
    "Outcome",
    "Outgoing",
    "PipelinedSender",
    "SendReport",
    "SendingLocked",
    "SmtpBackend",
    "TokenBucket",
    "assignment_id_from_token",
    "compose",
    "journal_path",
    "reply_address",
    "reply_token",
    "sendable",
    "sending_lock",
    "smtp_data",
]
