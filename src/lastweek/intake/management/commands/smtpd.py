"""`lastweek smtpd --host H --port P`: the SMTP server that receives replies, raw first."""

from __future__ import annotations

import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lastweek.intake.smtp import IntakeServer
from lastweek.migration_state import require_migrated


class Command(BaseCommand):
    help = (
        "Receive replies by SMTP for addresses at LASTWEEK_MAIL_DOMAIN. A message is answered 250 only "
        "once it is stored in the database; then it is parsed and attributed in batches. Stop with "
        "SIGTERM or Ctrl-C: what was accepted is kept, what was not gets no 250 and is retried by its sender."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=2525, help="Port to listen on (default 2525).")
        parser.add_argument(
            "--max-size",
            type=int,
            default=None,
            help="Largest message in bytes, larger ones get 552 (default LASTWEEK_SMTPD_MAX_SIZE).",
        )
        parser.add_argument(
            "--no-process",
            action="store_true",
            help="Only store; leave parsing and attribution to `lastweek worker` or `lastweek reprocess`.",
        )

    def handle(self, *args, host: str, port: int, max_size: int | None, no_process: bool, **options) -> None:
        require_migrated()
        server = IntakeServer(host, port, process=not no_process, max_size=max_size)
        try:
            asyncio.run(self._serve(server))
        except OSError as error:
            raise CommandError(
                f"Cannot listen on {host}:{port} ({error.strerror}). Is another server using the port?"
            ) from None

    async def _serve(self, server: IntakeServer) -> None:
        await server.start()
        self.stdout.write(
            f"Receiving mail for @{settings.MAIL_DOMAIN} on {server.host}:{server.port} "
            f"(messages up to {server.max_size:,} bytes); SIGTERM or Ctrl-C stops.",
        )
        self.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        self.stderr.write("Stopping: committing what was received, then closing the connections …")
        await server.stop()
        self.stderr.write(f"Stopped; {server.writer.committed:,} messages stored in this run.")
