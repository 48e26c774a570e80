"""An HTTP submission burst through gunicorn on PostgreSQL: personal API tokens POSTing weekly answers.

Prints, next to a naive baseline measured in the same run (one sequential client against Django's
`runserver`, one request at a time):
- sustained submissions/s through gunicorn (2 to 4 workers on loopback) with many concurrent keep-alive
  clients, p50/p95 latency, and the lost-answer check: reports written = 2xx answers;
- the database queries one submission costs (one request through the WSGI handler);
- the server-side CPU per submission (gunicorn workers and their PostgreSQL backends, from /proc) and
  what two dedicated cores would sustain at that cost, since a shared machine's wall-clock rate also
  measures its neighbours;
- peak RSS of the gunicorn workers.

    .venv/bin/python bench/submissions.py [--employees 5000] [--rounds 2] [--workers 2] [--threads 2]
        [--reuse]

The organization is generated and imported once into the database `lastweek_bench_submissions`; each run
adds a fresh directive and opens its cycle for about `--employees` people, gives each a user and a
personal token (created in bulk), then sends `--rounds` answers per person. `bench/compliance.py` calls
`measure_submission_burst()` against its own database.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

import bench_database

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/test"
DATABASE = "lastweek_bench_submissions"
ROOT = Path(__file__).resolve().parents[1]
BULLETS = [
    "Decided 40 compensation claims",
    "Trained two new colleagues on the rating tool",
    "Cleared the backlog of address changes",
    "Answered 25 congressional inquiries",
]


@dataclass
class Row:
    """One line of the table; bench/compliance.py prints these too."""

    measurement: str
    submissions: int
    seconds: float
    per_s: float
    p50_ms: float
    p95_ms: float
    ok: int
    failed: int
    written: int
    peak_rss_mb: float
    # CPU the server side spent per submission (web workers + their PostgreSQL backends), when measured:
    # it tells what the hardware allows apart from what else the machine was running.
    server_cpu_ms: float | None = None

    @property
    def two_core_ceiling(self) -> float | None:
        """Submissions/s two dedicated cores would sustain at this CPU cost per submission."""
        return 2000 / self.server_cpu_ms if self.server_cpu_ms else None

    @property
    def lost(self) -> int:
        """Answers acknowledged with a 2xx but not in the database (must be 0)."""
        return self.ok - self.written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=5_000, help="people asked in the burst's cycle")
    parser.add_argument("--rounds", type=int, default=2, help="answers each person sends (edits)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (2–4)")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument(
        "--worker-class", default="gthread", choices=["gthread", "sync"], help="gunicorn worker type"
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent keep-alive client connections")
    parser.add_argument("--naive", type=int, default=500, help="submissions for the runserver baseline")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded bench database")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, json.loads(sys.stdin.read()))))
        return
    console = Console(width=200)
    url = args.postgres.rsplit("/", 1)[0] + f"/{DATABASE}"
    if not (args.reuse and bench_database.loaded(url, args.employees)):
        bench_database.load(console, args.postgres, url, args.employees, quiet=True)
    rows = measure_submission_burst(
        url,
        employees=args.employees,
        rounds=args.rounds,
        workers=args.workers,
        threads=args.threads,
        worker_class=args.worker_class,
        clients=args.clients,
        naive=args.naive,
        say=console.print,
    )
    print_table(console, rows)


def measure_submission_burst(
    database_url: str,
    *,
    employees: int = 5_000,
    rounds: int = 2,
    workers: int = 2,
    threads: int = 2,
    worker_class: str = "gthread",
    clients: int = 32,
    naive: int = 500,
    say=print,
) -> list[Row]:
    """Open a cycle for about `employees` people of the organization in `database_url`, give each a
    token, and measure an HTTP burst through gunicorn, then the naive baseline (`naive` 0 skips it).

    Returns the rows [gunicorn burst, naive baseline]; the first one's `lost` must be 0. The database must
    hold a migrated organization (bench/compliance.py's, or this script's own).
    """
    work = Path(tempfile.mkdtemp(prefix="lastweek-bench-submit-"))
    env = _server_env(database_url, work)
    say(f"  opening a cycle for about {employees:,} people and creating their tokens …")
    setup = _child("setup", {"employees": employees, "tokens": str(work / "tokens.txt")}, env)
    tokens = (work / "tokens.txt").read_text().split()
    cycle_id = setup["cycle_id"]
    say(
        f"  {len(tokens):,} people asked in cycle {cycle_id}; one submission costs {setup['queries']} queries"
    )
    plan = [token for _ in range(rounds) for token in tokens]
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "lastweek.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--worker-class={worker_class}",
        f"--threads={threads}",
        "--keep-alive=30",
        "--backlog=2048",
        "--log-level=warning",
    ]
    with _Server(command, port, env) as server:
        say(f"  burst: {len(plan):,} submissions, {clients} clients, gunicorn {workers}×{threads} …")
        cpu_before = server.cpu_seconds() + _backend_cpu_seconds(database_url)
        burst = _burst(port, cycle_id, plan, clients)
        cpu = server.cpu_seconds() + _backend_cpu_seconds(database_url) - cpu_before
        rss = server.peak_rss_mb()
    written = _count(database_url, cycle_id)
    shape = f"{workers} {worker_class} workers" + (
        f" × {threads} threads" if worker_class == "gthread" else ""
    )
    label = f"gunicorn {shape}, {clients} clients"
    rows = [_row(label, burst, written, rss, cpu)]
    if naive:
        naive_cycle = _child("setup", {"employees": naive, "tokens": str(work / "naive.txt")}, env)
        naive_tokens = (work / "naive.txt").read_text().split()[:naive]
        port = _free_port()
        command = [sys.executable, "-m", "lastweek", "runserver", f"127.0.0.1:{port}", "--noreload"]
        with _Server(command, port, env) as server:
            say(f"  naive: {len(naive_tokens):,} submissions, one at a time, against runserver …")
            cpu_before = server.cpu_seconds() + _backend_cpu_seconds(database_url)
            result = _burst(port, naive_cycle["cycle_id"], naive_tokens, 1)
            cpu = server.cpu_seconds() + _backend_cpu_seconds(database_url) - cpu_before
            rss = server.peak_rss_mb()
        written = _count(database_url, naive_cycle["cycle_id"])
        rows.append(_row("naive: runserver, 1 sequential client", result, written, rss, cpu))
    return rows


def print_table(console: Console, rows: list[Row]) -> None:
    table = Table(
        title="HTTP submission burst (POST /api/cycles/{id}/report with personal tokens, PostgreSQL)"
    )
    columns = ("measurement", "submissions", "seconds", "subm./s", "× naive", "p50 ms", "p95 ms")
    for column in (*columns, "2xx", "failed", "written", "lost", "server CPU ms", "2-core /s", "peak RSS MB"):
        table.add_column(column, justify="left" if column == "measurement" else "right", no_wrap=True)
    naive = rows[-1].per_s if len(rows) > 1 else None
    for row in rows:
        ratio = f"{row.per_s / naive:,.1f}×" if naive else "—"
        table.add_row(
            row.measurement,
            f"{row.submissions:,}",
            f"{row.seconds:,.2f}",
            f"{row.per_s:,.0f}",
            ratio,
            f"{row.p50_ms:,.1f}",
            f"{row.p95_ms:,.1f}",
            f"{row.ok:,}",
            f"{row.failed:,}",
            f"{row.written:,}",
            f"{row.lost:,}",
            f"{row.server_cpu_ms:,.2f}" if row.server_cpu_ms else "—",
            f"{row.two_core_ceiling:,.0f}" if row.two_core_ceiling else "—",
            f"{row.peak_rss_mb:,.0f}",
        )
    console.print(table)
    console.print(
        "Goal: ≥ 500 submissions/s sustained on 2 cores, zero lost (reports written = 2xx answers).\n"
        "server CPU ms: web workers + their PostgreSQL backends per submission; 2-core /s: what two\n"
        "dedicated cores would sustain at that cost (the client and anything else on the machine excluded)."
    )


# The load: keep-alive connections driven by one thread (a selector loop, as wrk or ab would), each
# POSTing the next planned answer as soon as its previous one is answered. The requests are written out
# beforehand, so the client costs a few tens of µs a request and leaves the two cores to the server.


@dataclass
class _Burst:
    seconds: float
    latencies: list[float]
    ok: int
    failed: int


@dataclass
class _Connection:
    sock: socket.socket
    sent_at: float = 0.0
    received: bytes = b""


def _burst(port: int, cycle_id: int, plan: list[str], clients: int) -> _Burst:
    path = f"/api/cycles/{cycle_id}/report"
    pending = iter([_request(path, token, number) for number, token in enumerate(plan)])
    selector = selectors.DefaultSelector()
    latencies: list[float] = []
    failed = 0

    def send_next(connection: _Connection) -> None:
        request = next(pending, None)
        if request is None:
            selector.unregister(connection.sock)
            connection.sock.close()
            return
        connection.sent_at, connection.received = time.perf_counter(), b""
        connection.sock.sendall(request)

    started = time.perf_counter()
    for _ in range(min(clients, len(plan))):
        connection = _Connection(_connect(port))
        selector.register(connection.sock, selectors.EVENT_READ, connection)
        send_next(connection)
    while selector.get_map():
        for key, _ in selector.select(timeout=60):
            connection = key.data
            data = connection.sock.recv(65536)
            if not data:  # the server closed the connection: that request failed, carry on with a new one
                selector.unregister(connection.sock)
                connection.sock.close()
                failed += 1
                connection = _Connection(_connect(port))
                selector.register(connection.sock, selectors.EVENT_READ, connection)
                send_next(connection)
                continue
            connection.received += data
            response = _complete_response(connection.received)
            if response is None:
                continue
            status, closing = response
            if 200 <= status < 300:
                latencies.append(time.perf_counter() - connection.sent_at)
            else:
                failed += 1
            if closing:  # a server without keep-alive (runserver, gunicorn's sync workers)
                selector.unregister(connection.sock)
                connection.sock.close()
                connection = _Connection(_connect(port))
                selector.register(connection.sock, selectors.EVENT_READ, connection)
            send_next(connection)
    return _Burst(time.perf_counter() - started, latencies, len(latencies), failed)


def _request(path: str, token: str, number: int) -> bytes:
    body = json.dumps({"bullets": BULLETS[number % 4 :] + BULLETS[: number % 4][:1]}).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _complete_response(received: bytes) -> tuple[int, bool] | None:
    """The status of a whole HTTP/1.1 response (head and Content-Length body) and whether the server
    closes the connection after it; None while incomplete."""
    head_end = received.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = received[:head_end].decode("latin-1")
    length, closing = 0, head.startswith("HTTP/1.0")
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            closing = value.strip().lower() == "close"
    if len(received) < head_end + 4 + length:
        return None
    return int(head[9:12]), closing


def _connect(port: int) -> socket.socket:
    """A keep-alive connection without Nagle's algorithm (each request is one write, and Nagle would hold
    a second one until the server's delayed ACK)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _row(label: str, burst: _Burst, written: int, rss: float, cpu_seconds: float | None = None) -> Row:
    ordered = sorted(burst.latencies) or [0.0]
    return Row(
        measurement=label,
        submissions=burst.ok + burst.failed,
        seconds=burst.seconds,
        per_s=burst.ok / burst.seconds,
        p50_ms=statistics.median(ordered) * 1000,
        p95_ms=ordered[int(0.95 * (len(ordered) - 1))] * 1000,
        ok=burst.ok,
        failed=burst.failed,
        written=written,
        peak_rss_mb=rss,
        server_cpu_ms=cpu_seconds * 1000 / burst.ok if cpu_seconds and burst.ok else None,
    )


