"""The summary table printed by `lastweek ingest` and `lastweek reprocess`."""

from __future__ import annotations

import io
from typing import TextIO

from rich.console import Console
from rich.table import Table

from lastweek.intake.actions import Tally
from lastweek.intake.models import InboundMessage

State = InboundMessage.State


def summary_rows(tally: Tally, extra: dict[str, int] | None = None) -> list[tuple[str, int]]:
    """(label, count) rows: what was processed and what became of it, quarantine by reason last."""
    counts = tally.counts
    rows = [(label, value) for label, value in (extra or {}).items()]
    rows += [
        ("parsed", counts["processed"]),
        ("attributed", counts[State.ATTRIBUTED]),
        ("  answers recorded as reports", counts["reports"]),
        ("    of which late", counts["late"]),
        ("  automatic replies", counts["auto_reply"]),
        ("  bounces", counts["bounce"]),
        ("duplicates (recorded before)", counts[State.DUPLICATE]),
        ("refused by submit", counts[State.REFUSED]),
        ("quarantined", counts[State.QUARANTINED]),
    ]
    rows += [(f"  {reason}", value) for reason, value in sorted(tally.quarantined.items())]
    return rows


def print_summary(out: TextIO, title: str, tally: Tally, extra: dict[str, int] | None = None) -> None:
    table = Table(title=title)
    table.add_column("messages")
    table.add_column("count", justify="right")
    for label, value in summary_rows(tally, extra):
        table.add_row(label, f"{value:,}")
    buffer = io.StringIO()
    Console(file=buffer, width=110).print(table)
    out.write(buffer.getvalue().rstrip("\n"))
