"""Applying a validated roster to the database in one transaction.

Upsert by employee number, people missing from the file marked separated (never deleted), agencies and
units created as they appear. The rows are written with COPY (PostgreSQL) or executemany (SQLite) into
a temporary staging table and merged with one INSERT ... ON CONFLICT that only touches rows whose values
changed, so a second identical import writes nothing.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from lastweek.access import audit
from lastweek.org.models import Agency, Employee, Unit
from lastweek.org.roster import UNIT_SEPARATOR, RosterError, RosterInvalid, read_roster

Progress = Callable[[str, int, int], None]
STAGE_COLUMNS = (
    "id",
    "employee_number",
    "first_name",
    "last_name",
    "email",
    "title",
    "time_zone",
    "status",
    "agency_id",
    "unit_id",
    "manager_id",
)
# The columns an import owns; user links and timestamps are left alone when nothing else changed.
MERGED_COLUMNS = STAGE_COLUMNS[1:]
CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class ImportResult:
    rows: int
    created: int
    updated: int
    unchanged: int
    separated: int
    agencies_created: int
    units_created: int


def import_roster(
    path: str | Path,
    *,
    actor: AbstractBaseUser | None = None,
    only_listed_agencies: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate the whole file, then apply it in one transaction; raise `RosterInvalid` on any bad row.

    `only_listed_agencies` limits "missing from the file means separated" to the agencies that appear in
    the file, for an agency that sends only its own roster.
    """
    report = progress or (lambda step, done, total: None)
    report("Validating", 0, 1)
    roster = read_roster(path)
    report("Validating", 1, 1)
    with transaction.atomic():
        _lock_employees()
        existing = _existing_employees()
        _refuse_taken_emails(roster.rows, existing)
        agency_ids, agencies_created = _sync_agencies(roster.rows)
        unit_ids, units_created = _sync_units(roster.rows, agency_ids)
        rows, created = _resolve_ids(roster.rows, existing, agency_ids, unit_ids)
        _stage(rows, report)
        report("Merging", 0, 1)
        changed = _merge()
        separated = _separate_missing(list(agency_ids.values()) if only_listed_agencies else None)
        report("Merging", 1, 1)
        result = ImportResult(
            rows=rows.height,
            created=created,
            updated=changed - created,
            unchanged=rows.height - changed,
            separated=separated,
            agencies_created=agencies_created,
            units_created=units_created,
        )
        audit.record(
            actor,
            "roster.import",
            scope="organization" if not only_listed_agencies else "agencies:" + ",".join(sorted(agency_ids)),
            detail={"file": Path(path).name, "sha256": _sha256(Path(path)), **asdict(result)},
        )
    return result


