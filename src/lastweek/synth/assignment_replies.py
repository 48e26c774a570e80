"""The plain data a synthetic reply is written from, read for every asked assignment of a cycle."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from email.utils import formataddr
from pathlib import Path

from django.conf import settings

from lastweek.directives.models import ASKED_MODES, Assignment, Cycle
from lastweek.mail import reply_address
from lastweek.synth.replies import ReplyRequest, SynthReply, replies, write_maildir

_FIELDS = (
    "id",
    "employee__first_name",
    "employee__last_name",
    "employee__email",
    "employee__title",
    "agency__name",
    "manager__first_name",
    "manager__last_name",
    "due_at",
    "request_mail__message_id",
)
CHUNK = 5_000


def asked_count(cycle: Cycle, limit: int | None = None) -> int:
    count = Assignment.objects.filter(cycle=cycle, mode__in=ASKED_MODES).count()
    return count if limit is None else min(count, limit)


def reply_requests(cycle: Cycle, limit: int | None = None) -> Iterator[ReplyRequest]:
    """One ReplyRequest per required or voluntary assignment, in id order, streamed with a server-side
    cursor on PostgreSQL. Where no request mail was sent, the Message-ID is the one it would have had,
    made deterministic."""
    sender = formataddr((cycle.directive.sender_name, settings.DEFAULT_FROM_EMAIL))
    rows = Assignment.objects.filter(cycle=cycle, mode__in=ASKED_MODES).order_by("id").values_list(*_FIELDS)
    if limit is not None:
        rows = rows[:limit]
    subjects: dict[str, str] = {}
    for row in rows.iterator(chunk_size=CHUNK):
        assignment_id, first, last, email, title, agency, manager_first, manager_last, due, message_id = row
        subject = subjects.get(agency)
        if subject is None:
            subject = subjects[agency] = f"What did you get done last week? (week {cycle.week}, {agency})"
        yield ReplyRequest(
            assignment_id=assignment_id,
            reply_address=reply_address(assignment_id),
            first_name=first,
            last_name=last,
            email=email,
            agency_name=agency,
            title=title,
            manager_name=f"{manager_first} {manager_last}" if manager_first else "",
            due_at=due or cycle.deadline,
            request_message_id=message_id or f"<{cycle.week}.{assignment_id}.synth@{settings.MAIL_DOMAIN}>",
            request_from=sender,
            request_subject=subject,
        )


def write_cycle_replies(
    cycle: Cycle,
    out: Path,
    seed: int = 42,
    limit: int | None = None,
    on_message: Callable[[int], None] | None = None,
) -> Counter[str]:
    """Write a reply for each asked assignment into the Maildir `out`; counts by kind, and "late"."""
    kinds: Counter[str] = Counter()

    def counted(messages: Iterable[SynthReply]) -> Iterator[SynthReply]:
        for message in messages:
            kinds[message.kind] += 1
            kinds["late"] += message.late
            yield message

    write_maildir(counted(replies(reply_requests(cycle, limit), seed)), out, on_message)
    return kinds
