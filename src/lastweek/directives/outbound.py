"""Outbound request mail: one message per asked assignee of a cycle, exactly once, at a steady rate.

How "exactly once" holds across crashes and restarts:
 1. Claim: a batch of asked assignments without request mail gets RequestMail rows (state "claimed",
    with their Message-ID and verification code) in one transaction.
 2. Send each: its hand-over is appended to a local journal just before the final dot of SMTP DATA
    (see lastweek.mail: transport.py and journal.py); once per batch the database records the batch's
    hand-overs as "handed" and the messages the server accepted as "sent", and the journal is emptied.
 3. A later run first records the journal an interrupted run left, then sends the rows still
    "claimed", with the same Message-ID and code, then claims new batches. "handed", "sent" and
    "failed" rows are never sent again.
A lock per cycle keeps two runs from sending the same batch.

All of it runs in the calling thread: the pipelined sender (pipeline.py) drives every SMTP connection
from one selector loop, so the hand-overs of all connections whose DATA was just accepted are recorded
in one journal write and their final dots written microseconds later, whatever the number of
connections. More connections buy throughput against a mail server that answers slowly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from lastweek.codes import new_verify_code
from lastweek.directives.models import ASKED_MODES, Assignment, Cycle, RequestMail
from lastweek.directives.request_message import Recipient, RequestComposer
from lastweek.mail import (
    DkimSigner,
    HandOverJournal,
    Outcome,
    Outgoing,
    PipelinedSender,
    SendReport,
    SmtpBackend,
    TokenBucket,
    journal_path,
    reply_address,
    sendable,
    sending_lock,
    smtp_data,
)

logger = logging.getLogger(__name__)

try:  # what a COPY raises on a duplicate code: the driver's own error, not Django's wrapper
    from psycopg import IntegrityError as DatabaseIntegrityError
except ImportError:  # pragma: no cover
    DatabaseIntegrityError = IntegrityError

Progress = Callable[[int, int], None]

DEFAULT_CONNECTIONS = 2
# Everything a message needs about its assignee, read in one query per batch (no per-message query).
_ASSIGNEE_FIELDS = (
    "id",
    "employee__first_name",
    "employee__last_name",
    "employee__time_zone",
    "due_at",
    "on_leave",
    "agency__name",
    "manager__first_name",
    "manager__last_name",
)
_CLAIM_ATTEMPTS = 5
_CLAIM_COLUMNS = (
    "assignment_id, cycle_id, message_id, verify_code, to_address, claimed_at, state, attempts, last_error"
)
_CLAIM_SQL = (
    f"INSERT INTO {RequestMail._meta.db_table} ({_CLAIM_COLUMNS})"
    f" VALUES (%s, %s, %s, %s, %s, %s, '{RequestMail.State.CLAIMED}', 0, '')"
)
# An arbitrary constant naming this job's advisory locks, so they cannot clash with other jobs'.


@dataclass
class SendResult:
    """What one run did. `recovered` is the part of `sent` that an interrupted run had claimed;
    `unconfirmed` messages lost their connection after the final dot: perhaps delivered, never resent."""

    sent: int = 0
    recovered: int = 0
    failed: int = 0
    unconfirmed: int = 0
    skipped_not_asked: int = 0
    already_sent: int = 0
    stopped: bool = False


class MailServerUnavailable(Exception):
    """The mail server stopped answering; what was done before is in `result`."""

    def __init__(self, result: SendResult, reason: str) -> None:
        super().__init__(reason)
        self.result = result


def send_requests(
    cycle: Cycle,
    *,
    batch_size: int = 500,
    rate: float | None = None,
    progress: Progress | None = None,
    connection: SmtpBackend | None = None,
    connections: int = DEFAULT_CONNECTIONS,
    stop: threading.Event | None = None,
) -> SendResult:
    """Send the cycle's request mail to every asked (required or voluntary) assignee who has not had
    it, never to paused or exempt ones, at most `rate` messages a second (default SEND_RATE; 0: no
    limit), over `connections` parallel SMTP connections, or over the one `connection` given.

    Returns the counts. Once `stop` is set, messages not yet started stay claimed (the next run sends
    them first) and the call returns when the ones in flight are done.
    Call it outside a transaction: each batch's hand-overs must be committed when it ends.
    Raises SendingLocked when another run holds this cycle, and MailServerUnavailable when the server
    stops answering (what was not handed over stays claimed and goes first next time).
    """
    rate = settings.SEND_RATE if rate is None else rate
    backends = [connection] if connection is not None else [SmtpBackend() for _ in range(max(1, connections))]
    with sending_lock(cycle.pk), _cheap_commits():
        _replay_journal(cycle)
        _drop_claims_no_longer_asked(cycle)
        run = _Run(cycle, progress, stop or threading.Event(), HandOverJournal(journal_name(cycle)))
        signer = DkimSigner(processes=len(os.sched_getaffinity(0)))
        try:
            with PipelinedSender(backends, TokenBucket(rate), run.mark_handed, run.halted) as sender:
                run.send_all(sender, RequestComposer(cycle), signer, batch_size)
        finally:
            signer.close()
            # Everything handed over is in the database once the last batch is recorded.
            run.journal.close(remove=not run.handed)
    return run.result


class _Run:
    """One run: the counts, and all its database work (done in the calling thread only)."""

    def __init__(
        self, cycle: Cycle, progress: Progress | None, stop: threading.Event, journal: HandOverJournal
    ) -> None:
        self.cycle = cycle
        self.journal = journal
        self.handed: list[int] = []
        self.progress = progress or (lambda done, total: None)
        self.stop = stop
        self.cursor = connection.cursor()
        self.sent_rows: list[tuple[object, int]] = []
        self.unavailable = ""
        self.crash: BaseException | None = None
        asked = Assignment.objects.filter(cycle=cycle, mode__in=ASKED_MODES)
        self.result = SendResult(
            skipped_not_asked=Assignment.objects.filter(cycle=cycle).count() - asked.count(),
            already_sent=RequestMail.objects.filter(cycle=cycle)
            .exclude(state=RequestMail.State.CLAIMED)
            .count(),
        )
        self.total = asked.count() - self.result.already_sent
        self.done = 0
        table = RequestMail._meta.db_table
        self.record_sql = (
            f"UPDATE {table} SET state = %s, sent_at = %s, attempts = attempts + 1"
            " WHERE assignment_id = %s AND state = %s"
        )
        self.failed_sql = (
            f"UPDATE {table} SET state = %s, last_error = %s, attempts = attempts + %s"
            " WHERE assignment_id = %s"
        )

    def send_all(
        self, sender: PipelinedSender, composer: RequestComposer, signer: DkimSigner, batch_size: int
    ) -> None:
        self.progress(0, self.total)
        for batch in _left_claimed(self.cycle, batch_size):
            self.send_batch(sender, self.prepare(batch, composer, signer))
            if self.halted():
                break
        after_employee = 0
        while not self.halted():
            batch, after_employee = _claim_batch(self.cycle, after_employee, batch_size)
            if after_employee is None:
                break
            self.send_batch(sender, self.prepare(batch, composer, signer))
        if self.crash is not None:
            raise self.crash
        if self.unavailable:
            raise MailServerUnavailable(self.result, self.unavailable)
        self.result.stopped = self.stop.is_set()

    def halted(self) -> bool:
        """Asked to stop, or nothing more can be sent."""
        return self.stop.is_set() or bool(self.unavailable) or self.crash is not None

    def prepare(
        self, batch: list[Recipient], composer: RequestComposer, signer: DkimSigner
    ) -> list[Outgoing]:
        """The batch's messages, composed and signed. The envelope sender is the assignment's own
        reply address, so a bounce or an out-of-office notice comes back naming its assignment."""
        recipients, messages, senders = [], [], []
        for recipient in batch:
            if not sendable(recipient.to_address):
                self._record(
                    SendReport(
                        recipient, Outcome.REFUSED, "not a plain ASCII address; not sent", attempted=False
                    )
                )
                continue
            reply_to = reply_address(recipient.assignment_id)
            recipients.append(recipient)
            senders.append(reply_to)
            messages.append(composer.compose(recipient, reply_to=reply_to))
        return [
            Outgoing(r.assignment_id, r.to_address, envelope_sender, smtp_data(message), r)
            for r, envelope_sender, message in zip(
                recipients, senders, signer.sign_all(messages), strict=True
            )
        ]

    def send_batch(self, sender: PipelinedSender, batch: list[Outgoing]) -> None:
        try:
            for report in sender.send(batch):
                self._record(report)
        finally:
            self.record_sent()

    def mark_handed(self, assignment_ids: list[int]) -> None:
        """Record the hand-over in the journal; the database follows at the end of the batch."""
        self.journal.append(assignment_ids)
        self.handed.extend(assignment_ids)

    def _record(self, report: SendReport) -> None:
        recipient = report.recipient
        if report.outcome is Outcome.SENT:
            self.sent_rows.append((report.at, recipient.assignment_id))
            self.result.sent += 1
            self.result.recovered += recipient.recovered
        elif report.outcome is Outcome.REFUSED:
            self.cursor.execute(
                self.failed_sql,
                [
                    RequestMail.State.FAILED,
                    report.detail[:500],
                    int(report.attempted),
                    recipient.assignment_id,
                ],
            )
            self.result.failed += 1
            logger.info("Assignment %s: request refused: %s", recipient.assignment_id, report.detail)
        elif report.outcome is Outcome.UNCONFIRMED:
            self.result.unconfirmed += 1
            logger.warning(
                "Assignment %s: no reply after the final dot (%s)", recipient.assignment_id, report.detail
            )
        elif report.outcome is Outcome.UNAVAILABLE:
            # The server is gone: no more work goes out; what was not handed over stays claimed.
            self.unavailable = self.unavailable or report.detail
            return
        else:
            self.crash = self.crash or report.error
            return
        self.done += 1
        self.progress(self.done, self.total)

    def record_sent(self) -> None:
        """Write the batch's hand-overs in one statement: "sent", with the time of the 250, for those the
        server accepted, "handed" for the rest; then empty the journal. A message goes from "claimed"
        to "sent" in one update (the journal covered the moment in between)."""
        if not self.handed:
            return
        sent_at = dict((assignment_id, at) for at, assignment_id in self.sent_rows)
        rows = [
            (
                RequestMail.State.SENT if assignment_id in sent_at else RequestMail.State.HANDED,
                sent_at.get(assignment_id),
                assignment_id,
            )
            for assignment_id in dict.fromkeys(self.handed)
        ]
        table = RequestMail._meta.db_table
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # One statement for the batch instead of one per message.
                self.cursor.execute(
                    f"UPDATE {table} AS m SET state = v.state, sent_at = v.at, attempts = m.attempts + 1"
                    " FROM unnest(%s::varchar[], %s::timestamptz[], %s::bigint[]) AS v(state, at, id)"
                    " WHERE m.assignment_id = v.id AND m.state = %s",
                    [*map(list, zip(*rows, strict=True)), RequestMail.State.CLAIMED],
                )
            else:
                to_db = connection.ops.adapt_datetimefield_value
                self.cursor.executemany(
                    self.record_sql,
                    [
                        (state, to_db(at), assignment_id, RequestMail.State.CLAIMED)
                        for state, at, assignment_id in rows
                    ],
                )
        self.journal.clear()
        self.handed.clear()
        self.sent_rows.clear()


def journal_name(cycle: Cycle) -> str:
    """The name of the cycle's hand-over journal (a file in the data directory, see lastweek.mail)."""
    return f"cycle-{cycle.pk}"


