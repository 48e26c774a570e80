"""Compliance at 2.3 M employees on PostgreSQL: dashboard rollups, an agency export, the counts behind them.

Prints, next to naive baselines measured in the same run:
- dashboard rollup requests (the agency page, a top-level unit page, the all-agencies page, and the
  API's agency rollup) through Django's test client, p50/p95 ms (goal p95 ≤ 100 ms), against the same
  figures computed per request by a GROUP BY over assignments left-join reports;
- the largest agency's export (CSV and Parquet, with report text as its agency administrator), rows/s and
  peak RSS, against ORM iteration with a query per row for the report and its bullets (on a sample);
- the full rebuild of a cycle's counts, and the recount after 1,000 answers arrive;
- the HTTP submission burst of bench/submissions.py (gunicorn), when that script is present.
Each measurement runs in its own process, so its peak RSS is its own.

    .venv/bin/python bench/compliance.py [--employees 2300000] [--weeks 2] [--answered 0.6] [--reuse]

The roster is generated and imported once into the database `lastweek_bench_compliance`; `--reuse` keeps it
and its cycles. Each week's cycle is opened by `open_cycle` (as bench/cycle_open.py does) and about
`--answered` of its asked people answer: reports and bullets are written by INSERT … SELECT in the server.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import bench_database

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/test"
DATABASE = "lastweek_bench_compliance"
WEEKS = ("2026-W45", "2026-W46", "2026-W47", "2026-W48")
GOAL_P95_MS = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=2_300_000)
    parser.add_argument(
        "--weeks", type=int, default=2, choices=range(1, len(WEEKS) + 1), help="cycles to open"
    )
    parser.add_argument("--answered", type=float, default=0.6, help="share of asked people who answer")
    parser.add_argument("--requests", type=int, default=50, help="dashboard requests per page")
    parser.add_argument("--naive-requests", type=int, default=3, help="requests for the GROUP BY baseline")
    parser.add_argument("--naive-rows", type=int, default=20_000, help="rows for the ORM export baseline")
    parser.add_argument("--burst-employees", type=int, default=5_000, help="people in the submission burst")
    parser.add_argument("--no-burst", action="store_true", help="skip the HTTP submission burst")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded bench database")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, json.loads(sys.stdin.read()))))
        return
    console = Console(width=200)
    url = args.postgres.rsplit("/", 1)[0] + f"/{DATABASE}"
    if not (args.reuse and bench_database.loaded(url)):
        bench_database.load(console, args.postgres, url, args.employees)
    weeks = list(WEEKS[-args.weeks :])
    console.print(f"  opening {len(weeks)} cycle(s) and answering about {args.answered:.0%} …")
    setup = _child("setup", {"weeks": weeks, "answered": args.answered}, url)
    console.print(f"  {setup['assignments']:,} assignments a week, {setup['reports']:,} reports in the last")
    results = {"setup": setup}
    steps = [
        ("rebuild", {}, "full rebuild of the last cycle's counts"),
        ("recount", {"answers": 1_000}, "recount after 1,000 answers"),
        ("dashboard", {"requests": args.requests}, f"dashboard pages × {args.requests}"),
        ("naive-dashboard", {"requests": args.naive_requests}, "naive GROUP BY per request"),
        ("export-csv", {}, "agency export, CSV"),
        ("export-parquet", {}, "agency export, Parquet"),
        ("naive-export", {"rows": args.naive_rows}, f"naive ORM export × {args.naive_rows:,}"),
    ]
    for step, arg, title in steps:
        console.print(f"  {title} …")
        results[step] = _child(step, {**arg, "cycle_id": setup["cycle_id"]}, url)
    _print(console, results)
    if not args.no_burst:
        _burst(console, url, args.burst_employees)


def _burst(console: Console, url: str, employees: int) -> None:
    # bench/submissions.py comes with the web submission work; run it here when it is present.
    try:
        import submissions
    except ImportError:
        console.print("[yellow]bench/submissions.py is not in this checkout: no HTTP submission burst.[/]")
        return
    console.print("  HTTP submission burst through gunicorn …")
    rows = submissions.measure_submission_burst(url, employees=employees, say=console.print)
    submissions.print_table(console, rows)


def _print(console: Console, results: dict) -> None:
    setup = results["setup"]
    table = Table(
        title=f"Compliance rollups, {setup['employees']:,} employees, {setup['weeks']} week(s) (PostgreSQL)"
    )
    for column in ("measurement", "n", "p50 ms", "p95 ms", "× naive (p95)", "peak RSS MB"):
        table.add_column(column, justify="left" if column == "measurement" else "right", no_wrap=True)
    naive = results["naive-dashboard"]
    for page, timing in results["dashboard"]["pages"].items():
        ratio = naive["pages"][page]["p95_ms"] / timing["p95_ms"]
        table.add_row(
            f"dashboard {page}", str(timing["n"]), f"{timing['p50_ms']:,.1f}", f"{timing['p95_ms']:,.1f}",
            f"{ratio:,.0f}×", f"{results['dashboard']['peak_rss_mb']:,.0f}",
        )  # fmt: skip
    for page, timing in naive["pages"].items():
        p50, p95 = f"{timing['p50_ms']:,.1f}", f"{timing['p95_ms']:,.1f}"
        table.add_row(
            f"naive GROUP BY: {page}", str(timing["n"]), p50, p95, "1×", f"{naive['peak_rss_mb']:,.0f}"
        )
    console.print(table)
    console.print(f"Goal: dashboard rollup request p95 ≤ {GOAL_P95_MS} ms.")
    exports = Table(
        title=f"Export of {results['export-csv']['agency']} with report text (as its agency administrator)"
    )
    for column in ("measurement", "rows", "seconds", "rows/s", "× naive", "peak RSS MB"):
        exports.add_column(column, justify="left" if column == "measurement" else "right", no_wrap=True)
    base = results["naive-export"]["per_s"]
    for key in ("export-csv", "export-parquet", "naive-export"):
        r = results[key]
        exports.add_row(
            r["label"], f"{r['rows']:,}", f"{r['seconds']:,.2f}", f"{r['per_s']:,.0f}",
            f"{r['per_s'] / base:,.0f}×" if key != "naive-export" else "1×", f"{r['peak_rss_mb']:,.0f}",
        )  # fmt: skip
    console.print(exports)
    counts = Table(title="Keeping the counts current")
    for column in ("measurement", "items", "seconds", "peak RSS MB"):
        counts.add_column(column, justify="left" if column == "measurement" else "right", no_wrap=True)
    for key in ("rebuild", "recount"):
        r = results[key]
        counts.add_row(r["label"], f"{r['rows']:,}", f"{r['seconds']:,.2f}", f"{r['peak_rss_mb']:,.0f}")
    console.print(counts)


def _child(step: str, arg: dict, url: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", step],
        input=json.dumps(arg),
        check=True,
        capture_output=True,
        text=True,
        # Persistent connections, as a production web server runs (a new one per request costs ~5 ms).
        env={
            **os.environ,
            "DATABASE_URL": url,
            "DATABASE_CONN_MAX_AGE": "60",
            "DJANGO_SETTINGS_MODULE": "lastweek.settings",
        },
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def run_child(step: str, arg: dict) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    result = STEPS[step](**arg)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


# The setup: a directive with the policies agencies set, its cycles, and the answers.


def _setup(weeks: list[str], answered: float) -> dict:
    from django.db import connection

    from lastweek.directives.models import Directive
    from lastweek.org.models import Employee

    directive = Directive.objects.filter(title="Bench compliance").first() or _directive()
    cycle = None
    for week in weeks:
        cycle = directive.cycles.filter(week=week).first() or _open_and_answer(directive, week, answered)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reports_report WHERE cycle_id = %s", [cycle.pk])
        reports = cursor.fetchone()[0]
    return {
        "cycle_id": cycle.pk,
        "weeks": len(weeks),
        "employees": Employee.objects.count(),
        "assignments": cycle.assignment_count,
        "reports": reports,
    }


def _directive():
    from django.db.models import Count

    from lastweek.directives.actions import set_policy
    from lastweek.directives.models import Directive, Mode
    from lastweek.org.models import Agency, Unit

    directive = Directive.objects.create(
        title="Bench compliance", sender_name="Office of Personnel Management", status="active"
    )
    agencies = list(Agency.objects.annotate(n=Count("employees")).order_by("-n"))
    set_policy(
        directive, agency=agencies[1], mode=Mode.PAUSED, reason="Paused by the agency head", actor=None
    )
    set_policy(directive, agency=agencies[2], mode=Mode.VOLUNTARY, reason="Voluntary pilot", actor=None)
    set_policy(directive, agency=agencies[3], mode=Mode.EXEMPT, reason="National security", actor=None)
    for unit in Unit.objects.filter(agency=agencies[0], depth=1).order_by("id")[:20]:
        set_policy(directive, unit=unit, mode=Mode.VOLUNTARY, reason="Field offices", actor=None)
    return directive


def _open_and_answer(directive, week: str, answered: float):
    from django.db import connection

    from lastweek.compliance.summaries import refresh_cycle
    from lastweek.directives.actions import open_cycle

    cycle = open_cycle(directive, week)
    per_mille = int(answered * 1000)
    # A multiplicative hash of the id picks who answers, and when: deterministic, and spread over units.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO reports_report (assignment_id, cycle_id, employee_id, channel, source_id, received_at,
                on_time, is_current, exceeds_max_bullets, receipt_code)
            SELECT a.id, a.cycle_id, a.employee_id, 'email', '',
                   %s::timestamptz + ((a.id * 2654435761) %% 97 - 80) * interval '1 hour',
                   (a.id * 2654435761) %% 97 < 80, TRUE, FALSE, 'B' || a.id
            FROM directives_assignment a
            WHERE a.cycle_id = %s AND a.mode IN ('required', 'voluntary')
              AND (a.id * 40503) %% 1000 < %s
            """,
            [cycle.deadline, cycle.pk, per_mille],
        )
        cursor.execute(
            """
            INSERT INTO reports_bullet (report_id, position, text)
            SELECT r.id, p.position, 'Closed ' || ((r.id + p.position) %% 60) || ' cases from the backlog'
            FROM reports_report r CROSS JOIN (VALUES (1), (2), (3)) AS p(position)
            WHERE r.cycle_id = %s AND p.position <= 1 + r.id %% 3
            """,
            [cycle.pk],
        )
        cursor.execute(
            """
            UPDATE directives_assignment a SET auto_reply_at = %s
            WHERE a.cycle_id = %s AND a.mode = 'required' AND (a.id * 40503) %% 1000 >= %s
              AND a.id %% 40 = 0
            """,
            [cycle.deadline, cycle.pk, per_mille],
        )
        cursor.execute("ANALYZE reports_report; ANALYZE reports_bullet")
    refresh_cycle(cycle)
    return cycle


