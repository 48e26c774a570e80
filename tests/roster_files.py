"""Writing small roster CSV files for tests."""

import csv
from pathlib import Path

from lastweek.org.roster import ROSTER_COLUMNS

HEADER = ",".join(ROSTER_COLUMNS)


def person(number: str, manager: str = "", **fields: str) -> dict[str, str]:
    """A valid roster row; `fields` override any column."""
    row = {
        "employee_number": number,
        "first_name": f"Given{number}",
        "last_name": f"Family{number}",
        "email": f"person{number}@va.gov",
        "agency_code": "VA",
        "agency_name": "Department of Veterans Affairs",
        "unit_path": "Veterans Health Administration > VISN 1",
        "title": "Program Analyst",
        "manager_number": manager,
        "time_zone": "America/New_York",
        "status": "active",
    }
    row.update(fields)
    return row


def write_roster(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=ROSTER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def small_agency() -> list[dict[str, str]]:
    """A head, two deputies, and staff under each: seven people, three unit levels."""
    return [
        person("1", unit_path="Office of the Secretary", title="Secretary"),
        person("2", "1", unit_path="Veterans Health Administration"),
        person("3", "1", unit_path="Veterans Benefits Administration"),
        person("4", "2", unit_path="Veterans Health Administration > VISN 1"),
        person("5", "4", unit_path="Veterans Health Administration > VISN 1 > Boston"),
        person("6", "4", unit_path="Veterans Health Administration > VISN 1 > Boston", status="on_leave"),
        person(
            "7",
            "3",
            unit_path="Veterans Benefits Administration > Regional Office",
            time_zone="America/Denver",
        ),
    ]
