"""`lastweek ingest PATH`: a mailbox (mbox, Maildir, folder of .eml) imported end to end.

Worker processes read, hash and parse chunks of messages (parse_message is pure); this process
attributes each chunk, submits its answers in bulk (`reports.submit_many`) and writes its raw messages
with their outcome (COPY on PostgreSQL), all in one transaction per chunk. So an interrupted import
leaves whole chunks behind, and running it again skips every message already stored (same bytes, same
Message-ID): nothing is written twice and nothing is lost.

Received time, which decides lateness, is the message's Date header; when that is missing or in the
future, the file's modification time (Maildir, .eml), else the time of the import.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from lastweek.intake.actions import Outcome, Tally, decide, received_time
from lastweek.intake.attribute import Candidate
from lastweek.intake.mailboxes import Read, entries, parsed_chunks
from lastweek.intake.models import InboundMessage
from lastweek.rows import id_filter, write_rows

logger = logging.getLogger(__name__)

try:  # what a COPY raises on a duplicate: the driver's own error, not Django's wrapper
    from psycopg import IntegrityError as DatabaseIntegrityError
except ImportError:  # pragma: no cover
    DatabaseIntegrityError = IntegrityError

CHUNK_SIZE = 1_000
_COLUMNS = (
    "raw",
    "sha256",
    "message_id",
    "size",
    "envelope_from",
    "envelope_to",
    "source",
    "source_ref",
    "received_at",
    "state",
    "reason",
    "detail",
    "kind",
    "attributed_by",
    "assignment_id",
    "report_id",
    "processed_at",
)


@dataclass
class IngestResult:
    tally: Tally
    seen: int = 0
    already_stored: int = 0
    unreadable_files: int = 0
    stopped: bool = False


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def ingest(
    path: Path,
    *,
    jobs: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> IngestResult:
    """Import every message of the mailbox at `path`; return what became of them.

    `jobs` worker processes parse (1: parse in this process, no pool). `progress` is called with the
    number of messages handled so far after each chunk.
    """
    jobs = jobs or default_jobs()
    result = IngestResult(Tally())
    for reads in parsed_chunks(entries(path), jobs, chunk_size):
        _write_chunk(reads, result)
        if progress is not None:
            progress(result.seen)
        if should_stop():
            result.stopped = True
            break
    return result


def _write_chunk(reads: list[Read | tuple[str, str]], result: IngestResult) -> None:
    result.seen += len(reads)
    messages = []
    for read in reads:
        if isinstance(read, Read):
            messages.append(read)
        else:
            result.unreadable_files += 1
            logger.warning("Skipped %s: %s", *read)
    for attempt in range(2):
        try:
            with transaction.atomic():
                fresh = _not_stored(messages)
                tally = _decide_and_store(fresh) if fresh else Tally()
            break
        except (IntegrityError, DatabaseIntegrityError):
            # Another writer (the SMTP server, a second import) stored one of them meanwhile:
            # the retry sees it as already stored.
            if attempt:
                raise
    result.already_stored += len(messages) - len(fresh)
    result.tally.merge(tally)


def _not_stored(messages: list[Read]) -> list[Read]:
    """The messages of a chunk not stored yet, once each."""
    where, params = id_filter("sha256", {m.sha256 for m in messages})
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT sha256, message_id FROM {InboundMessage._meta.db_table} WHERE {where}", params
        )
        stored = set(cursor.fetchall())
    fresh: dict[tuple[str, str], Read] = {}
    for message in messages:
        identity = (message.sha256, message.key)
        if identity not in stored and identity not in fresh:
            fresh[identity] = message
    return list(fresh.values())


def _decide_and_store(messages: list[Read]) -> Tally:
    now = timezone.now()
    candidates = [
        Candidate(
            message.parsed,
            (),
            received_time(message.parsed, now) or _file_time(message.mtime) or now,
        )
        for message in messages
    ]
    outcomes = decide(candidates, [(m.key, m.sha256) for m in messages])
    adapt = connection.ops.adapt_datetimefield_value
    processed_at = adapt(now)
    rows = [
        _row(message, candidate, outcome, processed_at, adapt)
        for message, candidate, outcome in zip(messages, candidates, outcomes, strict=True)
    ]
    _write_rows(rows)
    tally = Tally()
    for outcome in outcomes:
        tally.add(outcome)
    return tally


def _file_time(mtime: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(mtime, tz=dt.UTC) if mtime is not None else None


def _row(message: Read, candidate: Candidate, outcome: Outcome, now, adapt) -> tuple:
    """The raw message's row; `now` is adapted already, `adapt` the database's datetime adapter."""
    return (
        message.raw,
        message.sha256,
        message.key,
        len(message.raw),
        "",
        "",
        InboundMessage.Source.IMPORT,
        message.ref[:500],
        adapt(candidate.received_at),
        outcome.state,
        outcome.reason,
        outcome.detail,
        str(outcome.kind),
        outcome.attributed_by,
        outcome.assignment_id,
        outcome.report_id,
        now,
    )


def _write_rows(rows: list[tuple]) -> None:
    with connection.cursor() as cursor:
        write_rows(cursor, InboundMessage._meta.db_table, _COLUMNS, rows)