def _lock_employees() -> None:
    """One import at a time; readers carry on. (SQLite's IMMEDIATE transactions already serialize.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Employee._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


def _existing_employees() -> pl.DataFrame:
    table = Employee._meta.db_table
    return _query_frame(
        f"SELECT employee_number, id, email FROM {table}",
        {"employee_number": pl.String, "id": pl.Int64, "email": pl.String},
    )


def _query_frame(sql: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A query's rows as a polars frame without building a Python object per row on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.BytesIO()
            with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
                for block in copy:
                    buffer.write(block)
            buffer.seek(0)
            if buffer.getbuffer().nbytes == 0:
                return pl.DataFrame(schema=schema)
            return pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema=schema)
        cursor.execute(sql)
        return pl.DataFrame(cursor.fetchall(), schema=schema, orient="row")


def _refuse_taken_emails(rows: pl.DataFrame, existing: pl.DataFrame) -> None:
    """An email held by another employee number (kept by a separated employee, say) cannot be reused."""
    clashes = rows.join(existing, on="email", how="inner", suffix="_holder").filter(
        pl.col("employee_number") != pl.col("employee_number_holder")
    )
    if clashes.height:
        raise RosterInvalid(
            [
                RosterError(
                    line,
                    f"email '{email}' already belongs to employee {holder}; change or free that "
                    f"employee's email in an earlier import",
                )
                for line, email, holder in clashes.select(
                    "line", "email", "employee_number_holder"
                ).iter_rows()
            ]
        )


def _sync_agencies(rows: pl.DataFrame) -> tuple[dict[str, int], int]:
    """Create the agencies the file names and keep their names current; return code → id."""
    wanted = dict(rows.select("agency_code", "agency_name").unique("agency_code").iter_rows())
    known = {agency.code: agency for agency in Agency.objects.filter(code__in=wanted)}
    renamed = [agency for code, agency in known.items() if agency.name != wanted[code]]
    for agency in renamed:
        agency.name = wanted[agency.code]
    Agency.objects.bulk_update(renamed, ["name"])
    created = Agency.objects.bulk_create(
        [Agency(code=code, name=name) for code, name in wanted.items() if code not in known]
    )
    ids = {agency.code: agency.pk for agency in [*known.values(), *created]}
    return ids, len(created)


def _sync_units(rows: pl.DataFrame, agency_ids: dict[str, int]) -> tuple[pl.DataFrame, int]:
    """Create every unit (and every level above it) the file names; return (agency_code, unit_path) →
    unit_id as a frame to join on."""
    known = _known_units()
    needed = rows.select("agency_code", "unit_path").unique()
    missing: set[tuple[int, tuple[str, ...]]] = set()
    for code, unit_path in needed.iter_rows():
        names = tuple(unit_path.split(UNIT_SEPARATOR))
        for depth in range(1, len(names) + 1):
            key = (agency_ids[code], names[:depth])
            if key not in known:
                missing.add(key)
    _create_units(sorted(missing, key=lambda key: len(key[1])), known)
    unit_ids = [
        known[(agency_ids[code], tuple(path.split(UNIT_SEPARATOR)))][0] for code, path in needed.iter_rows()
    ]
    return needed.with_columns(pl.Series("unit_id", unit_ids, dtype=pl.Int64)), len(missing)


def _known_units() -> dict[tuple[int, tuple[str, ...]], tuple[int, str]]:
    """(agency id, names from the top) → (unit id, materialized path), for every unit."""
    units = {
        pk: (agency_id, parent_id, name, path)
        for pk, agency_id, parent_id, name, path in Unit.objects.values_list(
            "pk", "agency_id", "parent_id", "name", "path"
        )
    }
    names_of: dict[int, tuple[str, ...]] = {}

    def names(pk: int) -> tuple[str, ...]:
        if pk not in names_of:
            _, parent_id, name, _ = units[pk]
            names_of[pk] = (names(parent_id) if parent_id else ()) + (name,)
        return names_of[pk]

    return {(agency_id, names(pk)): (pk, path) for pk, (agency_id, _, _, path) in units.items()}


def _create_units(missing: list[tuple[int, tuple[str, ...]]], known: dict) -> None:
    """Create units level by level, so each parent has its id and path before its children."""
    for depth in sorted({len(names) for _, names in missing}):
        level = [(agency_id, names) for agency_id, names in missing if len(names) == depth]
        units = Unit.objects.bulk_create(
            [
                Unit(
                    agency_id=agency_id,
                    parent_id=known[(agency_id, names[:-1])][0] if depth > 1 else None,
                    name=names[-1],
                    depth=depth - 1,
                )
                for agency_id, names in level
            ],
            batch_size=5_000,
        )
        for (agency_id, names), unit in zip(level, units, strict=True):
            parent_path = known[(agency_id, names[:-1])][1] if depth > 1 else "/"
            unit.path = f"{parent_path}{unit.pk}/"
            known[(agency_id, names)] = (unit.pk, unit.path)
        Unit.objects.bulk_update(units, ["path"], batch_size=5_000)


def _resolve_ids(
    rows: pl.DataFrame, existing: pl.DataFrame, agency_ids: dict[str, int], unit_ids: pl.DataFrame
) -> tuple[pl.DataFrame, int]:
    """Every row with its final id (existing, or freshly reserved), agency, unit and manager ids."""
    rows = rows.join(
        existing.select("employee_number", pl.col("id").alias("existing_id")),
        on="employee_number",
        how="left",
        maintain_order="left",
    ).join(unit_ids, on=["agency_code", "unit_path"], how="left", maintain_order="left")
    is_new = pl.col("existing_id").is_null()
    created = rows.select(is_new.sum()).item()
    first_id = _reserve_ids(created)
    rows = rows.with_columns(
        pl.when(is_new)
        .then(first_id - 1 + is_new.cast(pl.Int64).cum_sum())
        .otherwise(pl.col("existing_id"))
        .alias("id"),
        pl.col("agency_code").replace_strict(agency_ids, return_dtype=pl.Int64).alias("agency_id"),
    )
    ids = rows["id"].to_numpy()
    manager_rows = rows["manager_row"].fill_null(-1).to_numpy()
    manager_ids = np.where(manager_rows >= 0, ids[np.maximum(manager_rows, 0)], -1)
    rows = rows.with_columns(pl.Series("manager_id", manager_ids).replace(-1, None))
    return rows.select(STAGE_COLUMNS), created


def _reserve_ids(count: int) -> int:
    """Take `count` consecutive primary keys for new employees; return the first.

    The table lock keeps other writers out, so the block cannot be taken twice.
    """
    table = Employee._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        first = cursor.fetchone()[0]
        if connection.vendor == "postgresql" and count:
            cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))")
            first = max(first, cursor.fetchone()[0])
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [first + count - 1])
    return first


def _stage(rows: pl.DataFrame, report: Progress) -> None:
    columns = ", ".join(STAGE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS roster_stage")
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE TEMP TABLE roster_stage (id bigint, employee_number varchar(32),"
                " first_name varchar(100),"
                " last_name varchar(100), email varchar(254), title varchar(200), time_zone varchar(64),"
                " status varchar(16), agency_id bigint, unit_id bigint, manager_id bigint)"
            )
        else:
            # INTEGER PRIMARY KEY is SQLite's rowid: the NOT EXISTS probe in _separate_missing is a lookup.
            cursor.execute(
                f"CREATE TEMP TABLE roster_stage (id INTEGER PRIMARY KEY, {columns[len('id, ') :]})"
            )
        for offset in range(0, rows.height, CHUNK_ROWS):
            chunk = rows.slice(offset, CHUNK_ROWS)
            if connection.vendor == "postgresql":
                with cursor.copy(
                    f"COPY roster_stage ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
                ) as copy:
                    copy.write(chunk.write_csv(include_header=False, null_value="\\N"))
            else:
                marks = ", ".join("?" * len(STAGE_COLUMNS))
                cursor.executemany(f"INSERT INTO roster_stage VALUES ({marks})", chunk.iter_rows())
            report("Writing", offset + chunk.height, rows.height)


def _merge() -> int:
    """Insert new rows and update changed ones; return how many rows were written."""
    table = Employee._meta.db_table
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(STAGE_COLUMNS)}, created_at, updated_at)"
            f" SELECT {', '.join(STAGE_COLUMNS)}, %s, %s FROM roster_stage WHERE true"
            f" ON CONFLICT (id) DO UPDATE SET"
            f" {', '.join(f'{name} = excluded.{name}' for name in MERGED_COLUMNS)},"
            f" updated_at = excluded.updated_at"
            f" WHERE ({', '.join(f'{table}.{name}' for name in MERGED_COLUMNS)}) {distinct}"
            f" ({', '.join(f'excluded.{name}' for name in MERGED_COLUMNS)})",
            [now, now],
        )
        return cursor.rowcount


def _separate_missing(agency_ids: list[int] | None) -> int:
    """Mark everyone the file no longer lists as separated; nobody is deleted."""
    table = Employee._meta.db_table
    sql = (
        f"UPDATE {table} SET status = %s, updated_at = %s WHERE status <> %s"
        f" AND NOT EXISTS (SELECT 1 FROM roster_stage s WHERE s.id = {table}.id)"
    )
    params: list = [Employee.Status.SEPARATED, timezone.now(), Employee.Status.SEPARATED]
    if agency_ids is not None:
        sql += f" AND agency_id IN ({', '.join(['%s'] * len(agency_ids))})"
        params += agency_ids
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count = cursor.rowcount
        cursor.execute("DROP TABLE roster_stage")
    return count


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
