"""Reading and validating a roster CSV: pure functions over the file, no database, no Django.

The whole file is checked before anything is written, and every bad row is reported with its line
number and reason, so an HR office fixes its file once instead of once per error. Checks that look at
one row at a time, and the ones that look across rows (duplicates, unknown managers, manager loops),
run as vectorized polars expressions so that a 2.3 million row file validates in seconds.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import available_timezones

import numpy as np
import polars as pl

from lastweek.org.csv_blocks import Block, header_and_blocks

ROSTER_COLUMNS = (
    "employee_number",
    "first_name",
    "last_name",
    "email",
    "agency_code",
    "agency_name",
    "unit_path",
    "title",
    "manager_number",
    "time_zone",
    "status",
)
OPTIONAL_COLUMNS = frozenset({"title", "manager_number"})
UNIT_SEPARATOR = " > "
STATUSES = ("active", "on_leave", "separated")
MAX_LENGTHS = {
    "employee_number": 32,
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "agency_code": 16,
    "agency_name": 200,
    "unit_path": 4000,
    "title": 200,
    "time_zone": 64,
}
MAX_UNIT_NAME = 200
EMAIL_PATTERN = r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$"


@dataclass(frozen=True, order=True)
class RosterError:
    """One problem in the file; `line` is the physical line where the record starts (the header is 1)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class RosterInvalid(Exception):
    """The file has errors; nothing was written. `errors` holds every one of them, in line order."""

    def __init__(self, errors: list[RosterError]) -> None:
        self.errors = sorted(errors)
        super().__init__(f"{len(self.errors)} error(s) in the roster file")


KEY_COLUMNS = ("line", "employee_number", "email", "manager_number")


@dataclass
class Roster:
    """A validated roster, kept small: per row its `line`, `number_key` (a 64-bit hash of the employee
    number) and `manager_row` (the row index of the manager, or null); the agencies and the unit paths it
    names. The full rows come back, cleaned, from `batches()`."""

    source: Path
    keys: pl.DataFrame
    agencies: dict[str, str]
    unit_paths: set[tuple[str, str]]
    spill: tempfile.TemporaryDirectory

    def __len__(self) -> int:
        return self.keys.height

    def batches(self) -> Iterator[pl.DataFrame]:
        """The cleaned rows again, in file order, a block at a time."""
        for path in sorted(Path(self.spill.name).glob("*.arrow")):
            yield pl.read_ipc(path, memory_map=False)


def read_roster(path: str | Path) -> Roster:
    """Read and validate a roster file; raise `RosterInvalid` listing every bad row.

    Streams the file in batches: only the key columns of all rows are held at once. The cleaned batches
    are spilled to a temporary directory as Arrow files, so writing them does not parse the file again.
    """
    path = Path(path)
    spill = tempfile.TemporaryDirectory(prefix="lastweek-roster-")
    errors: list[RosterError] = []
    keys: list[pl.DataFrame] = []
    agencies: dict[str, tuple[str, int]] = {}
    unit_paths: set[tuple[str, str]] = set()
    for number, batch in enumerate(_batches(path, errors)):
        batch.write_ipc(Path(spill.name) / f"{number:06d}.arrow")
        errors += _row_errors(batch)
        errors += _agency_name_errors(batch, agencies)
        unit_paths.update(batch.select("agency_code", "unit_path").unique().iter_rows())
        keys.append(batch.select(KEY_COLUMNS))
    frame = _with_manager_rows(pl.concat(keys) if keys else _empty_keys())
    errors += _cross_row_errors(frame)
    if errors:
        spill.cleanup()
        raise RosterInvalid(errors)
    return Roster(
        source=path,
        keys=frame.select("line", pl.col("employee_number").hash().alias("number_key"), "manager_row"),
        agencies={code: name for code, (name, _) in agencies.items()},
        unit_paths=unit_paths,
        spill=spill,
    )


def _empty_keys() -> pl.DataFrame:
    return pl.DataFrame(schema={"line": pl.UInt32, **{name: pl.String for name in KEY_COLUMNS[1:]}})


