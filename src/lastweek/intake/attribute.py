"""Attribution: which assignment a received message belongs to, for a batch of messages in a few queries.

In order of trust:
1. a valid reply token in an envelope recipient or a To/Cc address (`reply+TOKEN@MAIL_DOMAIN`): the
   token carries an HMAC, so only someone who received the request can have it;
2. In-Reply-To / References naming a request's Message-ID (and, for a bounce, the Message-ID of the
   request that bounced, from the delivery report);
3. the From address (an employee's work address) and that person's assignment in the open cycle;
   for a bounce, the failed recipient's address the same way.

From is only a claim. When the receiving gateway says it failed DMARC/SPF (`Authentication-Results`),
it is never used: the message is quarantined as possibly spoofed. A token is accepted whoever sends
it (replies get forwarded to an assistant, or sent from a personal address), and a From that differs
from the assignee's is recorded (reason `from_mismatch`); but a token in a message whose From failed
authentication AND is not the assignee's address is quarantined too: that is what a forger holding a
leaked token would send.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from lastweek.directives.models import Assignment, Cycle, RequestMail
from lastweek.intake.parse import Kind, ParsedMessage
from lastweek.mail import assignment_id_from_token
from lastweek.org.models import Employee
from lastweek.rows import ModelColumns, array_placeholder, id_filter

TOKEN = "token"
IN_REPLY_TO = "in_reply_to"
FROM = "from"
BOUNCE_RECIPIENT = "bounce_to"


@dataclass(frozen=True, slots=True)
class Attribution:
    """An assignment and how it was found, or none and the quarantine reason (a code and words)."""

    assignment_id: int | None
    method: str = ""
    reason: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    """What attribution reads of one message."""

    parsed: ParsedMessage
    envelope_to: Sequence[str]
    received_at: dt.datetime


def token_assignment_ids(addresses: Iterable[str]) -> list[int]:
    """The assignment ids named by valid reply tokens among `addresses`, in order, without repeats."""
    domain = "@" + settings.MAIL_DOMAIN.lower()
    found: list[int] = []
    for address in addresses:
        address = address.strip().strip("<>").lower()
        local, at, rest = address.rpartition("@")
        if not at or "@" + rest != domain or not local.startswith("reply+"):
            continue
        assignment_id = assignment_id_from_token(local.removeprefix("reply+"))
        if assignment_id is not None and assignment_id not in found:
            found.append(assignment_id)
    return found


def normalize_message_id(value: str) -> str:
    """`<id@host>` with the brackets, however a client wrote it."""
    value = value.strip()
    return value if value.startswith("<") else f"<{value.strip('<>')}>"


def attribute(candidate: Candidate) -> Attribution:
    """The attribution of one message (see the module's rules); batches use `attribute_many()`."""
    return attribute_many([candidate])[0]


def attribute_many(candidates: Sequence[Candidate]) -> list[Attribution]:
    """One attribution per candidate, in order."""
    lookups = _Lookups(candidates)
    return [
        lookups.attribute(candidate, tokens)
        for candidate, tokens in zip(candidates, lookups.tokens, strict=True)
    ]


class _Lookups:
    """Everything the batch needs from the database, read up front."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        # Each lookup only for the messages the one before left unattributed: most replies carry a
        # token, and their In-Reply-To and From need not be looked up at all.
        self.tokens = [token_assignment_ids([*c.envelope_to, *c.parsed.to_addresses]) for c in candidates]
        self.assignees = _assignee_addresses({i for ids in self.tokens for i in ids})
        rest = [c for c, ids in zip(candidates, self.tokens, strict=True) if not self._known(ids)]
        message_ids = {normalize_message_id(m) for c in rest for m in _referenced_ids(c.parsed)}
        self.requests = _request_assignments(message_ids)
        self.assignees |= _assignee_addresses(set(self.requests.values()) - set(self.assignees))
        rest = [c for c in rest if not self._known(self._referenced_assignments(c.parsed))]
        addresses = {a.lower() for c in rest for a in _person_addresses(c.parsed)}
        self.open_assignments = _open_assignments(addresses)

    def _known(self, assignment_ids: Iterable[int | None]) -> bool:
        return any(assignment_id in self.assignees for assignment_id in assignment_ids)

    def _referenced_assignments(self, parsed: ParsedMessage) -> list[int | None]:
        return [self.requests.get(normalize_message_id(m)) for m in _referenced_ids(parsed)]

    def attribute(self, candidate: Candidate, tokens: list[int]) -> Attribution:
        parsed = candidate.parsed
        sender = (parsed.from_address or "").lower()
        known = [assignment_id for assignment_id in tokens if assignment_id in self.assignees]
        if known:
            return self._by_token(known[0], sender, parsed)
        for assignment_id in self._referenced_assignments(parsed):
            if assignment_id is not None and assignment_id in self.assignees:
                return Attribution(assignment_id, IN_REPLY_TO)
        if parsed.kind == Kind.BOUNCE:
            return self._bounce_by_recipient(candidate)
        return self._by_from(candidate, sender)

    def _by_token(self, assignment_id: int, sender: str, parsed: ParsedMessage) -> Attribution:
        assignee = (self.assignees[assignment_id] or "").lower()
        if parsed.kind == Kind.BOUNCE or not sender or sender == assignee:
            return Attribution(assignment_id, TOKEN)
        if parsed.authentication_failed:
            return Attribution(
                None,
                TOKEN,
                "spoofed",
                f"Possibly spoofed: a reply token, but From failed {parsed.authentication_failed} and is "
                "not the assignee's address.",
            )
        return Attribution(
            assignment_id, TOKEN, "from_mismatch", "Reply token accepted; From is not the assignee's address."
        )

    def _bounce_by_recipient(self, candidate: Candidate) -> Attribution:
        for address in candidate.parsed.bounce_recipients:
            found = self._open_assignment(address.lower(), candidate.received_at)
            if isinstance(found, int):
                return Attribution(found, BOUNCE_RECIPIENT)
        return Attribution(
            None, "", "unknown_bounce", "A bounce for no request we know: no token, Message-ID or recipient."
        )

    def _by_from(self, candidate: Candidate, sender: str) -> Attribution:
        parsed = candidate.parsed
        if not sender:
            return Attribution(None, "", "no_sender", "No reply token, no known In-Reply-To and no From.")
        if parsed.authentication_failed:
            return Attribution(
                None,
                FROM,
                "spoofed",
                f"Possibly spoofed: From failed {parsed.authentication_failed}, and nothing else names "
                "the request.",
            )
        found = self._open_assignment(sender, candidate.received_at)
        if isinstance(found, int):
            return Attribution(found, FROM)
        return found

    def _open_assignment(self, address: str, received_at: dt.datetime) -> int | Attribution:
        assignments = self.open_assignments.get(address)
        if not assignments:
            return Attribution(
                None, FROM, "unknown_sender", "From is no employee with an assignment in an open cycle."
            )
        # Per directive, the latest cycle opened by the time the message arrived.
        latest: dict[int, tuple[dt.datetime, int]] = {}
        for assignment_id, directive_id, opens_at in assignments:
            if opens_at <= received_at and (directive_id not in latest or opens_at > latest[directive_id][0]):
                latest[directive_id] = (opens_at, assignment_id)
        if not latest:
            latest = {directive_id: (opens_at, pk) for pk, directive_id, opens_at in assignments}
        if len(latest) > 1:
            return Attribution(
                None, FROM, "ambiguous", "The sender is asked by several directives; no token says which."
            )
        return next(iter(latest.values()))[1]


def _referenced_ids(parsed: ParsedMessage) -> tuple[str, ...]:
    if parsed.kind == Kind.BOUNCE:
        return (*parsed.bounced_message_ids, *parsed.in_reply_to)
    return parsed.in_reply_to


def _person_addresses(parsed: ParsedMessage) -> tuple[str, ...]:
    if parsed.kind == Kind.BOUNCE:
        return parsed.bounce_recipients
    return (parsed.from_address,) if parsed.from_address else ()


def _assignee_addresses(assignment_ids: set[int]) -> dict[int, str]:
    """Each existing assignment's employee address."""
    if not assignment_ids:
        return {}
    where, params = id_filter("a.id", assignment_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.id, e.email FROM {Assignment._meta.db_table} a"
            f" JOIN {Employee._meta.db_table} e ON e.id = a.employee_id WHERE {where}",
            params,
        )
        return dict(cursor.fetchall())


def _request_assignments(message_ids: set[str]) -> dict[str, int]:
    """The assignment of each request mail among these Message-IDs."""
    if not message_ids:
        return {}
    where, params = id_filter("message_id", message_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT message_id, assignment_id FROM {RequestMail._meta.db_table} WHERE {where}", params
        )
        return dict(cursor.fetchall())


# The one cycle column read with an address's assignments, converted as the ORM would.
_OPENS_AT = ModelColumns(Cycle, "c", fields=["opens_at"])


def _open_assignments(addresses: set[str]) -> dict[str, list[tuple[int, int, dt.datetime]]]:
    """Each address's assignments in open cycles: (assignment id, directive id, cycle opened)."""
    if not addresses:
        return {}
    opens_at = _OPENS_AT
    tables = (
        f" JOIN {Assignment._meta.db_table} a ON a.employee_id = e.id"
        f" JOIN {Cycle._meta.db_table} c ON c.id = a.cycle_id AND c.state = %s"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One probe of the address index per address, however many there are.
            cursor.execute(
                f"SELECT e.email, a.id, c.directive_id, {opens_at.sql}"
                f" FROM unnest({array_placeholder()}::text[]) AS wanted(email)"
                f" JOIN {Employee._meta.db_table} e ON e.email = wanted.email{tables}",
                [sorted(addresses), Cycle.State.OPEN],
            )
        else:
            where, params = id_filter("e.email", addresses)
            cursor.execute(
                f"SELECT e.email, a.id, c.directive_id, {opens_at.sql}"
                f" FROM {Employee._meta.db_table} e{tables} WHERE {where}",
                [Cycle.State.OPEN, *params],
            )
        rows = cursor.fetchall()
    found: dict[str, list[tuple[int, int, dt.datetime]]] = {}
    for email, pk, directive_id, opened in rows:
        found.setdefault(email.lower(), []).append((pk, directive_id, opens_at.values([opened])[0]))
    return found
