"""Exports of statuses and reports, as CSV or Parquet, in constant memory.

One row per assignment: who, where, the status and the current answer's bullets. Rows stream from a
server-side cursor in chunks; each chunk's bullets are read in one query, and only for the reports whose
text the caller may read (`reports.reading.report_filter`); other rows carry their status with the text
left out (`text_included` says which). CSV cells that a spreadsheet would run as a formula are prefixed
with an apostrophe. Exporting someone else's report text writes one audit event.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q
from django.utils import timezone

from lastweek import audit
from lastweek.access.scopes import employee_filter, linked_employee
from lastweek.compliance.status import StatusRow, status_rows
from lastweek.directives.models import Assignment, Cycle
from lastweek.org.models import Agency, Employee, Unit, reporting_subtree_sql
from lastweek.reports.models import Bullet, Report
from lastweek.reports.reading import report_filter

CHUNK = 5_000
COLUMNS = (
    "week",
    "cycle_id",
    "employee_number",
    "first_name",
    "last_name",
    "agency",
    "unit_id",
    "unit",
    "mode",
    "status",
    "reason",
    "due_at",
    "received_at",
    "channel",
    "text_included",
    "bullets",
)
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BULLET_SEPARATOR = "\n"


class ExportError(ValueError):
    """A scope or range that cannot be exported, with what to give instead."""


@dataclass(frozen=True)
class ExportScope:
    """Which assignments: "organization", "agency:CODE", "unit:ID" (and below), "employee:NUMBER", or
    "line:NUMBER" (everyone below that employee in the reporting line)."""

    kind: str
    value: str = ""

    @classmethod
    def parse(cls, text: str) -> ExportScope:
        kind, _, value = text.partition(":")
        if kind == "organization" and not value:
            return cls(kind)
        if kind in ("agency", "unit", "employee", "line") and value:
            return cls(kind, value)
        raise ExportError(
            f"Unknown scope {text!r}: use agency:CODE, unit:ID, employee:NUMBER, line:NUMBER or organization."
        )

    def condition(self) -> Q:
        """The filter on assignments; raises ExportError when the agency, unit or person is unknown."""
        if self.kind == "organization":
            return Q()
        if self.kind == "agency":
            agency = Agency.objects.filter(code=self.value.upper()).first()
            if agency is None:
                raise ExportError(f"No agency {self.value!r}; agency codes are like VA or DHS.")
            return Q(agency=agency)
        if self.kind == "unit":
            unit = Unit.objects.filter(pk=int(self.value) if self.value.isdigit() else None).first()
            if unit is None:
                raise ExportError(f"No unit {self.value!r}; give the unit's number (see the admin).")
            return Q(unit__path__startswith=unit.path)
        employee = Employee.objects.filter(employee_number=self.value).first()
        if employee is None:
            raise ExportError(f"No employee number {self.value!r} on the roster.")
        if self.kind == "line":
            return Q(employee_id__in=reporting_subtree_sql(employee.pk))
        return Q(employee=employee)

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind


def neutralise(value: str) -> str:
    """The cell as text a spreadsheet will not evaluate: a leading formula character gets a `'`."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


@dataclass
class ExportResult:
    rows: int = 0
    texts: int = 0
    others_texts: int = 0


def select_cycles(
    cycle_ids: Iterable[int] = (),
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    directive_id: int | None = None,
) -> list[Cycle]:
    """The cycles named, or those whose reported week starts within [date_from, date_to]."""
    cycles = Cycle.objects.select_related("directive").order_by("week_start", "id")
    ids = list(cycle_ids)
    if ids:
        found = list(cycles.filter(pk__in=ids))
        missing = sorted(set(ids) - {cycle.pk for cycle in found})
        if missing:
            raise ExportError(f"No cycle {missing[0]}; `lastweek cycle list` shows them.")
        return found
    if date_from is None and date_to is None:
        raise ExportError("Give a cycle, or a range of weeks with --from and/or --to.")
    if date_from is not None:
        cycles = cycles.filter(week_start__gte=date_from)
    if date_to is not None:
        cycles = cycles.filter(week_start__lte=date_to)
    if directive_id is not None:
        cycles = cycles.filter(directive_id=directive_id)
    return list(cycles)


User = AbstractBaseUser | AnonymousUser | None