def _replay_journal(cycle: Cycle) -> int:
    """Record as handed what an interrupted run handed over but had not yet written to the database."""
    path = journal_path(journal_name(cycle))
    if not path.exists():
        return 0
    ids = [int(line) for line in path.read_text().split() if line.isdigit()]
    recorded = 0
    if ids:
        with transaction.atomic():
            recorded = RequestMail.objects.filter(
                cycle=cycle, assignment_id__in=ids, state=RequestMail.State.CLAIMED
            ).update(state=RequestMail.State.HANDED, attempts=F("attempts") + 1)
        logger.info(
            "Cycle %s: %d hand-overs recorded from the journal of an interrupted run", cycle.pk, recorded
        )
    path.unlink()
    return recorded


def _drop_claims_no_longer_asked(cycle: Cycle) -> None:
    """Claims left by an interrupted run for people paused or exempted since: never handed over, so
    they can go; the person is simply not asked."""
    RequestMail.objects.filter(cycle=cycle, state=RequestMail.State.CLAIMED).exclude(
        assignment__mode__in=ASKED_MODES
    ).delete()


def _left_claimed(cycle: Cycle, batch_size: int) -> Iterator[list[Recipient]]:
    """The rows an interrupted run claimed and never handed over, in batches, as they were claimed."""
    after_id = 0
    while True:
        rows = (
            Assignment.objects.filter(
                cycle=cycle,
                id__gt=after_id,
                mode__in=ASKED_MODES,
                request_mail__state=RequestMail.State.CLAIMED,
            )
            .order_by("id")
            .values_list(
                *_ASSIGNEE_FIELDS,
                "request_mail__to_address",
                "request_mail__message_id",
                "request_mail__verify_code",
            )[:batch_size]
        )
        batch = [_recipient(row[:-3], *row[-3:], recovered=True) for row in rows]
        if not batch:
            return
        yield batch
        after_id = batch[-1].assignment_id