def _batches(path: Path, errors: list[RosterError]) -> Iterator[pl.DataFrame]:
    """Cleaned frames of the file's records, block by block, with each record's starting line; records
    with the wrong number of fields go to `errors` instead. Raises `RosterInvalid` for a file that cannot
    be read."""
    try:
        header_line, blocks = header_and_blocks(path)
        if not header_line.strip():
            raise RosterInvalid([RosterError(1, "the file is empty; it needs a header line")])
        header = [name.strip() for name in next(csv.reader([header_line.decode("utf-8")]))]
        _check_header(header)
        for block in blocks:
            frame = _fast_frame(block, header) if block.regular else None
            if frame is None:
                frame = _exact_frame(block, header, errors)
            if frame.height:
                yield _clean(frame)
    except UnicodeDecodeError:
        raise RosterInvalid([_first_undecodable_line(path)]) from None
    except csv.Error as exc:
        raise RosterInvalid([RosterError(0, f"not a readable CSV file: {exc}")]) from None
    except OSError as exc:
        raise RosterInvalid([RosterError(0, f"cannot read {path}: {exc.strerror}")]) from None


def _fast_frame(block: Block, header: list[str]) -> pl.DataFrame | None:
    """The block through polars' parser, or None when it is not safe there after all."""
    try:
        frame = pl.read_csv(
            block.data,
            has_header=False,
            new_columns=header,
            infer_schema=False,
            missing_utf8_is_empty_string=True,
            encoding="utf8",
        )
    except pl.exceptions.PolarsError:
        return None
    if frame.height != block.data.count(b"\n"):
        return None
    lines = pl.int_range(block.first_line, block.first_line + frame.height, dtype=pl.UInt32)
    return frame.select(lines.alias("line"), *ROSTER_COLUMNS)


def _exact_frame(block: Block, header: list[str], errors: list[RosterError]) -> pl.DataFrame:
    """The block through the csv module, counting physical lines (quoted fields may span lines)."""
    reader = csv.reader(io.StringIO(block.data.decode("utf-8"), newline=""))
    positions = [header.index(name) for name in ROSTER_COLUMNS]
    lines: list[int] = []
    records: list[list[str]] = []
    previous_end = 0
    for fields in reader:
        start, previous_end = block.first_line + previous_end, reader.line_num
        if len(fields) == len(header):
            lines.append(start)
            records.append([fields[index] for index in positions])
        elif any(field.strip() for field in fields):
            errors.append(RosterError(start, f"expected {len(header)} fields, found {len(fields)}"))
    columns = list(zip(*records, strict=True)) or [()] * len(ROSTER_COLUMNS)
    return pl.DataFrame(
        {"line": lines, **dict(zip(ROSTER_COLUMNS, columns, strict=True))},
        schema={"line": pl.UInt32, **{name: pl.String for name in ROSTER_COLUMNS}},
    )


def _clean(frame: pl.DataFrame) -> pl.DataFrame:
    """Trimmed, emails in lower case, unit paths in one spelling, blank rows out."""
    frame = frame.with_columns(pl.col(name).str.strip_chars() for name in ROSTER_COLUMNS)
    frame = frame.with_columns(
        pl.col("email").str.to_lowercase(),
        # One spelling per unit path, however the file spaced its separators (one regex pass: splitting
        # into lists and joining again cost seconds on millions of rows).
        pl.col("unit_path").str.replace_all(r"\s*>\s*", UNIT_SEPARATOR).str.strip_chars(),
    )
    return frame.filter(pl.any_horizontal(pl.col(name) != "" for name in ROSTER_COLUMNS))


def _check_header(header: list[str]) -> None:
    missing = [name for name in ROSTER_COLUMNS if name not in header]
    if missing:
        raise RosterInvalid(
            [
                RosterError(
                    1,
                    f"missing column(s) {', '.join(missing)}; "
                    f"the header must name {', '.join(ROSTER_COLUMNS)}",
                )
            ]
        )
    doubled = sorted({name for name in header if header.count(name) > 1})
    if doubled:
        raise RosterInvalid([RosterError(1, f"column(s) named twice: {', '.join(doubled)}")])


def _first_undecodable_line(path: Path) -> RosterError:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return RosterError(number, f"not valid UTF-8 at byte {exc.start + 1}; save the file as UTF-8")
    return RosterError(0, "not valid UTF-8; save the file as UTF-8")


