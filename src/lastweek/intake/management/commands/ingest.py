"""`lastweek ingest PATH`: import a mailbox (mbox, Maildir or a folder of .eml files) end to end."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lastweek.intake.ingest import CHUNK_SIZE, IngestResult, default_jobs, ingest
from lastweek.intake.mailboxes import MailboxError, count_entries
from lastweek.intake.summary import print_summary
from lastweek.migration_state import require_migrated


class Command(BaseCommand):
    help = (
        "Import the replies in a mailbox (an mbox file, a Maildir, or a folder of .eml files): store each "
        "message, parse it, attribute it and record answers as reports. Safe to stop and run again: "
        "messages already stored are skipped, none is recorded twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The mbox file, Maildir or folder of .eml files.")
        parser.add_argument(
            "--jobs", type=int, default=None, help="Parsing processes (default: one per CPU core)."
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=CHUNK_SIZE,
            help=f"Messages per chunk, each written in one transaction (default {CHUNK_SIZE:,}).",
        )
        parser.add_argument("--quiet", action="store_true", help="No progress bar, only the summary.")

    def handle(self, *args, path: Path, jobs: int | None, chunk_size: int, quiet: bool, **options) -> None:
        require_migrated()
        if chunk_size < 1 or (jobs is not None and jobs < 1):
            raise CommandError("--jobs and --chunk-size must be at least 1.")
        try:
            total = count_entries(path)
        except MailboxError as error:
            raise CommandError(str(error)) from None
        stop = threading.Event()
        console = Console(stderr=True, quiet=quiet)
        columns = (
            TextColumn(f"Importing {path.name}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with self._stop_on_signals(stop), Progress(*columns, console=console) as bar:
            task = bar.add_task("ingest", total=total)
            result = ingest(
                path,
                jobs=jobs or default_jobs(),
                chunk_size=chunk_size,
                progress=lambda done: bar.update(task, completed=done),
                should_stop=stop.is_set,
            )
        self._summary(path, result)
        if result.stopped:
            self.stderr.write("Stopped on request; run the same command again to import the rest.")

    def _summary(self, path: Path, result: IngestResult) -> None:
        extra = {"messages read": result.seen, "stored before (skipped)": result.already_stored}
        if result.unreadable_files:
            extra["files that could not be read"] = result.unreadable_files
        print_summary(self.stdout, f"Import of {path}", result.tally, extra)

    @contextlib.contextmanager
    def _stop_on_signals(self, stop: threading.Event) -> Iterator[None]:
        """SIGTERM or Ctrl-C: finish the chunk in hand, then stop (a second one stops at once)."""

        def finish_then_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()
            self.stderr.write("Stopping after the chunk in hand …")
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)

        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
        for signum in previous:
            signal.signal(signum, finish_then_stop)
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
