"""Roster import throughput: a 2.3 M-employee synthetic roster into SQLite and PostgreSQL.

Prints rows/s and peak RSS for the bulk import (first load and an identical re-import), next to a naive
baseline (one ORM save per row, on a sample) measured in the same run. Each measurement runs in its own
process on a fresh database, so peak RSS is that import's alone.

    .venv/bin/python bench/roster_import.py [--employees 2300000] [--naive-sample 20000] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

from rich.console import Console
from rich.table import Table

GOAL_ROWS_PER_SECOND = 50_000
GOAL_PEAK_RSS_MB = 1024
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/test"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=2_300_000)
    parser.add_argument(
        "--naive-sample", type=int, default=20_000, help="rows for the one-save-per-row baseline"
    )
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--child", nargs=3, metavar=("METHOD", "DATABASE_URL", "FILE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(*args.child)))
        return
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="lastweek-bench-"))
    roster = work / "roster.csv"
    console.print(f"Generating a {args.employees:,}-employee roster …")
    _generate(roster, args.employees)
    sample = work / "sample.csv"
    _head(roster, sample, args.naive_sample)
    targets = [] if args.no_sqlite else [("SQLite", lambda name: f"sqlite:///{work / name}.sqlite3")]
    if _reachable(args.postgres):
        targets.append(("PostgreSQL", lambda name: _fresh_postgres(args.postgres, name)))
    else:
        console.print(f"[yellow]PostgreSQL not reachable at {args.postgres}: skipped[/]")
    table = Table(
        title=f"Roster import, {args.employees:,} employees ({roster.stat().st_size / 1e6:,.0f} MB CSV)"
    )
    for column in ("database", "method", "rows", "seconds", "rows/s", "× naive", "peak RSS MB"):
        table.add_column(column, justify="right" if column not in ("database", "method") else "left")
    for label, database in targets:
        naive = _measure(console, "naive", database("naive"), sample)
        bulk_url = database("bulk")
        for method in ("bulk", "bulk-again"):
            result = _measure(console, method, bulk_url, roster)
            ratio = result["rows_per_s"] / naive["rows_per_s"]
            _add_row(table, label, f"{method} (import-roster)", result, f"{ratio:,.0f}×")
        _add_row(table, label, "naive (one ORM save per row)", naive, "1×")
    console.print(table)
    console.print(
        f"Goals: ≥ {GOAL_ROWS_PER_SECOND:,} rows/s on PostgreSQL, peak RSS ≤ {GOAL_PEAK_RSS_MB:,} MB. "
        "'bulk-again' re-imports the identical file (must change nothing)."
    )


def _add_row(table: Table, database: str, method: str, result: dict, ratio: str) -> None:
    table.add_row(
        database,
        method,
        f"{result['rows']:,}",
        f"{result['seconds']:,.1f}",
        f"{result['rows_per_s']:,.0f}",
        ratio,
        f"{result['peak_rss_mb']:,.0f}",
    )


def _generate(path: Path, employees: int) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "lastweek",
            "synth",
            "workforce",
            "--employees",
            str(employees),
            "--out",
            str(path),
        ],
        check=True,
        env=_env("sqlite:///" + str(path.parent / "synth.sqlite3")),
    )


def _head(source: Path, target: Path, rows: int) -> None:
    with source.open(newline="") as src, target.open("w", newline="") as dst:
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerows(islice(csv.reader(src), rows + 1))


def _measure(console: Console, method: str, database_url: str, roster: Path) -> dict:
    console.print(f"  {method:<10} → {database_url.split('@')[-1]}")
    output = subprocess.run(
        [sys.executable, __file__, "--child", method, database_url, str(roster)],
        check=True,
        capture_output=True,
        text=True,
        env=_env(database_url),
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def _env(database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "lastweek.settings"}


def _reachable(url: str) -> bool:
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
        return True
    except Exception:
        return False


def _fresh_postgres(admin_url: str, name: str) -> str:
    import psycopg

    database = f"lastweek_bench_{name}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {database}")
        connection.execute(f"CREATE DATABASE {database}")
    return admin_url.rsplit("/", 1)[0] + f"/{database}"


def run_child(method: str, database_url: str, roster: str) -> dict:
    """Runs in its own process: migrate (not timed), then the import (timed)."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    if method == "naive":
        rows = _naive_import(Path(roster))
    else:
        from lastweek.org.roster_import import import_roster

        result = import_roster(roster)
        rows = result.rows
        if method == "bulk-again":
            assert (result.created, result.updated, result.separated) == (0, 0, 0), result
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "peak_rss_mb": peak_kb / 1024}


def _naive_import(roster: Path) -> int:
    """The obvious way: one ORM save per row (and one more per row to link managers)."""
    from lastweek.org.models import Agency, Employee, Unit

    units: dict[tuple[int, str], Unit] = {}
    with roster.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        agency, _ = Agency.objects.get_or_create(
            code=row["agency_code"], defaults={"name": row["agency_name"]}
        )
        parent = None
        for name in row["unit_path"].split(" > "):
            key = (agency.pk, parent.pk if parent else 0, name)
            if key not in units:
                units[key], _ = Unit.objects.get_or_create(agency=agency, parent=parent, name=name)
            parent = units[key]
        Employee(
            employee_number=row["employee_number"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            email=row["email"].lower(),
            agency=agency,
            unit=parent,
            title=row["title"],
            time_zone=row["time_zone"],
            status=row["status"],
        ).save()
    for row in rows:
        if row["manager_number"]:
            employee = Employee.objects.get(employee_number=row["employee_number"])
            employee.manager = Employee.objects.filter(employee_number=row["manager_number"]).first()
            employee.save()
    return len(rows)


if __name__ == "__main__":
    main()
