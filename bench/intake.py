"""Email intake end to end on PostgreSQL: a Maildir of synthetic replies imported by `lastweek ingest`.

Prints, next to a naive baseline measured in the same run:
- parse-only: messages read, hashed and parsed per second on all cores (no database);
- end to end: `ingest()` (parse on all cores, attribute, bulk submit, raw rows by COPY), messages/s;
- naive: one process, per message parse_message() + one ORM save + attribution by ORM lookups +
  reports.submit(), on a sample;
- peak RSS of each measurement (each runs in its own process; with workers, the largest worker too);
- the machine's speed, to compare runs on different machines: the stdlib's compat32 parser on one
  process (`email.message_from_bytes` and the first text part decoded) over the same replies.
Goal: 2.3 M replies (a federal week) in ≤ 5 minutes, i.e. ≥ 8,000 messages/s end to end, ≥ 10 times naive,
peak RSS ≤ 2 GB.

    .venv/bin/python bench/intake.py [--replies 200000] [--naive-sample 5000] [--jobs 2] [--reuse]

The organization (one employee per reply), its open cycle and the Maildir (`lastweek synth replies`)
are built once in the database `lastweek_bench_intake` and a folder beside it; `--reuse` keeps them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import machine_speed

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/test"
DATABASE = "lastweek_bench_intake"
WEEK = "2026-W48"
MAILDIR = Path(tempfile.gettempdir()) / "lastweek-bench-intake" / "Maildir"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=200_000, help="synthetic replies in the Maildir")
    parser.add_argument("--naive-sample", type=int, default=5_000, help="messages for the naive baseline")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parsing processes")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--reuse", action="store_true", help="keep an already built organization and Maildir")
    parser.add_argument("--child", nargs=3, metavar=("STEP", "ARG", "JOBS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        step, arg, jobs = args.child
        print(json.dumps(run_child(step, int(arg), int(jobs))))
        return
    console = Console(width=130)
    url = args.postgres.rsplit("/", 1)[0] + f"/{DATABASE}"
    if not (args.reuse and _built(url, args.replies)):
        _build(console, args.postgres, url, args.replies)
    steps = [
        (f"parse only, {args.jobs} processes", "parse", "0"),
        (f"naive: parse + save() + submit() × {args.naive_sample:,}", "naive", str(args.naive_sample)),
        (f"ingest end to end, {args.jobs} parsing processes", "ingest", "0"),
        ("machine speed: stdlib compat32 parse, 1 process", "speed", "10000"),
    ]
    results = {}
    for title, step, arg in steps:
        console.print(f"  {title} …")
        results[step] = _child(step, arg, args.jobs, url)
    _print(console, results)


def _print(console: Console, results: dict) -> None:
    naive = results["naive"]["per_s"]
    table = Table(
        title=f"Email intake, {results['ingest']['rows']:,} synthetic replies in a Maildir (PostgreSQL)"
    )
    for column in ("measurement", "messages", "seconds", "messages/s", "× naive", "peak RSS MB"):
        table.add_column(column, justify="left" if column == "measurement" else "right", no_wrap=True)
    for key in ("parse", "ingest", "naive"):
        result = results[key]
        ratio = result["per_s"] / naive
        rss = f"{result['peak_rss_mb']:,.0f}"
        if result.get("worker_rss_mb"):
            rss += f" (+{result['jobs']} × {result['worker_rss_mb']:,.0f})"
        table.add_row(
            result["label"],
            f"{result['rows']:,}",
            f"{result['seconds']:,.1f}",
            f"{result['per_s']:,.0f}",
            "1×" if key == "naive" else f"{ratio:,.1f}×",
            rss,
        )
    console.print(table)
    speed = results["speed"]
    console.print(
        f"Machine: {speed['machine']}; Python {speed['python']}. Its speed: the stdlib's compat32 parser "
        f"reads {speed['per_s']:,.0f} of these replies a second on one process."
    )
    console.print(f"End to end: {json.dumps(results['ingest'].get('outcomes', {}))}")
    console.print(
        "Goals: ≥ 8,000 messages/s end to end (2.3 M in ≤ 5 min), ≥ 10× naive, peak RSS ≤ 2 GB. "
        "RSS: this process (+ workers × the largest worker)."
    )


def _child(step: str, arg: str, jobs: int, url: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", step, arg, str(jobs)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "lastweek.settings"},
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def _built(url: str, replies: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            cycles = connection.execute("SELECT count(*) FROM directives_cycle").fetchone()[0]
    except Exception:
        return False
    return cycles > 0 and MAILDIR.is_dir() and sum(1 for _ in os.scandir(MAILDIR / "new")) == replies


def _build(console: Console, admin_url: str, url: str, replies: int) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    shutil.rmtree(MAILDIR.parent, ignore_errors=True)
    MAILDIR.parent.mkdir(parents=True)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "lastweek.settings"}
    lastweek = [sys.executable, "-m", "lastweek"]
    console.print(f"Building a {replies:,}-person organization, its open week and a Maildir of replies …")
    subprocess.run([*lastweek, "migrate", "-v0"], check=True, env=env)
    roster = MAILDIR.parent / "roster.csv"
    synth = [*lastweek, "synth", "workforce", "--employees", str(replies), "--out", str(roster)]
    subprocess.run(synth, check=True, env=env)
    subprocess.run([*lastweek, "import-roster", str(roster)], check=True, env=env, stdout=subprocess.DEVNULL)
    roster.unlink()
    cycle_id = (
        subprocess.run(
            [sys.executable, __file__, "--child", "open", "0", "1"],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    cycle_id = json.loads(cycle_id)["cycle"]
    subprocess.run([*lastweek, "synth", "replies", str(cycle_id), "--out", str(MAILDIR)], check=True, env=env)


def run_child(step: str, arg: int, jobs: int) -> dict:
    if step == "parse":
        rows, label, seconds, extra = _parse_only(jobs)
    elif step == "speed":
        rows, label, seconds, extra = _machine_speed(arg)
    else:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        if step == "open":
            return {"cycle": _open()}
        _clear()
        rows, label, seconds, extra = STEPS[step](arg, jobs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "label": label,
        "rows": rows,
        "seconds": seconds,
        "per_s": rows / seconds,
        "peak_rss_mb": peak,
        "worker_rss_mb": workers if jobs > 1 and step != "naive" else 0,
        "jobs": jobs,
        **extra,
    }


def _open() -> int:
    from lastweek.directives.actions import open_cycle
    from lastweek.directives.models import Directive

    directive = Directive.objects.create(
        title="Bench intake", sender_name="Office of Personnel Management", status="active"
    )
    return open_cycle(directive, WEEK).pk


def _clear() -> None:
    """Every measurement starts from no reports and no stored mail, on tables as a real week's would be
    when its replies arrive: vacuumed since the assignments were written (autovacuum's work). The run
    before left a row lock and, for some, a mark on every assignment: dead row versions each lookup
    would otherwise have to step over."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE intake_inboundmessage, reports_bullet, reports_report")
        cursor.execute(
            "UPDATE directives_assignment SET auto_reply_at = NULL, bounced_at = NULL"
            " WHERE auto_reply_at IS NOT NULL OR bounced_at IS NOT NULL"
        )
        cursor.execute("VACUUM ANALYZE directives_assignment, org_employee, compliance_staleunit")


