"""How soon the compliance figures show a change, at 2.3 M assignments on PostgreSQL.

Prints, next to baselines measured in the same run:
- (a) answer → every rollup above it: while a steady stream of answers arrives (`--rate`, 300 a second by
  default, through `submit_many()` in batches of a tenth of a second, in other agencies), a probe answers
  for one person of a probe agency and reads, without catching up itself (`ensure=False`), the rollups of
  the person's unit, every unit above it and the agency until each counts the answer. The counts are
  brought current by `follow()`, the loop `lastweek worker` runs, in a process of its own. Baseline: the
  same probe with the loop running once a minute, as the worker's periodic recount did before
  (`--baseline-probes`, each waits up to a minute).
- (b) a policy change on a unit of about 10,000 people (`set_policy`, paused) → the unit's and the
  agency's rollups count them all as paused. Baseline: the full rebuild of the cycle's counts
  (`refresh_cycle`) that a policy change used to trigger.
Goals: (a) p95 ≤ 2 s, (b) ≤ 5 s, with no full rebuild.

    .venv/bin/python bench/freshness.py [--employees 2300000] [--probes 20] [--rate 300] [--reuse]

The roster is generated and imported once into the database `lastweek_bench_freshness`; `--reuse` keeps it
and its cycle. Each measurement runs in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time

from rich.console import Console
from rich.table import Table

import bench_database
import machine_speed

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/test"
DATABASE = "lastweek_bench_freshness"
WEEK = "2026-W48"
GOAL_ANSWER_S = 2.0
GOAL_POLICY_S = 5.0
POLICY_UNIT_PEOPLE = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=2_300_000)
    parser.add_argument("--probes", type=int, default=20, help="answers timed under load")
    parser.add_argument("--baseline-probes", type=int, default=2, help="answers timed with a minute's loop")
    parser.add_argument("--rate", type=int, default=300, help="answers a second arriving meanwhile")
    parser.add_argument("--every", type=float, default=1.0, help="the loop's period (seconds)")
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
        bench_database.load(console, args.postgres, url, args.employees)
    console.print("  opening the cycle and building its counts …")
    setup = _child("setup", {}, url)
    console.print(f"  {setup['assignments']:,} assignments; probe agency {setup['probe_agency']}")
    results = {"setup": setup, "speed": _child("speed", {}, url)}
    console.print("  full rebuild of the counts (the old path of a policy change) …")
    results["rebuild"] = _child("rebuild", {}, url)
    console.print(f"  answers under load: {args.probes} probes at {args.rate}/s, loop every {args.every} s …")
    with _running("follow", {"every": args.every}, url), _running("load", {"rate": args.rate}, url) as load:
        results["answers"] = _child("probe", {"probes": args.probes, "timeout": 30}, url)
    results["answers"]["load"] = load.result
    console.print(f"    {json.dumps(results['answers'])}")
    console.print("  a policy change on a 10,000-person unit, loop every second …")
    with _running("follow", {"every": args.every}, url):
        results["policy"] = _child("policy", {"timeout": 60}, url)
    console.print(f"    {json.dumps(results['policy'])}")
    if args.baseline_probes:
        console.print(f"  baseline: {args.baseline_probes} probes with the loop once a minute …")
        with _running("follow", {"every": 60.0}, url), _running("load", {"rate": args.rate}, url):
            results["baseline"] = _child("probe", {"probes": args.baseline_probes, "timeout": 180}, url)
    _print(console, results, args)


def _print(console: Console, results: dict, args) -> None:
    setup = results["setup"]
    table = Table(
        title=f"Freshness of the compliance figures, {setup['assignments']:,} assignments (PostgreSQL)"
    )
    for column in ("measurement", "n", "p50 s", "p95 s", "max s", "× baseline (p95)", "goal"):
        table.add_column(column, justify="left" if column == "measurement" else "right", no_wrap=True)
    answers, baseline = results["answers"], results.get("baseline")
    ratio = f"{baseline['p95_s'] / answers['p95_s']:,.0f}× sooner" if baseline else "—"
    load = answers["load"] or {}
    table.add_row(
        f"(a) answer → unit, {answers['levels']} units above, agency; {load.get('per_s', 0):,.0f} answers/s",
        str(answers["n"]), f"{answers['p50_s']:.2f}", f"{answers['p95_s']:.2f}", f"{answers['max_s']:.2f}",
        ratio, f"≤ {GOAL_ANSWER_S:g} s",
    )  # fmt: skip
    if baseline:
        table.add_row(
            "    baseline: the same with a recount once a minute",
            str(baseline["n"]), f"{baseline['p50_s']:.2f}", f"{baseline['p95_s']:.2f}",
            f"{baseline['max_s']:.2f}", "1×", "",
        )  # fmt: skip
    policy, rebuild = results["policy"], results["rebuild"]
    table.add_row(
        f"(b) pause {policy['people']:,} people ({policy['units']:,} units) → unit and agency",
        "1", f"{policy['visible_s']:.2f}", f"{policy['visible_s']:.2f}", f"{policy['visible_s']:.2f}",
        f"{rebuild['seconds'] / policy['visible_s']:,.1f}× sooner", f"≤ {GOAL_POLICY_S:g} s",
    )  # fmt: skip
    table.add_row(
        "    the policy saved (re-decided, recorded, signalled)",
        "1", f"{policy['saved_s']:.2f}", "", "", "", "",
    )  # fmt: skip
    table.add_row(
        f"    baseline: full rebuild of the cycle ({rebuild['rows']:,} rows)",
        "1", f"{rebuild['seconds']:.2f}", "", "", "1×", "",
    )  # fmt: skip
    console.print(table)
    console.print(
        f"Load: {load.get('answers', 0):,} answers in {load.get('seconds', 0):.0f} s "
        f"({load.get('per_s', 0):,.0f}/s asked {args.rate}/s). Full rebuilds during (a) and (b): "
        f"{answers['rebuilds'] + policy['rebuilds']}. Peak RSS: probe {answers['peak_rss_mb']:,.0f} MB."
    )
    speed = results["speed"]
    console.print(
        f"Machine: {speed['machine']}; Python {speed['python']}. Its speed: the stdlib's compat32 parser "
        f"reads {speed['per_s']:,.0f} short generated replies a second on one process (bench/intake.py "
        "reads its own corpus, longer mail, the same way)."
    )


class _Background:
    result: dict | None = None


class _running:
    """A child process for the length of a `with` block; SIGTERM ends it, and its JSON is kept."""

    def __init__(self, step: str, arg: dict, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--child", step],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=_env(url),
        )
        self.process.stdin.write(json.dumps(arg))
        self.process.stdin.close()
        self.process.stdin = None  # written and closed: communicate() has nothing to send
        self.background = _Background()

    def __enter__(self) -> _Background:
        time.sleep(2)  # Django set up, the first pass done
        return self.background

    def __exit__(self, *exc_info) -> None:
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=120)
        lines = output.strip().splitlines()
        self.background.result = json.loads(lines[-1]) if lines else None


def _env(url: str) -> dict:
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "lastweek.settings"}


def _child(step: str, arg: dict, url: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", step],
        input=json.dumps(arg),
        capture_output=True,
        text=True,
        env=_env(url),
    )
    if output.returncode:
        raise SystemExit(f"step {step} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def run_child(step: str, arg: dict) -> dict:
    import django

    django.setup()
    result = STEPS[step](**arg)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _stopped_by_sigterm() -> threading.Event:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return stop


# Setup: a directive asking everyone, its open cycle, the counts built.


def _cycle():
    from lastweek.directives.models import Cycle

    return Cycle.objects.select_related("directive").get(directive__title="Bench freshness", week=WEEK)


def _probe_agency():
    """A middle-sized agency: its units take the probe's answers, and no other answers arrive there."""
    from django.db.models import Count

    from lastweek.org.models import Agency

    agencies = list(Agency.objects.annotate(n=Count("employees")).order_by("-n"))
    return agencies[len(agencies) // 2]


def _setup() -> dict:
    from django.core.management import call_command

    from lastweek.compliance.models import CycleSummary
    from lastweek.compliance.summaries import refresh_cycle
    from lastweek.directives.actions import open_cycle
    from lastweek.directives.models import Cycle, Directive

    call_command("migrate", interactive=False, verbosity=0)
    directive, _ = Directive.objects.get_or_create(
        title="Bench freshness",
        defaults={"sender_name": "Office of Personnel Management", "status": "active"},
    )
    cycle = Cycle.objects.filter(directive=directive, week=WEEK).first() or open_cycle(directive, WEEK)
    if not CycleSummary.objects.filter(cycle=cycle).exists():
        refresh_cycle(cycle)
    return {"assignments": cycle.assignment_count, "probe_agency": _probe_agency().code}


def _rebuild() -> dict:
    from lastweek.compliance.summaries import refresh_cycle

    started = time.perf_counter()
    rows = refresh_cycle(_cycle())
    return {"rows": rows, "seconds": time.perf_counter() - started}


def _speed() -> dict:
    """How fast this machine runs Python: the stdlib's compat32 parser (bench/machine_speed.py) over
    10,000 short generated replies."""
    import random

    rng = random.Random(42)
    raws = [
        (
            f"From: someone{n}@agency.example\r\nTo: reply+{n}@lastweek.example\r\nSubject: Re: last week\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n- Closed {rng.randint(1, 99)} cases\r\n"
            "- Drafted the quarterly report\r\n> quoted request\r\n"
        ).encode()
        for n in range(10_000)
    ]
    seconds = machine_speed.compat32_seconds(raws)
    return {
        "machine": machine_speed.machine(),
        "python": machine_speed.python(),
        "per_s": len(raws) / seconds,
    }


# The loop the worker runs, and the stream of answers.


def _follow(every: float) -> dict:
    from lastweek.compliance.summaries import follow

    follow(_stopped_by_sigterm(), every=every)
    return {}


def _load(rate: int) -> dict:
    """Answers at `rate` a second from required people outside the probe agency, in batches of a tenth of
    a second through `submit_many()`, as the mail intake stores them."""
    from django.utils import timezone

    from lastweek.directives.models import Assignment, Mode
    from lastweek.reports.bulk import Submission, load_assignments, submit_many
    from lastweek.reports.models import Channel

    stop = _stopped_by_sigterm()
    cycle = _cycle()
    pending = (
        Assignment.objects.filter(cycle=cycle, mode=Mode.REQUIRED, reports__isnull=True)
        .exclude(agency=_probe_agency())
        .order_by("?")
        .values_list("pk", flat=True)
    )
    ids = iter(pending[: rate * 600])
    batch = max(1, rate // 10)
    sent, started = 0, time.monotonic()
    while not stop.is_set():
        chunk = [next(ids, None) for _ in range(batch)]
        chunk = [assignment_id for assignment_id in chunk if assignment_id is not None]
        if not chunk:
            break
        facts = load_assignments(chunk)
        now = timezone.now()
        submissions = [
            Submission(facts[i], ["Cleared the address-change backlog"], now, f"bench-{i}") for i in chunk
        ]
        submit_many(submissions, channel=Channel.EMAIL)
        sent += len(chunk)
        pause = started + sent / rate - time.monotonic()
        if pause > 0:
            stop.wait(pause)
    seconds = time.monotonic() - started
    return {"answers": sent, "seconds": seconds, "per_s": sent / seconds if seconds else 0}


# The measurements.


def _answered(counts) -> int:
    from lastweek.compliance.status import Status

    return counts.by_status[Status.ON_TIME] + counts.by_status[Status.LATE]


def _probe(probes: int, timeout: float) -> dict:
    """Answer for one person at a time in the probe agency; time until every rollup above counts it."""
    from lastweek.compliance.models import CycleSummary
    from lastweek.compliance.rollup import agency_rollups, unit_rollups
    from lastweek.directives.models import Assignment, Mode
    from lastweek.org.models import Unit
    from lastweek.reports import submit

    cycle = _cycle()
    built = CycleSummary.objects.get(cycle=cycle).built_at
    agency = _probe_agency()
    people = (
        Assignment.objects.filter(cycle=cycle, agency=agency, mode=Mode.REQUIRED, reports__isnull=True)
        .select_related("cycle__directive")
        .order_by("?")[:probes]
    )
    delays, levels = [], 0
    for assignment in people:
        unit_ids = [int(part) for part in Unit.objects.get(pk=assignment.unit_id).path.strip("/").split("/")]
        levels = len(unit_ids) - 1
        before = _probe_counts(cycle, unit_ids, agency.pk, unit_rollups, agency_rollups)
        submit(assignment, ["Answered the probe"], channel="web")  # committed on return
        committed = time.perf_counter()
        while True:
            after = _probe_counts(cycle, unit_ids, agency.pk, unit_rollups, agency_rollups)
            if all(after[key] == before[key] + 1 for key in before):
                delays.append(time.perf_counter() - committed)
                break
            if time.perf_counter() - committed > timeout:
                raise SystemExit(f"the answer of assignment {assignment.pk} was not counted in {timeout} s")
            time.sleep(0.02)
        time.sleep(0.5)
    ordered = sorted(delays)
    rebuilds = int(CycleSummary.objects.get(cycle=cycle).built_at != built)
    return {
        "n": len(ordered),
        "levels": levels,
        "p50_s": statistics.median(ordered),
        "p95_s": ordered[max(0, round(0.95 * len(ordered)) - 1)],
        "max_s": ordered[-1],
        "rebuilds": rebuilds,
    }


def _probe_counts(cycle, unit_ids, agency_id, unit_rollups, agency_rollups) -> dict:
    units = unit_rollups([cycle], unit_ids, ensure=False)
    agency = agency_rollups([cycle], [agency_id], ensure=False)
    counts = {("unit", unit_id): _answered(units[(cycle.pk, unit_id)]) for unit_id in unit_ids}
    counts["agency"] = _answered(agency[(cycle.pk, agency_id)])
    return counts


def _policy(timeout: float) -> dict:
    """Pause the unit whose subtree is nearest 10,000 people; time until its and its agency's rollups
    count every one of them as paused."""
    from collections import Counter

    from django.db.models import Count

    from lastweek.compliance.models import CycleSummary
    from lastweek.compliance.rollup import agency_rollups, unit_rollups
    from lastweek.compliance.status import Status
    from lastweek.directives.actions import set_policy
    from lastweek.directives.models import Assignment, Mode
    from lastweek.org.models import Unit

    cycle = _cycle()
    built = CycleSummary.objects.get(cycle=cycle).built_at
    # The people a unit policy re-decides: required, not on leave, no individual exemption.
    sizes = (
        Assignment.objects.filter(cycle=cycle, mode=Mode.REQUIRED, on_leave=False, exemption__isnull=True)
        .values("unit_id")
        .annotate(n=Count("id"))
    )
    people_below: Counter = Counter()
    units_below: Counter = Counter()
    per_unit = {row["unit_id"]: row["n"] for row in sizes}
    probe_agency = _probe_agency().pk
    for unit_id, agency_id, path in Unit.objects.values_list("id", "agency_id", "path").iterator():
        if agency_id == probe_agency:
            continue
        for ancestor in path.strip("/").split("/"):
            people_below[int(ancestor)] += per_unit.get(unit_id, 0)
            units_below[int(ancestor)] += 1
    best = min(people_below, key=lambda unit_id: abs(people_below[unit_id] - POLICY_UNIT_PEOPLE))
    best_people, best_units = people_below[best], units_below[best]
    unit = Unit.objects.get(pk=best)
    paused_before = unit_rollups([cycle], [unit.pk], ensure=False)[(cycle.pk, unit.pk)].by_status[
        Status.PAUSED
    ]
    agency_before = agency_rollups([cycle], [unit.agency_id], ensure=False)[(cycle.pk, unit.agency_id)]
    started = time.perf_counter()
    set_policy(cycle.directive, unit=unit, mode=Mode.PAUSED, reason="Bench: paused", actor=None)
    saved = time.perf_counter()
    while True:
        counts = unit_rollups([cycle], [unit.pk], ensure=False)[(cycle.pk, unit.pk)]
        agency = agency_rollups([cycle], [unit.agency_id], ensure=False)[(cycle.pk, unit.agency_id)]
        if (
            counts.by_status[Status.PAUSED] - paused_before >= best_people
            and agency.by_status[Status.PAUSED] - agency_before.by_status[Status.PAUSED] >= best_people
        ):
            break
        if time.perf_counter() - saved > timeout:
            raise SystemExit(f"the pause of unit {unit.pk} was not counted in {timeout} s")
        time.sleep(0.02)
    visible = time.perf_counter()
    rebuilds = int(CycleSummary.objects.get(cycle=cycle).built_at != built)
    set_policy(cycle.directive, unit=unit, mode=Mode.REQUIRED, reason="Bench: back", actor=None)
    return {
        "people": best_people,
        "units": best_units,
        "saved_s": saved - started,
        "visible_s": visible - saved,
        "rebuilds": rebuilds,
    }


STEPS = {
    "setup": _setup,
    "speed": _speed,
    "rebuild": _rebuild,
    "follow": _follow,
    "load": _load,
    "probe": _probe,
    "policy": _policy,
}


if __name__ == "__main__":
    main()
