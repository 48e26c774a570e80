"""The SMTP server (`lastweek smtpd`): thin, and stores raw first.

MAIL gets a temporary `451 4.7.0` when more than LASTWEEK_SMTPD_MAX_PENDING messages wait for their
commit, or when one client address sends more than LASTWEEK_SMTPD_CLIENT_RATE messages a minute.
RCPT is checked here (`550 5.1.1` for any address outside LASTWEEK_MAIL_DOMAIN); aiosmtpd refuses a
message over the size limit with `552` (the limit is also announced with the SIZE extension). DATA
hands the exact bytes and the envelope to a writer thread and answers 250 only when the writer has
committed them; a failure to store is a `451 4.3.0`, so the sending server tries again later.

The writer commits whatever the sessions handed it meanwhile in one transaction (a group commit): a
hundred concurrent senders cost about one commit, not a hundred, and each still waits for its own.

Processing (parse, attribute, submit) runs after acceptance, never before the 250: in this process in
batches (a processor thread), or in `lastweek worker` / `lastweek reprocess --state received`.

Shutdown (SIGTERM, Ctrl-C): stop listening, let the writer commit what it holds and answer those
sessions, then close the remaining connections with `421`. A message whose DATA had not finished gets
no 250, so its sender keeps it and retries: nothing accepted is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from lastweek.intake.actions import Tally, process_stored, store_raw_many

logger = logging.getLogger(__name__)

# A group commit takes at most this many messages; more wait for the next one.
_GROUP_LIMIT = 500
_MAX_RECIPIENTS = 20


@dataclass(slots=True)
class _Pending:
    raw: bytes
    envelope_from: str
    envelope_to: list[str]
    received_at: dt.datetime
    done: asyncio.Future
    loop: asyncio.AbstractEventLoop


class RawWriter:
    """A thread that commits received messages in groups and then wakes the sessions waiting on them."""

    def __init__(self, on_commit: Callable[[], None] = lambda: None) -> None:
        self.queue: queue.Queue[_Pending | None] = queue.Queue()
        self.on_commit = on_commit
        self.thread = threading.Thread(target=self._run, name="raw-writer", daemon=True)
        self.committed = 0
        self.groups = 0
        self.waiting = 0  # messages handed over whose commit has not been answered yet

    def start(self) -> None:
        self.thread.start()

    async def store(self, raw: bytes, envelope_from: str, envelope_to: list[str]) -> None:
        """Return once the message is committed; raise if it could not be."""
        loop = asyncio.get_running_loop()
        pending = _Pending(raw, envelope_from, envelope_to, timezone.now(), loop.create_future(), loop)
        self.waiting += 1  # only the event loop's thread counts, so no lock
        try:
            self.queue.put(pending)
            await pending.done
        finally:
            self.waiting -= 1

    def stop(self) -> None:
        """Commit everything handed over so far, then end the thread."""
        self.queue.put(None)
        self.thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self.queue.get()
            if first is None:
                break
            group = [first]
            while len(group) < _GROUP_LIMIT:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                group.append(item)
            self._commit(group)
        connection.close()

    def _commit(self, group: list[_Pending]) -> None:
        try:
            store_raw_many(
                [(p.raw, p.envelope_from, p.envelope_to, p.received_at) for p in group],
            )
        except Exception as error:
            logger.error("Could not store %d received messages: %s", len(group), type(error).__name__)
            connection.close()  # the next group starts on a fresh connection
            for pending in group:
                pending.loop.call_soon_threadsafe(_fail, pending.done, error)
            return
        self.committed += len(group)
        self.groups += 1
        for pending in group:
            pending.loop.call_soon_threadsafe(_succeed, pending.done)
        self.on_commit()


def _succeed(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


def _fail(future: asyncio.Future, error: Exception) -> None:
    if not future.done():
        future.set_exception(error)


class ClientRate:
    """At most `per_minute` messages a minute from one client address (0: no limit), counted in the
    current and the previous minute, weighted (a sliding window without a list of times)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.minute = -1
        self.current: dict[str, int] = {}
        self.previous: dict[str, int] = {}

    def allow(self, client: str) -> bool:
        if self.per_minute <= 0:
            return True
        now = self.clock()
        minute = int(now // 60)
        if minute != self.minute:
            self.previous = self.current if minute == self.minute + 1 else {}
            self.current, self.minute = {}, minute
        elapsed = (now % 60) / 60
        count = self.current.get(client, 0) + self.previous.get(client, 0) * (1 - elapsed)
        if count >= self.per_minute:
            return False
        self.current[client] = self.current.get(client, 0) + 1
        return True


class IntakeHandler:
    """aiosmtpd handler: a temporary refusal at MAIL when the store is falling behind or one client sends
    too fast; recipients on our domain only; DATA stored before the 250."""

    def __init__(self, writer: RawWriter, domain: str | None = None, rate: ClientRate | None = None) -> None:
        self.writer = writer
        self.domain = (domain or settings.MAIL_DOMAIN).lower()
        self.max_pending = settings.SMTPD_MAX_PENDING
        self.rate = rate or ClientRate(settings.SMTPD_CLIENT_RATE)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list
    ) -> str:
        # 451 is temporary: the sending server keeps the message and retries later, so a flood waits
        # in the senders' queues instead of in this process's memory.
        if self.writer.waiting >= self.max_pending:
            return "451 4.7.0 Too much mail is waiting to be stored; please try again later"
        if not self.rate.allow(session.peer[0] if session.peer else ""):
            return "451 4.7.0 Too many messages from your address; please try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list
    ) -> str:
        if address.rpartition("@")[2].lower() != self.domain:
            return "550 5.1.1 No such mailbox here: only addresses at this domain are accepted"
        if len(envelope.rcpt_tos) >= _MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = bytes(envelope.original_content or b"")
        sender = "" if envelope.mail_from in (None, "<>") else envelope.mail_from  # <>: a bounce
        try:
            await self.writer.store(raw, sender, list(envelope.rcpt_tos))
        except Exception:
            return "451 4.3.0 Could not store the message just now; please try again later"
        return "250 2.0.0 Message accepted"