def _claim_batch(cycle: Cycle, after_employee: int, batch_size: int) -> tuple[list[Recipient], int | None]:
    """Claim up to `batch_size` asked assignments (of employees with ids above `after_employee`) that
    have no request mail; return them and the last employee id looked at (None when there are no more).

    The mode is checked here, in the claiming transaction, so a pause decided before the claim is
    always obeyed. The walk follows the (cycle, employee) unique index: along the primary key it would
    read every earlier cycle's assignments first. The joins the message needs are made for the batch's
    ids only, and which of them already have request mail is a lookup by assignment id: planned from
    estimates that go stale within a run (the tables grow by a batch at a time), one query would join
    every row of the cycle, or hash every request sent so far, for each batch. Message-IDs contain the
    assignment id and cannot collide; a verification code can (50 random bits, kept forever), and then
    the batch is claimed again with fresh codes.
    """
    asked = Assignment.objects.filter(mode__in=ASKED_MODES)
    with transaction.atomic():
        keys = list(
            asked.filter(cycle=cycle, employee_id__gt=after_employee)
            .order_by("employee_id")
            .values_list("id", "employee_id")[:batch_size]
        )
        if not keys:
            return [], None
        last_employee = keys[-1][1]
        ids = [assignment_id for assignment_id, _ in keys]
        mailed = set(
            RequestMail.objects.filter(assignment_id__in=ids).values_list("assignment_id", flat=True)
        )
        wanted = [assignment_id for assignment_id in ids if assignment_id not in mailed]
        if not wanted:
            return [], last_employee
        rows = list(
            asked.filter(id__in=wanted).order_by("id").values_list(*_ASSIGNEE_FIELDS, "employee__email")
        )
        claimed_at = connection.ops.adapt_datetimefield_value(timezone.now())
        for attempt in range(1, _CLAIM_ATTEMPTS + 1):
            batch = [
                _recipient(row[:-1], row[-1], new_message_id(cycle, row[0]), new_verify_code())
                for row in rows
            ]
            try:
                rows_out = [
                    (r.assignment_id, cycle.pk, r.message_id, r.verify_code, r.to_address, claimed_at)
                    for r in batch
                ]
                with transaction.atomic(), connection.cursor() as cursor:
                    _insert_claims(cursor, rows_out)
                return batch, last_employee
            except (IntegrityError, DatabaseIntegrityError):
                if attempt == _CLAIM_ATTEMPTS:
                    raise
                logger.info("Verification code collision in a batch of %s; drawing new codes", len(batch))
    raise AssertionError("unreachable")


