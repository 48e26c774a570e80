"""`lastweek send-requests CYCLE_ID`: send a cycle's request mail, once to each asked person."""

import contextlib
import io
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from lastweek.directives.models import Cycle, Directive
from lastweek.directives.outbound import (
    DEFAULT_CONNECTIONS,
    MailServerUnavailable,
    SendResult,
    send_requests,
)
from lastweek.mail import SendingLocked
from lastweek.migration_state import require_migrated


class Command(BaseCommand):
    help = (
        "Send the request email of an open cycle to everyone asked (required or voluntary), never to paused "
        "or exempt people. Safe to stop and run again: nobody gets a request twice, and a run that was "
        "interrupted is finished by the next one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("cycle_id", type=int, help="The id of the cycle whose requests to send.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Requests claimed per database transaction (default 500).",
        )
        parser.add_argument(
            "--rate",
            type=float,
            default=None,
            help="At most this many messages a second (default: LASTWEEK_SEND_RATE; 0: no limit).",
        )
        parser.add_argument(
            "--connections",
            type=int,
            default=DEFAULT_CONNECTIONS,
            help=f"Parallel SMTP connections to the mail server (default {DEFAULT_CONNECTIONS}).",
        )
        parser.add_argument("--quiet", action="store_true", help="No progress bar, only the summary.")

    def handle(
        self,
        *args,
        cycle_id: int,
        batch_size: int,
        rate: float | None,
        connections: int,
        quiet: bool,
        **options,
    ) -> None:
        require_migrated()
        if batch_size < 1 or connections < 1:
            raise CommandError("--batch-size and --connections must be at least 1.")
        cycle = self._open_cycle(cycle_id)
        stop = threading.Event()
        with self._stop_on_signals(stop):
            result = self._send(
                cycle, stop, batch_size=batch_size, rate=rate, connections=connections, quiet=quiet
            )
        self._summary(cycle, result)
        if result.stopped:
            self.stderr.write("Stopped on request; the next run sends the rest.")

    def _send(self, cycle: Cycle, stop: threading.Event, *, quiet: bool, **options) -> SendResult:
        console = Console(stderr=True, quiet=quiet)
        with Progress(
            TextColumn(f"Week {cycle.week} requests"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("send", total=None)
            try:
                return send_requests(
                    cycle,
                    stop=stop,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                    **options,
                )
            except SendingLocked:
                raise CommandError(
                    f"Another `lastweek send-requests {cycle.pk}` is running; "
                    "let it finish (or stop it) first."
                ) from None
            except MailServerUnavailable as unavailable:
                bar.stop()
                self._summary(cycle, unavailable.result)
                raise CommandError(
                    f"The mail server stopped answering ({unavailable}). Nothing was sent twice: run the "
                    "command again when the server is back, and it sends the rest."
                ) from None

    def _open_cycle(self, cycle_id: int) -> Cycle:
        cycle = Cycle.objects.select_related("directive").filter(pk=cycle_id).first()
        if cycle is None:
            raise CommandError(
                f"There is no cycle {cycle_id}. `lastweek cycle list` shows the cycles and their ids."
            )
        if cycle.state != Cycle.State.OPEN:
            raise CommandError(
                f"Cycle {cycle_id} (week {cycle.week}) is closed; requests go out only while open."
            )
        if cycle.directive.status != Directive.Status.ACTIVE:
            raise CommandError(
                f"Directive {cycle.directive_id} ({cycle.directive}) is {cycle.directive.status}; "
                "requests go out only for an active directive."
            )
        return cycle

    @contextlib.contextmanager
    def _stop_on_signals(self, stop: threading.Event) -> Iterator[None]:
        """The first SIGTERM or Ctrl-C lets the messages in flight finish, then stops; a second one
        stops at once (which is still safe: nothing is ever sent twice)."""

        def finish_then_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()
            self.stderr.write("Stopping after the messages in flight…")
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)

        if threading.current_thread() is not threading.main_thread():
            yield  # signals are delivered to the main thread only
            return
        previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
        for signum in previous:
            signal.signal(signum, finish_then_stop)
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _summary(self, cycle: Cycle, result: SendResult) -> None:
        table = Table(title=f"Requests for week {cycle.week} (cycle {cycle.pk}), via {settings.EMAIL_HOST}")
        columns = {
            "sent": result.sent,
            "of which resumed": result.recovered,
            "refused": result.failed,
            "unconfirmed": result.unconfirmed,
            "sent before": result.already_sent,
            "not asked": result.skipped_not_asked,
        }
        for name in columns:
            table.add_column(name, justify="right")
        table.add_row(*(f"{value:,}" for value in columns.values()))
        output = io.StringIO()
        Console(file=output, width=110).print(table)
        self.stdout.write(output.getvalue().rstrip("\n"))