# Servers in their own processes.


class _Server:
    def __init__(self, command: list[str], port: int, env: dict) -> None:
        self.command, self.port, self.env = command, port, env

    def __enter__(self) -> _Server:
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command[2]} stopped: {self.process.stderr.read()[-2000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/api/openapi.json")
                if connection.getresponse().status == 200:
                    connection.close()
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.command[2]} did not answer on port {self.port} within 60 s")

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and its worker processes."""
        return sum(_process_cpu_seconds(pid) for pid in [self.process.pid, *_children(self.process.pid)])

    def peak_rss_mb(self) -> float:
        """The largest peak RSS (VmHWM) among the server and its worker processes."""
        pids = [self.process.pid, *_children(self.process.pid)]
        peaks = [_vm_hwm_kb(pid) for pid in pids]
        return max(peaks, default=0) / 1024

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _process_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _backend_cpu_seconds(database_url: str) -> float:
    """CPU time of the PostgreSQL backends serving the bench database (same machine, /proc readable)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        query = (
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [row[0] for row in connection.execute(query)]
    return sum(_process_cpu_seconds(pid) for pid in pids)


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_env(database_url: str, work: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        # Persistent connections: a production setting, and what a pool of workers needs.
        "DATABASE_CONN_MAX_AGE": "300",
        "DJANGO_SETTINGS_MODULE": "lastweek.settings",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "LASTWEEK_DATA_DIR": str(work),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT / "src"),
    }


def _child(step: str, params: dict, env: dict) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", step],
        input=json.dumps(params),
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def _count(database_url: str, cycle_id: int) -> int:
    import psycopg

    with psycopg.connect(database_url) as connection:
        query = "SELECT count(*) FROM reports_report WHERE cycle_id = %s AND channel = 'api'"
        return connection.execute(query, [cycle_id]).fetchone()[0]


# The bench database: a synthetic organization, loaded once.


# Set-up inside Django (a child process, so the measuring process stays light).


def run_child(step: str, params: dict) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    if step == "setup":
        return _setup(params["employees"], Path(params["tokens"]))
    raise SystemExit(f"unknown step {step!r}")


def _setup(employees: int, tokens_file: Path) -> dict:
    """A fresh directive whose cycle asks about `employees` people (smallest agencies first), a user and
    a personal token for each, written one per line to `tokens_file`; and the queries of one submission."""
    from django.db.models import Count
    from django.utils import timezone

    from lastweek.directives.actions import open_cycle
    from lastweek.directives.models import ASKED_MODES, Assignment, Directive
    from lastweek.directives.schedule import week_label
    from lastweek.org.models import Agency

    directive = Directive.objects.create(
        title=f"Bench submissions {time.time_ns()}",
        sender_name="Office of Personnel Management",
        status=Directive.Status.ACTIVE,
        whole_organization=False,
    )
    total = 0
    for agency in Agency.objects.annotate(n=Count("employees")).order_by("n", "code"):
        if total >= employees:
            break
        directive.audience_agencies.add(agency)
        total += agency.n
    cycle = open_cycle(directive, week_label(timezone.now().date()))
    people = list(
        Assignment.objects.filter(cycle=cycle, mode__in=ASKED_MODES)
        .order_by("employee_id")
        .values_list("employee_id", flat=True)[:employees]
    )
    values = _tokens_in_bulk(people)
    tokens_file.write_text("\n".join(values) + "\n")
    return {"cycle_id": cycle.pk, "people": len(values), "queries": _queries_per_submission(cycle, values[0])}


def _tokens_in_bulk(employee_ids: list[int]) -> list[str]:
    """A user for each employee who has none (linked in one statement) and a fresh token for each."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from lastweek.access.models import ApiToken
    from lastweek.access.tokens import PREFIX_SHOWN, hash_token, new_token_value
    from lastweek.org.models import Employee

    User = get_user_model()
    with transaction.atomic():
        unlinked = list(
            Employee.objects.filter(pk__in=employee_ids, user=None).values_list("pk", "employee_number")
        )
        users = User.objects.bulk_create(
            [User(username=f"bench-{number}", password="!") for _, number in unlinked],
            batch_size=2_000,
        )
        linked = [Employee(pk=pk, user_id=user.pk) for (pk, _), user in zip(unlinked, users, strict=True)]
        Employee.objects.bulk_update(linked, ["user"], batch_size=2_000)
        owners = dict(Employee.objects.filter(pk__in=employee_ids).values_list("pk", "user_id"))
        now = timezone.now()
        values = [new_token_value() for _ in employee_ids]
        ApiToken.objects.bulk_create(
            [
                ApiToken(
                    user_id=owners[employee_id],
                    name="bench",
                    key_hash=hash_token(value),
                    prefix=value[:PREFIX_SHOWN],
                    created_at=now,
                    expires_at=now + dt.timedelta(days=1),
                )
                for employee_id, value in zip(employee_ids, values, strict=True)
            ],
            batch_size=2_000,
        )
    return values


def _queries_per_submission(cycle, token: str) -> int:
    """The queries one API submission makes end to end (through the WSGI handler); that answer is
    removed again so the burst starts from nothing."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from lastweek.reports.models import Bullet, Report

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = json.dumps({"bullets": BULLETS[:3]})
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/cycles/{cycle.pk}/report", body, content_type="application/json")
    assert response.status_code == 201, response.content
    Bullet.objects.filter(report__cycle=cycle).delete()
    Report.objects.filter(cycle=cycle).delete()
    return len(queries)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
