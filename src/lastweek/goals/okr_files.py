"""OKR files: import from and export to YAML or CSV (the format is in docs/goals.md).

An import checks everything and writes nothing unless the whole file is good; each problem is reported
as `line N: reason`, the line where the objective or key result starts. Objectives are matched by agency,
period and code: a known one is updated (its key results replaced in the file's order), a new one created.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

import yaml
from django.db import transaction

from lastweek.goals import actions, progress
from lastweek.goals.models import KeyResult, Metric, Objective
from lastweek.org.models import Agency, Employee, Unit

UNIT_SEPARATOR = " > "
CSV_COLUMNS = [
    "agency",
    "unit",
    "period",
    "code",
    "title",
    "description",
    "owner_role",
    "status",
    "supports",
    "kr_title",
    "metric",
    "start",
    "target",
    "current",
    "unit_of_measure",
    "kr_owner",
]
OBJECTIVE_COLUMNS = CSV_COLUMNS[: CSV_COLUMNS.index("kr_title")]


@dataclass(frozen=True)
class FileError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class OkrFileInvalid(Exception):
    """The file has errors; nothing was written. `errors` holds each of them, in line order."""

    def __init__(self, errors: list[FileError]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = sorted(errors, key=lambda error: error.line)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    key_results: int = 0
    codes: list[str] = field(default_factory=list)


# Reading


class _LineLoader(yaml.SafeLoader):
    """Safe YAML that remembers where each mapping starts, so errors can name the line."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def read_file(path: Path) -> list[dict[str, Any]]:
    """The objectives of a .yaml/.yml or .csv file, as dicts with `__line__` and `key_results`."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        return read_csv(text)
    if path.suffix.lower() in (".yaml", ".yml"):
        return read_yaml(text)
    raise OkrFileInvalid([FileError(1, "unknown file type: name it .yaml, .yml or .csv")])


def read_yaml(text: str) -> list[dict[str, Any]]:
    try:
        # _LineLoader is a SafeLoader: plain data only, never arbitrary objects.
        document = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 1
        raise OkrFileInvalid([FileError(line, f"not valid YAML: {error.problem}")]) from error
    if not isinstance(document, dict) or not isinstance(document.get("objectives"), list):
        raise OkrFileInvalid([FileError(1, "the file must have a top-level 'objectives:' list")])
    records = []
    for item in document["objectives"]:
        if not isinstance(item, dict):
            raise OkrFileInvalid([FileError(1, "each objective must be a mapping of fields")])
        item.setdefault("key_results", [])
        records.append(item)
    return records


def read_csv(text: str) -> list[dict[str, Any]]:
    """One row per key result; rows with the same agency, period and code make one objective."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [
        column for column in ("agency", "period", "code", "title") if column not in (reader.fieldnames or [])
    ]
    if missing:
        raise OkrFileInvalid([FileError(1, f"missing column(s): {', '.join(missing)}")])
    objectives: dict[tuple[str, str, str], dict[str, Any]] = {}
    errors: list[FileError] = []
    start = 2
    for row in reader:
        line, start = start, reader.line_num + 1
        row = {key: (value or "").strip() for key, value in row.items() if key is not None}
        key = (row.get("agency", ""), row.get("period", ""), row.get("code", ""))
        record = objectives.get(key)
        if record is None:
            record = {name: row.get(name, "") for name in OBJECTIVE_COLUMNS} | {"__line__": line}
            record["supports"] = [ref.strip() for ref in row.get("supports", "").split(";") if ref.strip()]
            record["key_results"] = []
            objectives[key] = record
        else:
            for name in ("title", "unit", "status", "owner_role"):
                if row.get(name) and row[name] != record[name]:
                    errors.append(
                        FileError(
                            line, f"{name} differs from the objective's first row (line {record['__line__']})"
                        )
                    )
        if row.get("kr_title"):
            record["key_results"].append(
                {
                    "__line__": line,
                    "title": row["kr_title"],
                    "metric": row.get("metric", ""),
                    "start": row.get("start", ""),
                    "target": row.get("target", ""),
                    "current": row.get("current", ""),
                    "unit_of_measure": row.get("unit_of_measure", ""),
                    "owner": row.get("kr_owner", ""),
                }
            )
    if errors:
        raise OkrFileInvalid(errors)
    return list(objectives.values())


