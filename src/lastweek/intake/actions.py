"""What happens to received messages: store the raw bytes, then decide each one's outcome in batches.

`store_raw()` is what the SMTP server calls before answering 250. `decide()` turns parsed messages into
outcomes (attribution, then `reports.submit_many()` for answers, marks on the assignment for automatic
replies and bounces); `process_stored()` runs it over stored rows (the SMTP backlog, `lastweek
reprocess`); the mailbox import (ingest.py) writes new rows with their outcome in one go.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from lastweek.directives.email_marks import AUTO_REPLY, BOUNCED, mark_email_replies
from lastweek.intake.attribute import Attribution, Candidate, attribute_many
from lastweek.intake.mailboxes import header_message_id, message_key
from lastweek.intake.models import InboundMessage
from lastweek.intake.parse import Kind, ParsedMessage, parse_message
from lastweek.reports.actions import Receipt, SubmissionError
from lastweek.reports.bulk import Submission, load_assignments, submit_many
from lastweek.reports.models import Channel

logger = logging.getLogger(__name__)

# Sent inside the transaction that marks assignments with an automatic reply or a bounce, with their ids,
# so that what reads those marks (compliance's counts) can follow them as it follows answers.

State = InboundMessage.State


def source_id(key: str, sha256: str) -> str:
    """The report's source id: the Message-ID, or the content hash for mail without one."""
    return key or f"sha256:{sha256}"


@dataclass(slots=True)
class Outcome:
    """What became of one message."""

    state: str
    reason: str = ""
    detail: str = ""
    kind: str = ""
    attributed_by: str = ""
    assignment_id: int | None = None
    report_id: int | None = None
    late: bool = False