# Keeping the counts current.


def _rebuild(cycle_id: int) -> dict:
    from lastweek.compliance.summaries import refresh_cycle
    from lastweek.directives.models import Cycle

    cycle = Cycle.objects.get(pk=cycle_id)
    started = time.perf_counter()
    rows = refresh_cycle(cycle)
    return {
        "label": "refresh_cycle: all counts (rows written)",
        "rows": rows,
        "seconds": time.perf_counter() - started,
    }


def _recount(cycle_id: int, answers: int) -> dict:
    """Answers through submit() from people spread over the organization, then one recount."""
    from lastweek.compliance.summaries import refresh_stale
    from lastweek.directives.models import Assignment, Cycle, Mode
    from lastweek.reports import submit

    cycle = Cycle.objects.get(pk=cycle_id)
    unanswered = (
        Assignment.objects.filter(cycle=cycle, mode=Mode.REQUIRED, reports__isnull=True)
        .select_related("cycle__directive")
        .order_by("?")[:answers]
    )
    for assignment in unanswered:
        submit(assignment, ["Cleared the address-change backlog"], channel="web")
    started = time.perf_counter()
    units = refresh_stale(cycle)
    return {
        "label": f"refresh_stale after {answers:,} answers (units)",
        "rows": units,
        "seconds": time.perf_counter() - started,
    }


