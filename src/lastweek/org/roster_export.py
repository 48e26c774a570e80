"""Writing the roster back out as CSV, in the import's own format, streaming in constant memory.

Exporting and importing the result changes nothing, so an export is also a backup an HR office can
edit and send back.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import TextIO

from lastweek.org.models import Employee, Unit
from lastweek.org.roster import ROSTER_COLUMNS, UNIT_SEPARATOR

CHUNK_ROWS = 20_000


def export_roster(
    out: TextIO, *, agency_codes: list[str] | None = None, on_rows: Callable[[int], None] | None = None
) -> int:
    """Write every employee (separated ones too, so a re-import keeps them so) and return the count."""
    unit_paths = _unit_paths()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROSTER_COLUMNS)
    employees = Employee.objects.order_by("id")
    if agency_codes:
        employees = employees.filter(agency__code__in=agency_codes)
    rows = employees.values_list(
        "employee_number",
        "first_name",
        "last_name",
        "email",
        "agency__code",
        "agency__name",
        "unit_id",
        "title",
        "manager__employee_number",
        "time_zone",
        "status",
    )
    count = 0
    for row in rows.iterator(chunk_size=CHUNK_ROWS):
        writer.writerow((*row[:6], unit_paths[row[6]], row[7], row[8] or "", *row[9:]))
        count += 1
        if on_rows and count % CHUNK_ROWS == 0:
            on_rows(count)
    return count


def _unit_paths() -> dict[int, str]:
    """Unit id → 'Top > Middle > Unit', for every unit (tens of thousands at most: fits in memory)."""
    units = dict(Unit.objects.values_list("pk", "name"))
    paths = dict(Unit.objects.values_list("pk", "path"))
    return {
        pk: UNIT_SEPARATOR.join(units[int(part)] for part in path.strip("/").split("/"))
        for pk, path in paths.items()
    }
