"""Opening a cycle for a 2.3 M-employee organization on PostgreSQL, and handing request mail to an SMTP sink.

Prints, next to naive baselines measured in the same run:
- assignments frozen per second by `open_cycle` (goal: 2.3 M in ≤ 60 s), against one ORM
  `participation()` + `save()` per person on a sample;
- request emails rendered and handed to a local aiosmtpd sink per second by `send_requests` (goal
  ≥ 2,000/s), against Django's `send_mail()` per message on a sample;
- peak RSS of each measurement (each runs in its own process).

    .venv/bin/python bench/cycle_open.py [--employees 2300000] [--mails 100000] [--reuse]

The roster is generated and imported once into the database `lastweek_bench_cycle`; `--reuse` keeps it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import bench_database

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/test"
DATABASE = "lastweek_bench_cycle"
WEEK = "2026-W48"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=2_300_000)
    parser.add_argument("--mails", type=int, default=100_000, help="request emails to hand to the sink")
    parser.add_argument("--naive-sample", type=int, default=10_000, help="people for the per-row baseline")
    parser.add_argument("--naive-mails", type=int, default=2_000, help="messages for the send_mail baseline")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded bench database")
    parser.add_argument("--child", nargs=2, metavar=("STEP", "ARG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(*args.child)))
        return
    console = Console(width=130)
    url = args.postgres.rsplit("/", 1)[0] + f"/{DATABASE}"
    if not (args.reuse and bench_database.loaded(url)):
        bench_database.load(console, args.postgres, url, args.employees)
    steps = [
        ("open_cycle: assignments frozen", "open", "0"),
        (f"naive: participation() + save() × {args.naive_sample:,}", "naive-open", str(args.naive_sample)),
        (f"send_requests: {args.mails:,} emails to an SMTP sink", "send", str(args.mails)),
        (f"send_requests, 4 connections: {args.mails:,} emails", "send4", str(args.mails)),
        (f"send_requests to a lean sink: {args.mails:,} emails", "send-lean", str(args.mails)),
        (f"send_requests, 4 connections, lean sink: {args.mails:,}", "send4-lean", str(args.mails)),
        (f"naive: send_mail() × {args.naive_mails:,}", "naive-send", str(args.naive_mails)),
    ]
    results = {}
    for title, step, arg in steps:
        console.print(f"  {title} …")
        results[step] = _child(step, arg, url)
    _print(console, args, results)


def _print(console: Console, args, results: dict) -> None:
    table = Table(title=f"Cycle open and request mail, {results['open']['rows']:,} employees (PostgreSQL)")
    for column in ("measurement", "items", "seconds", "items/s", "× naive", "peak RSS MB"):
        table.add_column(column, justify="left" if column == "measurement" else "right", no_wrap=True)
    printed: set[str] = set()
    pairs = [
        ("open", "naive-open", "assignments"),
        ("send", "naive-send", "messages"),
        ("send4", "naive-send", "messages"),
        ("send-lean", "naive-send", "messages"),
        ("send4-lean", "naive-send", "messages"),
    ]
    for fast, naive, unit in pairs:
        ratio = results[fast]["per_s"] / results[naive]["per_s"]
        shown = f"{ratio:,.1f}×" if ratio < 10 else f"{ratio:,.0f}×"
        for key, times in ((fast, shown), (naive, "1×")):
            if key in printed:
                continue
            printed.add(key)
            result = results[key]
            table.add_row(
                f"{result['label']} ({unit})",
                f"{result['rows']:,}",
                f"{result['seconds']:,.2f}",
                f"{result['per_s']:,.0f}",
                times,
                f"{result['peak_rss_mb']:,.0f}",
            )
    console.print(table)
    console.print(
        "Goals: all assignments of a 2.3 M organization in ≤ 60 s; ≥ 2,000 request emails/s to a local sink."
    )


def _child(step: str, arg: str, url: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", step, arg],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "lastweek.settings"},
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def run_child(step: str, arg: str) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    directive = _directive(step)
    rows, label, seconds = STEPS[step](directive, int(arg))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"label": label, "rows": rows, "seconds": seconds, "per_s": rows / seconds, "peak_rss_mb": peak}


def _directive(step: str):
    """A fresh directive per measurement, with the kinds of policies agencies set."""
    from django.db.models import Count

    from lastweek.directives.actions import set_policy
    from lastweek.directives.models import Directive, Mode
    from lastweek.org.models import Agency, Unit

    directive = Directive.objects.create(
        title=f"Bench {step} {time.time_ns()}", sender_name="Office of Personnel Management", status="active"
    )
    agencies = list(Agency.objects.annotate(n=Count("employees")).order_by("-n"))
    set_policy(
        directive, agency=agencies[1], mode=Mode.PAUSED, reason="Paused by the agency head", actor=None
    )
    set_policy(directive, agency=agencies[2], mode=Mode.VOLUNTARY, reason="Voluntary pilot", actor=None)
    set_policy(directive, agency=agencies[3], mode=Mode.EXEMPT, reason="National security", actor=None)
    for unit in Unit.objects.filter(agency=agencies[0], depth=1).order_by("id")[:20]:
        set_policy(directive, unit=unit, mode=Mode.VOLUNTARY, reason="Field offices", actor=None)
    if step.startswith("send"):
        directive.whole_organization = False
        directive.save()
    return directive


def _open(directive, _: int) -> tuple[int, str, float]:
    from lastweek.directives.actions import open_cycle

    started = time.perf_counter()
    cycle = open_cycle(directive, WEEK)
    return cycle.assignment_count, "open_cycle", time.perf_counter() - started


def _naive_open(directive, sample: int) -> tuple[int, str, float]:
    """The obvious way: ask participation() about each person and save an Assignment."""
    from django.utils import timezone

    from lastweek.directives.models import Assignment, Cycle
    from lastweek.directives.participation import participation
    from lastweek.org.models import Employee

    now = timezone.now()
    cycle = Cycle.objects.create(
        directive=directive, week=WEEK, week_start=now.date(), opens_at=now, deadline=now, closes_at=now
    )
    started = time.perf_counter()
    for employee in Employee.objects.select_related("unit").order_by("id")[:sample]:
        decision = participation(employee, cycle)
        Assignment.objects.create(
            cycle=cycle,
            employee=employee,
            agency_id=employee.agency_id,
            unit_id=employee.unit_id,
            manager_id=employee.manager_id,
            mode=decision.mode,
            source=decision.source,
            policy_id=decision.policy_id,
            due_at=cycle.deadline,
        )
    return sample, "naive open", time.perf_counter() - started


def _audience(directive, mails: int) -> None:
    """Limit the directive to whole agencies (smallest first) adding up to about `mails` people."""
    from django.db.models import Count

    from lastweek.org.models import Agency

    total = 0
    for agency in Agency.objects.annotate(n=Count("employees")).order_by("n"):
        if total >= mails:
            break
        directive.audience_agencies.add(agency)
        total += agency.n


def _send(directive, mails: int, connections: int = 1, lean: bool = False) -> tuple[int, str, float]:
    from django.conf import settings

    from lastweek.directives.actions import open_cycle
    from lastweek.directives.outbound import send_requests

    _audience(directive, mails)
    cycle = open_cycle(directive, WEEK)
    with _sink(lean) as port:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        started = time.perf_counter()
        result = send_requests(cycle, rate=0, connections=connections)
        seconds = time.perf_counter() - started
    sink = "lean sink" if lean else "aiosmtpd"
    return result.sent, f"send_requests, {connections} conn., {sink}", seconds


def _naive_send(directive, count: int) -> tuple[int, str, float]:
    """The obvious way: Django's send_mail() per person (a connection per message), no records."""
    from django.conf import settings
    from django.core.mail import send_mail

    from lastweek.org.models import Employee

    people = list(Employee.objects.order_by("id").values_list("first_name", "email")[:count])
    with _sink() as port:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        started = time.perf_counter()
        for first_name, email in people:
            send_mail(directive.question, f"Dear {first_name},\n\n{directive.question}\n", None, [email])
        seconds = time.perf_counter() - started
    return count, "naive send_mail", seconds