def _insert_claims(cursor, rows: list[tuple]) -> None:
    """COPY on PostgreSQL (a tenth of the time of row-by-row inserts, on the thread that also serves every
    hand-over); executemany elsewhere."""
    if connection.vendor != "postgresql":
        cursor.executemany(_CLAIM_SQL, rows)
        return
    with cursor.copy(f"COPY {RequestMail._meta.db_table} ({_CLAIM_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row, RequestMail.State.CLAIMED, 0, ""))


def _recipient(
    row: tuple, to_address: str, message_id: str, verify_code: str, *, recovered: bool = False
) -> Recipient:
    assignment_id, first, last, time_zone, due_at, on_leave, agency, manager_first, manager_last = row
    manager = f"{manager_first} {manager_last}" if manager_first is not None else ""
    return Recipient(
        assignment_id,
        to_address,
        message_id,
        verify_code,
        first,
        last,
        time_zone,
        due_at,
        on_leave,
        agency,
        manager,
        recovered,
    )


def new_message_id(cycle: Cycle, assignment_id: int) -> str:
    """`<2026-W48.{assignment id}.{random}@MAIL_DOMAIN>`: unique by its assignment id; the random part
    keeps it unguessable."""
    return f"<{cycle.week}.{assignment_id}.{secrets.token_hex(4)}@{settings.MAIL_DOMAIN}>"


@contextlib.contextmanager
def _cheap_commits() -> Iterator[None]:
    """Make the per-batch commits cheap.

    PostgreSQL: `synchronous_commit = off` for this session. A commit then returns before its WAL
    reaches disk, but it is in PostgreSQL's memory: a killed sender loses nothing. Only a crash of
    PostgreSQL itself (or its machine) within the last few hundred milliseconds could lose "handed"
    marks; those messages would then be sent a second time. SQLite already runs with
    synchronous=NORMAL in WAL mode (settings.py), which survives a killed process the same way.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")