@dataclass(slots=True)
class Tally:
    """Counts for the summary table of an ingest or a reprocess run."""

    counts: Counter = field(default_factory=Counter)
    quarantined: Counter = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        self.counts["processed"] += 1
        self.counts[outcome.state] += 1
        if outcome.kind == Kind.ANSWER and outcome.report_id and outcome.state == State.ATTRIBUTED:
            self.counts["reports"] += 1
            self.counts["late"] += outcome.late
        elif outcome.kind in (Kind.AUTO_REPLY, Kind.BOUNCE) and outcome.state == State.ATTRIBUTED:
            self.counts[outcome.kind] += 1
        if outcome.state in (State.QUARANTINED, State.REFUSED):
            self.quarantined[f"{outcome.state}: {outcome.reason}"] += 1

    def merge(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.quarantined.update(other.quarantined)


_INSERT_RAW = (
    f"INSERT INTO {InboundMessage._meta.db_table} (raw, sha256, message_id, size, envelope_from,"
    " envelope_to, source, received_at, source_ref, state, reason, detail, kind, attributed_by)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '', 'received', '', '', '', '')"
    " ON CONFLICT (sha256, message_id) DO NOTHING"
)


def store_raw_many(
    messages: Sequence[tuple[bytes, str, Sequence[str], dt.datetime]],
    source: str = InboundMessage.Source.SMTP,
) -> None:
    """Commit raw messages, each (bytes, envelope sender, envelope recipients, received at), in state
    received, in one transaction. One stored before (same bytes, same Message-ID) is left as it is.

    Only a cheap header scan (for the Message-ID) runs: nothing that can fail on broken mail runs
    before the bytes are safe.
    """
    adapt = connection.ops.adapt_datetimefield_value
    rows = []
    for raw, envelope_from, envelope_to, received_at in messages:
        rows.append(
            (
                raw,
                hashlib.sha256(raw).hexdigest(),
                message_key(header_message_id(raw)),
                len(raw),
                envelope_from,
                "\n".join(envelope_to),
                source,
                adapt(received_at),
            )
        )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(_INSERT_RAW, rows)


def store_raw(
    raw: bytes, *, envelope_from: str, envelope_to: Sequence[str], received_at: dt.datetime | None = None
) -> None:
    """Commit one raw message (state received); see store_raw_many()."""
    store_raw_many([(raw, envelope_from, envelope_to, received_at or timezone.now())])


def received_time(parsed: ParsedMessage, now: dt.datetime) -> dt.datetime | None:
    """For an import: the Date header, unless missing or in the future (None: the caller falls back on
    the file's time)."""
    date = parsed.date
    if date is None or date.tzinfo is None or date > now + dt.timedelta(minutes=5):
        return None
    return date


def decide(candidates: Sequence[Candidate], keys: Sequence[tuple[str, str]]) -> list[Outcome]:
    """The outcome of each parsed message; writes reports and assignment marks (call inside a transaction).

    `keys` are each message's (Message-ID key, sha256), for the reports' source ids.
    """
    outcomes: list[Outcome | None] = [None] * len(candidates)
    attributions = attribute_many(candidates)
    answers: list[tuple[int, int]] = []
    marks: dict[str, list[tuple[dt.datetime, int]]] = {AUTO_REPLY: [], BOUNCED: []}
    for index, (candidate, attribution) in enumerate(zip(candidates, attributions, strict=True)):
        kind = candidate.parsed.kind
        if kind == Kind.UNREADABLE:
            outcomes[index] = Outcome(State.QUARANTINED, "unreadable", candidate.parsed.reason[:500], kind)
        elif attribution.assignment_id is None:
            outcomes[index] = _quarantined(attribution, kind)
        elif kind == Kind.ANSWER:
            answers.append((index, attribution.assignment_id))
        else:
            column = AUTO_REPLY if kind == Kind.AUTO_REPLY else BOUNCED
            marks[column].append((candidate.received_at, attribution.assignment_id))
            outcomes[index] = _attributed(attribution, kind)
    for column, rows in marks.items():
        mark_email_replies(column, rows)
    if answers:
        _submit_answers(candidates, keys, attributions, answers, outcomes)
    return outcomes  # type: ignore[return-value]


def _quarantined(attribution: Attribution, kind: str) -> Outcome:
    return Outcome(State.QUARANTINED, attribution.reason, attribution.detail, kind, attribution.method, None)


def _attributed(attribution: Attribution, kind: str) -> Outcome:
    return Outcome(
        State.ATTRIBUTED,
        attribution.reason,
        attribution.detail,
        kind,
        attribution.method,
        attribution.assignment_id,
    )


def _submit_answers(candidates, keys, attributions, answers, outcomes) -> None:
    assignments = load_assignments([assignment_id for _, assignment_id in answers])
    submissions = [
        Submission(
            assignments[assignment_id],
            candidates[index].parsed.bullets,
            candidates[index].received_at,
            source_id(*keys[index]),
        )
        for index, assignment_id in answers
    ]
    results = submit_many(submissions, channel=Channel.EMAIL, strict=False)
    for (index, _), result in zip(answers, results, strict=True):
        outcomes[index] = _answer_outcome(attributions[index], result)


def _answer_outcome(attribution: Attribution, result: Receipt | SubmissionError) -> Outcome:
    outcome = _attributed(attribution, Kind.ANSWER)
    if isinstance(result, SubmissionError):
        # The sender's side (closed week, paused request, nothing written): kept with submit()'s words.
        outcome.state, outcome.reason, outcome.detail = State.REFUSED, result.code, result.message[:500]
        return outcome
    outcome.report_id, outcome.late = result.report_id, not result.on_time
    if result.duplicate:
        outcome.state, outcome.reason = State.DUPLICATE, "duplicate"
        outcome.detail = "The same message was recorded before; its report stands."
    return outcome


_UPDATE_COLUMNS = (
    "state",
    "reason",
    "detail",
    "kind",
    "attributed_by",
    "assignment_id",
    "report_id",
    "processed_at",
)


def process_stored(
    state: str = State.RECEIVED,
    *,
    batch_size: int = 500,
    limit: int | None = None,
    on_batch: Callable[[Tally], None] | None = None,
    parse: Callable[[bytes], ParsedMessage] = parse_message,
    ids: Sequence[int] | None = None,
) -> Tally:
    """Parse and attribute again every stored message in `state` (or, with `ids`, those messages
    whatever their state), batch by batch; return the counts.

    A batch is parsed outside any transaction (on SQLite a write transaction blocks the SMTP server's
    commits), then decided in one: its rows are locked and kept only if still as read (another
    processor may have taken them meanwhile; PostgreSQL skips rows locked by one), and their reports,
    marks and new states commit together, so a run that is stopped can simply be started again.
    """
    tally = Tally()
    last_id = 0
    done = 0
    chosen = InboundMessage.objects.filter(pk__in=ids) if ids is not None else None
    chosen = chosen if chosen is not None else InboundMessage.objects.filter(state=state)
    while limit is None or done < limit:
        size = batch_size if limit is None else min(batch_size, limit - done)
        rows = list(
            chosen.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", "raw", "sha256", "message_id", "envelope_to", "received_at", "state")[:size]
        )
        if not rows:
            break
        parsed = {row[0]: parse(bytes(row[1])) for row in rows}
        with transaction.atomic():
            batch = _process_rows(_still_as_read(rows), parsed)
        last_id = rows[-1][0]
        done += len(rows)
        tally.merge(batch)
        if on_batch is not None:
            on_batch(batch)
    return tally


def _still_as_read(rows: list[tuple]) -> list[tuple]:
    """The rows, locked, that nobody processed since they were read."""
    states = dict(
        InboundMessage.objects.select_for_update(skip_locked=connection.vendor == "postgresql")
        .filter(pk__in=[row[0] for row in rows])
        .values_list("pk", "state")
    )
    return [row for row in rows if states.get(row[0]) == row[6]]


def _process_rows(rows: list[tuple], parsed: dict[int, ParsedMessage]) -> Tally:
    tally = Tally()
    if not rows:
        return tally
    candidates = [
        Candidate(parsed[row_id], envelope_to.splitlines(), received_at)
        for row_id, _, _, _, envelope_to, received_at, _ in rows
    ]
    keys = [(key, sha256) for _, _, sha256, key, _, _, _ in rows]
    outcomes = decide(candidates, keys)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    assignments = ", ".join(f"{column} = %s" for column in _UPDATE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {InboundMessage._meta.db_table} SET {assignments} WHERE id = %s",
            [(*_outcome_values(outcome), now, row[0]) for outcome, row in zip(outcomes, rows, strict=True)],
        )
    for outcome, row in zip(outcomes, rows, strict=True):
        tally.add(outcome)
        if outcome.state == State.QUARANTINED:
            logger.info("Message %s quarantined: %s", row[0], outcome.reason)
    return tally


def _outcome_values(outcome: Outcome) -> tuple:
    return (
        outcome.state,
        outcome.reason,
        outcome.detail,
        str(outcome.kind),
        outcome.attributed_by,
        outcome.assignment_id,
        outcome.report_id,
    )