# Dashboard requests.


def _viewers(cycle):
    """The largest agency's administrator and an organization-wide auditor."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from lastweek.access.models import Role, RoleGrant, Scope
    from lastweek.org.models import Agency, Unit

    agency = Agency.objects.annotate(n=Count("employees")).order_by("-n").first()
    users = get_user_model().objects
    admin, _ = users.get_or_create(username="bench-agency-admin")
    RoleGrant.objects.get_or_create(user=admin, role=Role.AGENCY_ADMIN, scope=Scope.AGENCY, agency=agency)
    auditor, _ = users.get_or_create(username="bench-auditor")
    RoleGrant.objects.get_or_create(user=auditor, role=Role.AUDITOR, scope=Scope.ORGANIZATION)
    from lastweek.org.models import Employee

    # The top-level unit with the most people below it: the heaviest unit page.
    top = max(
        Unit.objects.filter(agency=agency, parent=None),
        key=lambda u: Employee.objects.in_unit_subtree(u).count(),
    )
    return agency, admin, auditor, top


def _pages(cycle) -> dict:
    agency, admin, auditor, unit = _viewers(cycle)
    query = f"?directive={cycle.directive_id}&week={cycle.week}"
    return {
        f"agency page ({agency.code})": (admin, f"/dashboard/agency/{agency.code}/{query}"),
        "top-level unit page": (admin, f"/dashboard/unit/{unit.pk}/{query}"),
        "all agencies page": (auditor, f"/dashboard/{query}"),
        f"API: agency rollup ({agency.code})": (
            admin,
            f"/api/compliance/cycles/{cycle.pk}/agencies/{agency.code}",
        ),
    }


def _timings(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {"n": len(samples), "p50_ms": statistics.median(ordered) * 1000, "p95_ms": p95 * 1000}


def _dashboard(cycle_id: int, requests: int) -> dict:
    from django.test import Client
    from django.test.utils import setup_test_environment

    from lastweek.directives.models import Cycle

    setup_test_environment()  # lets the test client's host in
    cycle = Cycle.objects.select_related("directive").get(pk=cycle_id)
    timings = {}
    for page, (user, url) in _pages(cycle).items():
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == 200  # warm: the first read may catch up on counts
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        timings[page] = _timings(samples)
    return {"pages": timings}


NAIVE_SQL = """
    SELECT {key}, a.mode, CASE WHEN r.id IS NULL THEN '' WHEN r.on_time THEN 'on_time' ELSE 'late' END,
           a.on_leave, a.auto_reply_at IS NOT NULL, a.bounced_at IS NOT NULL, a.due_at, count(*)
    FROM directives_assignment a
    LEFT JOIN reports_report r ON r.assignment_id = a.id AND r.is_current
    JOIN org_unit u ON u.id = a.unit_id
    WHERE a.cycle_id = %s AND {where}
    GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


