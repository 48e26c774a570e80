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
    console = Console(width=130)  # a full table also when piped to a file
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
        table.add_column(
            column, justify="right" if column not in ("database", "method") else "left", no_wrap=True
        )
    queries = None
    for label, database in targets:
        naive = _measure(console, "naive", database("naive"), sample)
        bulk_url = database("bulk")
        for method, title in (("bulk", "import-roster"), ("bulk-again", "import-roster, same file again")):
            result = _measure(console, method, bulk_url, roster)
            ratio = result["rows_per_s"] / naive["rows_per_s"]
            _add_row(table, label, title, result, f"{ratio:,.0f}×")
        _add_row(table, label, "naive: one ORM save per row", naive, "1×")
        if label == "PostgreSQL":
            queries = _measure(console, "queries", bulk_url, roster)
    console.print(table)
    console.print(
        f"Goals: ≥ {GOAL_ROWS_PER_SECOND:,} rows/s on PostgreSQL, peak RSS ≤ {GOAL_PEAK_RSS_MB:,} MB. "
        "The second import of the same file must change nothing (checked)."
    )
    if queries:
        _print_queries(console, queries)


def _print_queries(console: Console, queries: dict) -> None:
    table = Table(title="Scope queries on the imported PostgreSQL database (median of 5, warm)")
    for column in ("query", "employees", "ms"):
        table.add_column(column, justify="left" if column == "query" else "right", no_wrap=True)
    for name, count, milliseconds in queries["queries"]:
        table.add_row(name, f"{count:,}", f"{milliseconds:,.1f}")
    console.print(table)


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
    if method == "queries":
        return {"queries": _scope_queries()}
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


def _scope_queries() -> list[tuple[str, int, float]]:
    """Time the queries that scope everything: a unit subtree, an agency, a whole reporting line."""
    from django.db.models import Count

    from lastweek.org.models import Agency, Employee, Unit

    agency = Agency.objects.annotate(size=Count("employees")).order_by("-size").first()
    subtrees = [
        (unit, Employee.objects.in_unit_subtree(unit).count())
        for unit in Unit.objects.filter(agency=agency, depth=0)
    ]
    unit, _ = max(subtrees, key=lambda pair: pair[1])
    deepest = Unit.objects.filter(path__startswith=unit.path).order_by("-depth").first()
    middle = Unit.objects.get(pk=int(deepest.path.strip("/").split("/")[2]))
    head = Employee.objects.get(agency=agency, manager=None)
    deputy = Employee.objects.filter(manager=head).annotate(n=Count("direct_reports")).order_by("-n").first()
    cases = [
        (
            f"unit subtree: {unit.name} ({agency.code})",
            lambda: Employee.objects.in_unit_subtree(unit).count(),
        ),
        (f"unit subtree: {middle.name}", lambda: Employee.objects.in_unit_subtree(middle).count()),
        (f"agency: {agency.code}", lambda: Employee.objects.filter(agency=agency).count()),
        (f"reporting line of the {agency.code} head", lambda: Employee.objects.reporting_to(head).count()),
        ("reporting line of a deputy", lambda: Employee.objects.reporting_to(deputy).count()),
    ]
    return [(name, query(), _median_ms(query)) for name, query in cases]


def _median_ms(query) -> float:
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        query()
        timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings)[2]


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