# Importing


def import_okrs(path: Path, *, actor=None) -> ImportResult:
    """Validate and import an OKR file in one transaction; raise OkrFileInvalid with every error."""
    return import_records(read_file(path), actor=actor)


def import_records(records: list[dict[str, Any]], *, actor=None) -> ImportResult:
    errors: list[FileError] = []
    result = ImportResult()
    units = _UnitIndex()
    # Higher levels first, so that a unit's objective can support a key result defined in the same file.
    ordered = sorted(records, key=lambda record: _level(record))
    with transaction.atomic():
        for record in ordered:
            try:
                with transaction.atomic():
                    _import_one(record, units, result, actor)
            except _RecordError as error:
                errors.append(FileError(error.line, error.reason))
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise OkrFileInvalid(errors)
    return result


class _RecordError(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def _level(record: dict[str, Any]) -> int:
    unit = _text(record.get("unit"))
    return unit.count(UNIT_SEPARATOR.strip()) + 1 if unit else 0


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _import_one(record: dict[str, Any], units: _UnitIndex, result: ImportResult, actor) -> None:
    line = record.get("__line__", 1)
    agency_code, period, code = (
        _text(record.get("agency")),
        _text(record.get("period")),
        _text(record.get("code")),
    )
    for name, value in (
        ("agency", agency_code),
        ("period", period),
        ("code", code),
        ("title", record.get("title")),
    ):
        if not _text(value):
            raise _RecordError(line, f"{name} is required")
    if not progress.PERIOD_PATTERN.match(period):
        raise _RecordError(line, f"period '{period}' is not YYYY-Qn (2026-Q4) or YYYY (2026)")
    agency = Agency.objects.filter(code=agency_code).first()
    if agency is None:
        raise _RecordError(line, f"unknown agency '{agency_code}'")
    unit = units.find(agency, _text(record.get("unit")), line)
    status = _text(record.get("status")) or Objective.Status.ACTIVE
    if status not in Objective.Status.values:
        raise _RecordError(line, f"status '{status}' is not one of {', '.join(Objective.Status.values)}")
    objective = Objective.objects.filter(agency=agency, period=period, code=code).first()
    creating = objective is None
    objective = objective or Objective(agency=agency, period=period, code=code)
    objective.unit = unit
    objective.title = _text(record.get("title"))
    objective.description = _text(record.get("description"))
    objective.owner_role = _text(record.get("owner_role"))
    objective.status = status
    key_results = _key_results(objective, record.get("key_results") or [], line)
    supports = _supports(agency, period, record.get("supports") or [], line)
    try:
        actions.save_objective(objective, key_results, supports, actor=actor)
    except actions.OkrError as error:
        raise _RecordError(_error_line(error, record, line), error.message) from error
    result.created += creating
    result.updated += not creating
    result.key_results += len(key_results)
    result.codes.append(code)


def _error_line(error: actions.OkrError, record: dict[str, Any], line: int) -> int:
    """A key result's own line when the error names one ("key result 2: ...")."""
    if error.message.startswith("key result "):
        number = error.message.split(":")[0].removeprefix("key result ")
        rows = record.get("key_results") or []
        if number.isdigit() and int(number) <= len(rows) and isinstance(rows[int(number) - 1], dict):
            return rows[int(number) - 1].get("__line__", line)
    return line


def _key_results(objective: Objective, rows: list[Any], line: int) -> list[KeyResult]:
    existing = {kr.position: kr for kr in objective.key_results.all()} if objective.pk else {}
    made = []
    for position, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise _RecordError(line, f"key result {position} must be a mapping of fields")
        where = row.get("__line__", line)
        metric = _text(row.get("metric")) or Metric.NUMBER
        if metric not in Metric.values:
            raise _RecordError(where, f"metric '{metric}' is not one of {', '.join(Metric.values)}")
        key_result = existing.get(position) or KeyResult()
        key_result.title = _text(row.get("title"))
        if not key_result.title:
            raise _RecordError(where, "a key result needs a title")
        key_result.metric = metric
        default_target = "1" if metric == Metric.YES_NO else None
        key_result.start_value = _decimal(row.get("start"), where, "start", default="0")
        key_result.target_value = _decimal(row.get("target"), where, "target", default=default_target)
        key_result.current_value = _decimal(
            row.get("current"), where, "current", default=str(key_result.start_value)
        )
        key_result.unit_of_measure = _text(row.get("unit_of_measure"))
        key_result.owner = _owner(_text(row.get("owner")), where)
        made.append(key_result)
    return made


def _decimal(value: Any, line: int, name: str, default: str | None) -> Decimal:
    text = _text(value).replace(",", "")
    if not text:
        if default is None:
            raise _RecordError(line, f"{name} is required")
        text = default
    try:
        return Decimal(text)
    except InvalidOperation as error:
        raise _RecordError(line, f"{name} '{value}' is not a number") from error


def _owner(number: str, line: int) -> Employee | None:
    if not number:
        return None
    owner = Employee.objects.filter(employee_number=number).first()
    if owner is None:
        raise _RecordError(line, f"owner '{number}' is not an employee number on the roster")
    return owner


def _supports(agency: Agency, period: str, refs: Any, line: int) -> list[KeyResult]:
    if isinstance(refs, str):
        refs = [ref.strip() for ref in refs.split(";") if ref.strip()]
    found = []
    for ref in refs:
        code, _, position = _text(ref).rpartition(".")
        key_result = (
            KeyResult.objects.filter(
                objective__agency=agency, objective__period=period, objective__code=code, position=position
            ).first()
            if code and position.isdigit()
            else None
        )
        if key_result is None:
            raise _RecordError(
                line, f"supports '{ref}': no such key result in {agency.code} {period} (write CODE.N)"
            )
        found.append(key_result)
    return found


class _UnitIndex:
    """Units found by their path of names, each path looked up once."""

    def __init__(self) -> None:
        self.cache: dict[tuple[int, str], Unit] = {}

    def find(self, agency: Agency, path: str, line: int) -> Unit | None:
        if not path:
            return None
        key = (agency.pk, path)
        if key not in self.cache:
            unit = None
            for name in (part.strip() for part in path.split(UNIT_SEPARATOR.strip())):
                unit = Unit.objects.filter(agency=agency, parent=unit, name=name).first()
                if unit is None:
                    raise _RecordError(
                        line, f"unit '{path}': no unit '{name}' at that level in {agency.code}"
                    )
            self.cache[key] = unit
        return self.cache[key]


# Exporting


def unit_path(unit: Unit) -> str:
    return UNIT_SEPARATOR.join([*(ancestor.name for ancestor in unit.ancestors()), unit.name])


def export_records(objectives: Iterable[Objective]) -> list[dict[str, Any]]:
    """Objectives as the import reads them back."""
    records = []
    for objective in objectives:
        records.append(
            {
                "agency": objective.agency.code,
                "unit": unit_path(objective.unit) if objective.unit_id else "",
                "period": objective.period,
                "code": objective.code,
                "title": objective.title,
                "description": objective.description,
                "owner_role": objective.owner_role,
                "status": objective.status,
                "supports": [kr.reference for kr in objective.supports.select_related("objective")],
                "key_results": [
                    {
                        "title": kr.title,
                        "metric": kr.metric,
                        "start": _number(kr.start_value),
                        "target": _number(kr.target_value),
                        "current": _number(kr.current_value),
                        "unit_of_measure": kr.unit_of_measure,
                        "owner": kr.owner.employee_number if kr.owner_id else "",
                    }
                    for kr in objective.key_results.select_related("owner").order_by("position")
                ],
            }
        )
    return records


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def write_yaml(records: list[dict[str, Any]], out: TextIO) -> None:
    yaml.safe_dump({"objectives": records}, out, sort_keys=False, allow_unicode=True, width=110)


def write_csv(records: list[dict[str, Any]], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        head = {name: record[name] for name in OBJECTIVE_COLUMNS} | {"supports": ";".join(record["supports"])}
        for kr in record["key_results"] or [{}]:
            writer.writerow(
                head
                | {
                    "kr_title": kr.get("title", ""),
                    "metric": kr.get("metric", ""),
                    "start": kr.get("start", ""),
                    "target": kr.get("target", ""),
                    "current": kr.get("current", ""),
                    "unit_of_measure": kr.get("unit_of_measure", ""),
                    "kr_owner": kr.get("owner", ""),
                }
            )