def _errors_where(frame: pl.DataFrame, condition: pl.Expr, reason: pl.Expr | str) -> list[RosterError]:
    """One error per row matching `condition`; `reason` may be built from the row's columns."""
    reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
    bad = frame.filter(condition).select("line", reason_expr.alias("reason"))
    return [RosterError(line, text) for line, text in bad.iter_rows()]


def _row_errors(frame: pl.DataFrame) -> list[RosterError]:
    """Every check that looks at one row, evaluated together in one pass over the batch."""
    return _single_row_errors(frame) + _long_unit_name_errors(frame)


def _single_row_errors(frame: pl.DataFrame) -> list[RosterError]:
    checks = _row_checks()
    # One pass finds the bad rows (usually none); reasons are spelled out for those rows alone.
    frame = frame.filter(pl.any_horizontal(condition for condition, _ in checks))
    reasons = frame.select(
        "line",
        *(
            pl.when(condition)
            .then(reason if isinstance(reason, pl.Expr) else pl.lit(reason))
            .alias(f"check{n}")
            for n, (condition, reason) in enumerate(checks)
        ),
    )
    failed = reasons.unpivot(index="line").drop_nulls("value")
    return [RosterError(line, reason) for line, _, reason in failed.iter_rows()] + _long_unit_name_errors(
        frame
    )


def _row_checks() -> list[tuple[pl.Expr, pl.Expr | str]]:
    """(condition that marks a bad row, the reason to report)."""
    checks: list[tuple[pl.Expr, pl.Expr | str]] = [
        (pl.col(name) == "", f"{name} is empty") for name in ROSTER_COLUMNS if name not in OPTIONAL_COLUMNS
    ]
    checks += [
        (pl.col(name).str.len_chars() > limit, f"{name} is longer than {limit} characters")
        for name, limit in MAX_LENGTHS.items()
    ]
    return [
        *checks,
        (
            (pl.col("email") != "") & ~pl.col("email").str.contains(EMAIL_PATTERN),
            pl.format("email '{}' is not an email address", pl.col("email")),
        ),
        (
            (pl.col("time_zone") != "") & ~pl.col("time_zone").is_in(sorted(available_timezones())),
            pl.format(
                "unknown time zone '{}'; use an IANA name such as America/New_York", pl.col("time_zone")
            ),
        ),
        (
            (pl.col("status") != "") & ~pl.col("status").is_in(STATUSES),
            pl.format("unknown status '{}'; use one of " + ", ".join(STATUSES), pl.col("status")),
        ),
        (
            pl.col("unit_path").str.contains(r"^>|>$|>\s*>"),
            "unit_path has an empty level; separate unit names with ' > '",
        ),
    ]


def _long_unit_name_errors(frame: pl.DataFrame) -> list[RosterError]:
    # Only a path longer than the limit can hold a name longer than it: split just those few.
    long_paths = frame.filter(pl.col("unit_path").str.len_chars() > MAX_UNIT_NAME)
    names = pl.col("unit_path").str.split(UNIT_SEPARATOR)
    return _errors_where(
        long_paths,
        names.list.eval(pl.element().str.len_chars() > MAX_UNIT_NAME).list.any(),
        f"a unit name in unit_path is longer than {MAX_UNIT_NAME} characters",
    )


def _cross_row_errors(frame: pl.DataFrame) -> list[RosterError]:
    return (
        _duplicate_errors(frame, "employee_number")
        + _duplicate_errors(frame, "email")
        + _manager_errors(frame)
    )


def _duplicate_errors(frame: pl.DataFrame, column: str) -> list[RosterError]:
    """Every repeat of a value after its first occurrence, pointing back at that first line."""
    # Look for repeats among 8-byte hashes first, a far smaller table than one of millions of strings;
    # only the few candidate rows are then compared as text (a hash collision is no duplicate).
    candidates = frame.filter(pl.col(column).hash().is_duplicated() & (pl.col(column) != ""))
    keyed = candidates.select("line", column, pl.col("line").min().over(column).alias("first_line"))
    return _errors_where(
        keyed,
        pl.col("line") != pl.col("first_line"),
        pl.format(f"duplicate {column} '{{}}' (first on line {{}})", pl.col(column), pl.col("first_line")),
    )