class Processor:
    """A thread that parses and attributes stored messages in batches, woken by each commit."""

    def __init__(self, batch_size: int = 500, on_batch: Callable[[Tally], None] | None = None) -> None:
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.batch_size = batch_size
        self.on_batch = on_batch
        self.thread = threading.Thread(target=self._run, name="processor", daemon=True)
        self.tally = Tally()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Finish the batch in hand and the backlog, then end the thread."""
        self.stopping.set()
        self.wake.set()
        self.thread.join()

    def _run(self) -> None:
        while True:
            self.wake.wait(timeout=5)
            self.wake.clear()
            try:
                close_old_connections()
                self.tally.merge(process_stored(batch_size=self.batch_size, on_batch=self.on_batch))
            except Exception:
                logger.exception("Processing received mail failed; the messages stay stored for a retry")
                connection.close()
            if self.stopping.is_set():
                break
        connection.close()


class IntakeServer:
    """The listening server, its writer and (optionally) its processor, started and stopped together."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        process: bool = True,
        max_size: int | None = None,
        on_batch: Callable[[Tally], None] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.max_size = max_size or settings.SMTPD_MAX_SIZE
        self.processor = Processor(on_batch=on_batch) if process else None
        self.writer = RawWriter(on_commit=self.processor.wake.set if self.processor else lambda: None)
        self.sessions: set[SMTP] = set()
        self.server: asyncio.Server | None = None

    def _protocol(self) -> SMTP:
        handler = IntakeHandler(self.writer)
        protocol = _TrackedSMTP(
            self.sessions,
            handler,
            data_size_limit=self.max_size,
            hostname=settings.MAIL_DOMAIN,
            ident="lastweek intake",
            timeout=120,
        )
        return protocol

    async def start(self) -> None:
        self.writer.start()
        if self.processor:
            self.processor.start()
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._protocol, self.host, self.port, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, commit and answer what was handed over, close the rest with 421."""
        if self.server is not None:
            self.server.close()
        await asyncio.get_running_loop().run_in_executor(None, self.writer.stop)
        await asyncio.sleep(0)  # let the sessions just committed send their 250
        for session in list(self.sessions):
            await session.close_for_shutdown()
        if self.processor:
            await asyncio.get_running_loop().run_in_executor(None, self.processor.stop)


class _TrackedSMTP(SMTP):
    """aiosmtpd's SMTP session, remembered while connected so that shutdown can close it."""

    def __init__(self, sessions: set[SMTP], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sessions = sessions

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._sessions.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._sessions.discard(self)
        super().connection_lost(error)

    async def close_for_shutdown(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        try:
            self.transport.write(b"421 4.3.2 Service shutting down; please try again later\r\n")
        finally:
            self.transport.close()


@contextlib.contextmanager
def serve_in_thread(
    host: str = "127.0.0.1", port: int = 0, *, process: bool = True, max_size: int | None = None
) -> Iterator[IntakeServer]:
    """The server on its own event loop in a background thread (the demo, tests); port 0 picks a free
    one, readable as `server.port`. Leaving the block stops it as SIGTERM would."""
    server = IntakeServer(host, port, process=process, max_size=max_size)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    failure: list[BaseException] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as error:  # reported to the caller below
            failure.append(error)
            started.set()
            return
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="intake-smtpd", daemon=True)
    thread.start()
    started.wait(30)
    if failure:
        raise failure[0]
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
