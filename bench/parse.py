"""Parsing synthetic replies on one core: `intake.parse.parse_message` against the naive stdlib path.

Prints, for the same messages in the same run, each measurement in its own process (for its peak RSS):
- messages/s of `parse_message(raw)` (kind, addresses, references, new text without quotes and
  signature, bullets, bounce details);
- messages/s of the naive path, `email.message_from_bytes(raw, policy=policy.default)` then
  `get_body(("plain", "html")).get_content()` (the text only: no quotes removed, no bullets);
- messages/s of `email.message_from_bytes(raw, policy=policy.compat32)` alone, for reference;
- how many messages parse_message read as the kind they were generated as.

    .venv/bin/python bench/parse.py [--messages 50000] [--seed 42]

Goal: several thousand messages/s per core on 1 to 2 kB replies (the end-to-end intake goal is 8,000/s
on two cores including database writes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
DUE = dt.datetime(2026, 12, 1, 4, 59, tzinfo=dt.UTC)
STEPS = {
    "parse_message": "parse_message (kind, text, bullets)",
    "naive": "naive: policy.default + get_body()",
    "compat32": "reference: policy.compat32 parse only",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000, help="synthetic replies to parse")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.messages, args.seed)))
        return
    console = Console(width=120)
    results = {}
    for step, title in STEPS.items():
        console.print(f"  {title} × {args.messages:,} …")
        results[step] = _child(step, args.messages, args.seed)
    _print(console, args, results)


def _print(console: Console, args: argparse.Namespace, results: dict) -> None:
    sizes = results["parse_message"]
    table = Table(
        title=f"Parsing {args.messages:,} synthetic replies on one core "
        f"(mean {sizes['mean_bytes']:,.0f} bytes, median {sizes['median_bytes']:,} bytes)"
    )
    columns = ("measurement", "messages", "seconds", "messages/s", "per CPU second", "× naive", "peak RSS MB")
    for column in columns:
        table.add_column(column, justify="left" if column == "measurement" else "right", no_wrap=True)
    naive = results["naive"]["per_s"]
    for step, title in STEPS.items():
        result = results[step]
        ratio = result["per_s"] / naive
        table.add_row(
            title,
            f"{result['messages']:,}",
            f"{result['seconds']:,.2f}",
            f"{result['per_s']:,.0f}",
            f"{result['per_cpu_s']:,.0f}",
            f"{ratio:,.1f}×",
            f"{result['peak_rss_mb']:,.0f}",
        )
    console.print(table)
    expected = results["parse_message"]
    console.print(
        f"parse_message read {expected['as_generated']:,} of {expected['messages']:,} as the kind they were "
        f"generated as ({expected['kinds']})."
    )
    console.print(
        "Goal: several thousand messages/s per core (8,000/s end to end on two cores). "
        "On a shared machine the per-CPU-second rate is the one to compare."
    )


def _child(step: str, messages: int, seed: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", step, "--messages", str(messages), "--seed", str(seed)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def synthetic_replies(count: int, seed: int) -> list:
    """Replies from a synthetic workforce of `count` people, as the benchmark and the intake see them."""
    from lastweek.synth.replies import ReplyRequest, reply_for
    from lastweek.synth.workforce import workforce

    people = workforce(count, seed=seed)
    return [
        reply_for(
            ReplyRequest(
                assignment_id=number,
                reply_address=f"reply+{number:x}bench0@lastweek.example.gov",
                first_name=person.first_name,
                last_name=person.last_name,
                email=person.email,
                agency_name=person.agency_name,
                title=person.title,
                manager_name="Maria Manager",
                due_at=DUE,
                request_message_id=f"<2026-W48.{number}.bench@lastweek.example.gov>",
            ),
            seed,
        )
        for number, person in enumerate(people, start=1)
    ]


def run_child(step: str, count: int, seed: int) -> dict:
    import email
    from collections import Counter
    from email import policy

    from lastweek.intake.parse import parse_message

    generated = synthetic_replies(count, seed)
    raws = [reply.raw for reply in generated]
    expected = [reply.kind for reply in generated]
    del generated
    # The messages stay in memory for the whole run; keep the collector from scanning them again and
    # again (an intake worker holds one batch at a time, not a whole run).
    gc.collect()
    gc.freeze()
    result: dict = {}
    cpu_started = time.process_time()
    started = time.perf_counter()
    if step == "parse_message":
        kinds: Counter[str] = Counter()
        as_generated = 0
        for raw, kind in zip(raws, expected, strict=True):
            parsed = parse_message(raw)
            kinds[parsed.kind.value] += 1
            as_generated += parsed.kind == kind
        seconds = time.perf_counter() - started
        result["as_generated"] = as_generated
        result["kinds"] = ", ".join(f"{kind} {n:,}" for kind, n in kinds.most_common())
    elif step == "naive":
        for raw in raws:
            body = email.message_from_bytes(raw, policy=policy.default).get_body(("plain", "html"))
            if body is not None:
                body.get_content()
        seconds = time.perf_counter() - started
    else:
        for raw in raws:
            email.message_from_bytes(raw, policy=policy.compat32)
        seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    sizes = sorted(len(raw) for raw in raws)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        **result,
        "messages": count,
        "seconds": seconds,
        "per_s": count / seconds,
        "per_cpu_s": count / cpu_seconds,
        "peak_rss_mb": peak,
        "mean_bytes": sum(sizes) / len(sizes),
        "median_bytes": sizes[len(sizes) // 2],
    }


if __name__ == "__main__":
    main()