def _naive_dashboard(cycle_id: int, requests: int) -> dict:
    """The same figures each page shows, counted per request by one GROUP BY over assignments ⟕ reports
    per week of the trend, and one grouped by child unit (the unit id at the next level of the path)."""
    from collections import defaultdict

    from django.db import connection
    from django.utils import timezone

    from lastweek.compliance.rollup import recent_cycles
    from lastweek.compliance.status import Counts
    from lastweek.directives.models import Cycle

    cycle = Cycle.objects.select_related("directive").get(pk=cycle_id)
    trend = [c.pk for c in recent_cycles(cycle.directive, until=cycle)]
    agency, _, _, unit = _viewers(cycle)

    def figures(cycle_pk: int, where: str, params: list, key: str = "0") -> dict:
        found: dict = defaultdict(Counts)
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(NAIVE_SQL.format(key=key, where=where), [cycle_pk, *params])
            for target, mode, answer, leave, auto, bounced, due, n in cursor.fetchall():
                found[target].add(mode=mode, answer=answer, on_leave=leave, auto_reply=auto, bounced=bounced,
                                  due_at=due, now=now, count=n)  # fmt: skip
        return found

    def agency_page() -> None:
        for cycle_pk in trend:
            figures(cycle_pk, "a.agency_id = %s", [agency.pk])
        figures(cycle.pk, "a.agency_id = %s", [agency.pk], key="split_part(u.path, '/', 2)")

    def unit_page() -> None:
        for cycle_pk in trend:
            figures(cycle_pk, "u.path LIKE %s", [unit.path + "%"])
        figures(
            cycle.pk, "u.path LIKE %s", [unit.path + "%"], key=f"split_part(u.path, '/', {unit.depth + 3})"
        )

    def all_agencies() -> None:
        for cycle_pk in trend:
            figures(cycle_pk, "TRUE", [], key="a.agency_id")

    def api_agency() -> None:
        figures(cycle.pk, "a.agency_id = %s", [agency.pk])
        figures(cycle.pk, "a.agency_id = %s", [agency.pk], key="split_part(u.path, '/', 2)")

    pages = {
        f"agency page ({agency.code})": agency_page,
        "top-level unit page": unit_page,
        "all agencies page": all_agencies,
        f"API: agency rollup ({agency.code})": api_agency,
    }
    timings = {}
    for page, run in pages.items():
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            run()
            samples.append(time.perf_counter() - started)
        timings[page] = _timings(samples)
    return {"pages": timings}