def _parse_only(jobs: int) -> tuple[int, str, float, dict]:
    from lastweek.intake.mailboxes import entries, parsed_chunks

    started = time.perf_counter()
    count = sum(len(chunk) for chunk in parsed_chunks(entries(MAILDIR), jobs, 1_000))
    return count, f"parse only, {jobs} processes", time.perf_counter() - started, {}


def _machine_speed(sample: int) -> tuple[int, str, float, dict]:
    """How fast this machine runs Python, in terms that other runs can be set against."""
    from lastweek.intake.mailboxes import entries

    raws = [Path(entry.path).read_bytes() for _, entry in zip(range(sample), entries(MAILDIR), strict=False)]
    seconds = machine_speed.compat32_seconds(raws)
    about = {"machine": machine_speed.machine(), "python": machine_speed.python()}
    return len(raws), "machine speed", seconds, about


def _ingest(_: int, jobs: int) -> tuple[int, str, float, dict]:
    from lastweek.intake.ingest import ingest

    started = time.perf_counter()
    result = ingest(MAILDIR, jobs=jobs)
    seconds = time.perf_counter() - started
    outcomes = {str(key): value for key, value in result.tally.counts.items()}
    outcomes |= {str(key): value for key, value in result.tally.quarantined.items()}
    return result.seen, f"ingest end to end, {jobs} processes", seconds, {"outcomes": outcomes}


def _naive(sample: int, _: int) -> tuple[int, str, float, dict]:
    """The obvious way: per message, parse, save the row, look the person up with the ORM, submit()."""
    import hashlib

    from django.utils import timezone

    from lastweek.directives.models import Assignment
    from lastweek.intake.attribute import token_assignment_ids
    from lastweek.intake.mailboxes import entries
    from lastweek.intake.models import InboundMessage
    from lastweek.intake.parse import Kind, parse_message
    from lastweek.reports.actions import SubmissionError, submit

    files = [entry.path for _, entry in zip(range(sample), entries(MAILDIR), strict=False)]
    started = time.perf_counter()
    for path in files:
        raw = Path(path).read_bytes()
        parsed = parse_message(raw)
        row = InboundMessage.objects.create(
            raw=raw,
            sha256=hashlib.sha256(raw).hexdigest(),
            message_id=parsed.message_id or "",
            size=len(raw),
            source=InboundMessage.Source.IMPORT,
            received_at=parsed.date or timezone.now(),
        )
        ids = token_assignment_ids(parsed.to_addresses)
        query = Assignment.objects.select_related("cycle__directive", "policy")
        assignment = query.filter(pk=ids[0]).first() if ids else None
        if assignment is None and parsed.from_address:
            assignment = query.filter(employee__email=parsed.from_address, cycle__state="open").first()
        row.state = InboundMessage.State.QUARANTINED
        if assignment is not None and parsed.kind == Kind.ANSWER:
            try:
                receipt = submit(
                    assignment,
                    parsed.bullets,
                    channel="email",
                    received_at=row.received_at,
                    source_id=row.message_id,
                    strict=False,
                )
                row.state, row.report_id = InboundMessage.State.ATTRIBUTED, receipt.report_id
            except SubmissionError:
                row.state = InboundMessage.State.REFUSED
        row.save()
    return len(files), "naive, one by one", time.perf_counter() - started, {}


STEPS = {"ingest": _ingest, "naive": _naive}

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