LEAN_SINK = """
import asyncio, socket, sys

async def session(reader, writer):
    # Just enough SMTP for a benchmark: replies in order, so pipelined commands work too.
    writer.write(b"220 sink ESMTP\\r\\n")
    while line := await reader.readline():
        verb = line[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            writer.write(b"250-sink\\r\\n250-PIPELINING\\r\\n250 8BITMIME\\r\\n")
        elif verb == b"DATA":
            writer.write(b"354 go ahead\\r\\n")
            await reader.readuntil(b"\\r\\n.\\r\\n")
            writer.write(b"250 OK\\r\\n")
        elif verb == b"QUIT":
            writer.write(b"221 bye\\r\\n")
            break
        else:
            writer.write(b"250 OK\\r\\n")
        if not reader._buffer:  # flush once per burst of pipelined commands
            await writer.drain()
    await writer.drain()
    writer.close()

async def main():
    server = await asyncio.start_server(session, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


class _sink:
    """A local SMTP server in its own process that accepts and discards messages: aiosmtpd (offering
    PIPELINING, as production mail servers do; aiosmtpd reads pipelined commands in order), or with
    `lean` a minimal asyncio one, so that the sender rather than the sink is what is measured."""

    def __init__(self, lean: bool = False) -> None:
        self.lean = lean

    def __enter__(self) -> int:
        if self.lean:
            return self._start(LEAN_SINK)
        code = (
            "import socket, sys\n"
            "from aiosmtpd.controller import Controller\n"
            "probe = socket.socket(); probe.bind(('127.0.0.1', 0))\n"
            "port = probe.getsockname()[1]; probe.close()\n"
            "class H:\n"
            "    async def handle_EHLO(self, server, session, envelope, hostname, responses):\n"
            "        session.host_name = hostname\n"
            "        return [*responses[:-1], '250-PIPELINING', responses[-1]]\n"
            "    async def handle_DATA(self, server, session, envelope):\n"
            "        return '250 OK'\n"
            "c = Controller(H(), hostname='127.0.0.1', port=port)\n"
            "c.start(); print(port, flush=True)\n"
            "sys.stdin.read(); c.stop()\n"
        )
        return self._start(code)

    def _start(self, code: str) -> int:
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        return int(self.process.stdout.readline())

    def __exit__(self, *exc) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


STEPS = {
    "open": _open,
    "naive-open": _naive_open,
    "send": _send,
    "send4": lambda directive, mails: _send(directive, mails, connections=4),
    "send-lean": lambda directive, mails: _send(directive, mails, lean=True),
    "send4-lean": lambda directive, mails: _send(directive, mails, connections=4, lean=True),
    "naive-send": _naive_send,
}

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