# Exports.


def _export(cycle_id: int, fmt: str) -> dict:
    from lastweek.compliance.exports import Exporter, ExportScope, write_csv, write_parquet
    from lastweek.directives.models import Cycle

    cycle = Cycle.objects.get(pk=cycle_id)
    agency, admin, _, _ = _viewers(cycle)
    exporter = Exporter([cycle], ExportScope("agency", agency.code), admin)
    out = Path(tempfile.mkdtemp(prefix="lastweek-bench-export-")) / f"export.{fmt}"
    started = time.perf_counter()
    if fmt == "csv":
        with out.open("w", newline="") as handle:
            result = write_csv(exporter, handle)
    else:
        result = write_parquet(exporter, str(out))
    seconds = time.perf_counter() - started
    size = out.stat().st_size
    out.unlink()
    return {
        "label": f"export {fmt} ({size / 1e6:,.0f} MB, {result.texts:,} with text)",
        "agency": agency.code,
        "rows": result.rows,
        "seconds": seconds,
        "per_s": result.rows / seconds,
    }


def _naive_export(cycle_id: int, rows: int) -> dict:
    """The obvious way: iterate the ORM, one query for each row's report and one for its bullets."""
    import csv

    from lastweek.directives.models import Assignment, Cycle

    cycle = Cycle.objects.get(pk=cycle_id)
    agency, _, _, _ = _viewers(cycle)
    out = Path(tempfile.mkdtemp(prefix="lastweek-bench-export-")) / "naive.csv"
    started = time.perf_counter()
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        query = Assignment.objects.filter(cycle=cycle, agency=agency).select_related("employee", "unit")
        written = min(rows, query.count())
        for assignment in query.order_by("id")[:rows]:
            report = assignment.reports.filter(is_current=True).first()
            bullets = [bullet.text for bullet in report.bullets.all()] if report else []
            employee = assignment.employee
            writer.writerow([employee.employee_number, employee.first_name, employee.last_name,
                             assignment.unit.name, assignment.mode, "\n".join(bullets)])  # fmt: skip
    seconds = time.perf_counter() - started
    out.unlink()
    return {
        "label": "naive ORM iteration, CSV",
        "agency": agency.code,
        "rows": written,
        "seconds": seconds,
        "per_s": written / seconds,
    }


STEPS = {
    "setup": _setup,
    "rebuild": _rebuild,
    "recount": _recount,
    "dashboard": _dashboard,
    "naive-dashboard": _naive_dashboard,
    "export-csv": lambda cycle_id: _export(cycle_id, "csv"),
    "export-parquet": lambda cycle_id: _export(cycle_id, "parquet"),
    "naive-export": _naive_export,
}

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