def _agency_name_errors(batch: pl.DataFrame, first_seen: dict[str, tuple[str, int]]) -> list[RosterError]:
    """Rows naming their agency differently from the agency's first row; `first_seen` carries each code's
    first (name, line) from batch to batch."""
    named = batch.filter(pl.col("agency_code") != "")
    firsts = named.unique("agency_code", keep="first", maintain_order=True)
    for code, name, line in firsts.select("agency_code", "agency_name", "line").iter_rows():
        first_seen.setdefault(code, (name, line))
    expected = {code: name for code, (name, _) in first_seen.items()}
    return _errors_where(
        named.with_columns(pl.col("agency_code").replace_strict(expected).alias("first_name")),
        pl.col("agency_name") != pl.col("first_name"),
        pl.format(
            "agency {} is named '{}' here but '{}' on an earlier line",
            pl.col("agency_code"),
            pl.col("agency_name"),
            pl.col("first_name"),
        ),
    )


def _with_manager_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `manager_row`: the row index of each employee's manager within the frame (null: none; the
    first row of a repeated number)."""
    numbers = frame.select(
        pl.col("employee_number").hash().alias("key"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("manager_row"),
    ).unique("key", keep="first")
    managed = frame.with_columns(
        pl.when(pl.col("manager_number") != "").then(pl.col("manager_number").hash()).alias("key")
    )
    joined = managed.join(numbers, on="key", how="left", maintain_order="left").drop("key")
    if _hash_matches_are_exact(joined):
        return joined
    return frame.join(  # a 64-bit hash collision: join on the text itself
        frame.select("employee_number", pl.int_range(pl.len(), dtype=pl.Int64).alias("manager_row")).unique(
            "employee_number", keep="first"
        ),
        left_on="manager_number",
        right_on="employee_number",
        how="left",
        maintain_order="left",
    )


def _hash_matches_are_exact(joined: pl.DataFrame) -> bool:
    matched = joined.filter(pl.col("manager_row").is_not_null())
    found = joined["employee_number"].gather(matched["manager_row"])
    return bool((found == matched["manager_number"]).all())


def _manager_errors(frame: pl.DataFrame) -> list[RosterError]:
    """Unknown managers, people managing themselves, and loops; `frame` has `manager_row`."""
    has_manager = pl.col("manager_number") != ""
    errors = _errors_where(
        frame,
        has_manager & pl.col("manager_row").is_null(),
        pl.format("unknown manager '{}': no row has that employee_number", pl.col("manager_number")),
    )
    errors += _errors_where(
        frame,
        has_manager & (pl.col("manager_number") == pl.col("employee_number")),
        "the employee is their own manager",
    )
    return errors + _loop_errors(frame)


def _loop_errors(frame: pl.DataFrame) -> list[RosterError]:
    """Rows whose reporting line never reaches the top: it runs in a circle.

    Pointer doubling: after k rounds each row points 2^k steps up its reporting line, so ~log2(n)
    rounds over numpy arrays find every row that is on, or reports into, a loop.
    """
    managers = frame["manager_row"].fill_null(-1).to_numpy().copy()
    managers[managers == np.arange(len(managers))] = -1  # self-managed rows are reported on their own
    pointer = managers.copy()
    for _ in range(max(1, len(pointer).bit_length() + 1)):
        alive = pointer >= 0
        pointer[alive] = pointer[pointer[alive]]
    stuck = np.flatnonzero(pointer >= 0)
    if stuck.size == 0:
        return []
    numbers = frame["employee_number"].to_list()
    lines = frame["line"].to_list()
    return [
        RosterError(lines[row], f"manager loop: {_loop_description(row, managers, numbers)}") for row in stuck
    ]


def _loop_description(row: int, managers: np.ndarray, numbers: list[str]) -> str:
    """'A → B → C → A', shortened for the rows that only report into a long loop."""
    seen: list[int] = []
    while row not in seen and len(seen) < 12:
        seen.append(int(row))
        row = managers[row]
    tail = numbers[row] if row in seen else "…"
    return " → ".join(numbers[index] for index in seen) + f" → {tail}"