class Exporter:
    """Rows of the scope in the cycles, as the caller `user` may see them (None: the operator, who gets
    statuses for the whole scope and no report text)."""

    def __init__(
        self,
        cycles: list[Cycle],
        scope: ExportScope,
        user: User = None,
        on_chunk: Callable[[int], None] | None = None,
    ) -> None:
        self.cycles, self.scope, self.user, self.on_chunk = cycles, scope, user, on_chunk
        self.result = ExportResult()
        self.now = timezone.now()
        self.own_employee = linked_employee(user) if user is not None else None

    def assignments(self):
        query = Assignment.objects.filter(cycle__in=self.cycles).filter(self.scope.condition())
        if self.user is not None:
            query = query.filter(employee_filter(self.user, via="employee__"))
        return query

    def chunks(self) -> Iterator[list[tuple[StatusRow, list[str] | None]]]:
        """Chunks of (row, bullets or None when the text is not included)."""
        rows = status_rows(self.assignments(), self.now, chunk_size=CHUNK)
        while chunk := list(itertools.islice(rows, CHUNK)):
            texts = self._texts([row.report_id for row in chunk if row.report_id])
            self.result.rows += len(chunk)
            if self.on_chunk is not None:
                self.on_chunk(len(chunk))
            yield [(row, texts.get(row.report_id) if row.report_id else None) for row in chunk]

    def _texts(self, report_ids: list[int]) -> dict[int, list[str]]:
        """The bullets of the reports among `report_ids` whose text the user may read: one query."""
        if self.user is None or not report_ids:
            return {}
        readable = Report.objects.filter(report_filter(self.user), pk__in=report_ids).values("pk")
        bullets = (
            Bullet.objects.filter(report_id__in=readable)
            .order_by("report_id", "position")
            .values_list("report_id", "report__employee_id", "text")
        )
        texts: dict[int, list[str]] = defaultdict(list)
        own = self.own_employee.pk if self.own_employee else None
        others: set[int] = set()
        for report_id, employee_id, text in bullets:
            texts[report_id].append(text)
            if employee_id != own:
                others.add(report_id)
        self.result.texts += len(texts)
        self.result.others_texts += len(others)
        return texts

    def finish(self, fmt: str) -> ExportResult:
        """Audit the export when it carried other people's report text."""
        if self.result.others_texts:
            audit.record(
                self.user,
                "report.export",
                scope=str(self.scope),
                purpose="export",
                detail={
                    "format": fmt,
                    "rows": self.result.rows,
                    "reports_read": self.result.others_texts,
                    "cycles": [cycle.pk for cycle in self.cycles],
                },
            )
        return self.result


def _cells(row: StatusRow, bullets: list[str] | None) -> list:
    return [
        row.week,
        row.cycle_id,
        row.employee_number,
        row.first_name,
        row.last_name,
        row.agency_code,
        row.unit_id,
        row.unit_name,
        row.mode,
        row.status.value,
        row.reason,
        row.due_at.isoformat() if row.due_at else "",
        row.received_at.isoformat() if row.received_at else "",
        row.channel,
        "yes" if bullets is not None else "no",
        bullets,
    ]


def csv_lines(exporter: Exporter) -> Iterator[list[str]]:
    """CSV records (header first), every text cell neutralised."""
    yield list(COLUMNS)
    for chunk in exporter.chunks():
        for row, bullets in chunk:
            cells = _cells(row, bullets)
            cells[-1] = BULLET_SEPARATOR.join(bullets or [])
            yield [neutralise(cell) if isinstance(cell, str) else cell for cell in cells]


def write_csv(exporter: Exporter, out: IO[str]) -> ExportResult:
    writer = csv.writer(out)
    for record in csv_lines(exporter):
        writer.writerow(record)
    return exporter.finish("csv")


SCHEMA = pa.schema(
    [
        ("week", pa.string()),
        ("cycle_id", pa.int64()),
        ("employee_number", pa.string()),
        ("first_name", pa.string()),
        ("last_name", pa.string()),
        ("agency", pa.string()),
        ("unit_id", pa.int64()),
        ("unit", pa.string()),
        ("mode", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("due_at", pa.timestamp("us", tz="UTC")),
        ("received_at", pa.timestamp("us", tz="UTC")),
        ("channel", pa.string()),
        ("text_included", pa.bool_()),
        ("bullets", pa.list_(pa.string())),
    ]
)


def write_parquet(exporter: Exporter, out) -> ExportResult:
    """One Parquet row group per chunk: memory holds one chunk, whatever the export's size."""
    with pq.ParquetWriter(out, SCHEMA, compression="zstd") as writer:
        for chunk in exporter.chunks():
            columns: dict[str, list] = {name: [] for name in COLUMNS}
            for row, bullets in chunk:
                cells = _cells(row, bullets)
                cells[11], cells[12] = row.due_at, row.received_at
                cells[14] = bullets is not None
                for name, cell in zip(COLUMNS, cells, strict=True):
                    columns[name].append(cell)
            writer.write_table(pa.Table.from_pydict(columns, schema=SCHEMA))
    return exporter.finish("parquet")
