"""Model instances from one hand-written joined SELECT, for the few per-request hot paths.

The ORM spends most of a small query compiling it (about 0.3 ms for a lookup by key, 1 ms with two
`select_related` joins), far more than PostgreSQL spends running it. A hot path (the API's token sign-in
and its assignment lookup, run on every submission) writes its SQL once, selects each model's columns
with `ModelColumns.sql`, and turns its slice of the row into a full instance with the same database
converters the ORM applies (SQLite hands back text for datetimes), so the instances behave as the ORM's.

The batch paths (mailbox import, bulk submission, roster import, cycle freeze, analysis) share one
toolbox, here and nowhere else:
- `id_filter()` looks up a thousand keys at a time, with one list parameter on PostgreSQL
  (`array_placeholder()`);
- `write_rows()` inserts rows by binary COPY on PostgreSQL, executemany elsewhere;
- `temp_table()` stages rows in a temporary table for one statement to join;
- `query_frame()` and `query_frames()` read a query's rows as polars frames, whole or in streamed
  batches, without a Python object per row on PostgreSQL.
Table names always come from the model (`Model._meta.db_table`), never typed by hand.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import polars as pl
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


class ModelColumns:
    """The concrete columns of `model` (all, or those of `fields`) under the table alias `alias`, and the
    values and instance built from them."""

    def __init__(self, model: type[Model], alias: str, fields: Sequence[str] = ()) -> None:
        self.model, self.alias = model, alias
        # In the model's own order, which is what Model.from_db expects of a subset.
        self.fields = [field for field in model._meta.concrete_fields if not fields or field.name in fields]
        self.names = [field.attname for field in self.fields]
        self._converters: dict[str, list] = {}
        self._sql: dict[str, str] = {}

    @property
    def sql(self) -> str:
        """The select list, e.g. `t."id", t."user_id", …` (quoted as the database quotes names)."""
        if connection.vendor not in self._sql:
            quote = connection.ops.quote_name
            self._sql[connection.vendor] = ", ".join(f"{self.alias}.{quote(f.column)}" for f in self.fields)
        return self._sql[connection.vendor]

    def __len__(self) -> int:
        return len(self.fields)

    def instance(self, values: Sequence) -> Model:
        """The instance for these column values, in `sql`'s order, as if the ORM had loaded it (fields
        not selected are deferred)."""
        return self.model.from_db(connection.alias, self.names, self.values(values))

    def values(self, values: Sequence) -> list:
        """These column values as the ORM would hand them back (aware datetimes, booleans)."""
        converted = list(values)
        database = connections[DEFAULT_DB_ALIAS]  # once: each attribute of the proxy is a lookup
        for index, expression, converters in self._converters_for(database.vendor):
            value = converted[index]
            for converter in converters:
                value = converter(value, expression, database)
            converted[index] = value
        return converted

    def _converters_for(self, vendor: str) -> list:
        if vendor not in self._converters:
            found = []
            for index, field in enumerate(self.fields):
                expression = field.get_col(self.alias)
                # As SQLCompiler.get_converters: the backend's, then the field's own.
                converters = connection.ops.get_db_converters(expression)
                converters += expression.get_db_converters(connection)
                if converters:
                    found.append((index, expression, converters))
            self._converters[vendor] = found
        return self._converters[vendor]


def split_row(row: Sequence, *parts: ModelColumns) -> list[Sequence]:
    """The row cut into each model's values, in order; what follows the last model is the last item."""
    pieces, start = [], 0
    for part in parts:
        pieces.append(row[start : start + len(part)])
        start += len(part)
    pieces.append(row[start:])
    return pieces


def id_filter(column: str, ids) -> tuple[str, list]:
    """`column = ANY(%s)` with one array parameter on PostgreSQL (a thousand placeholders cost more to
    send than the lookup), `column IN (…)` elsewhere."""
    ids = list(set(ids))
    if not ids:
        return "1 = 0", []
    if connection.vendor == "postgresql":
        return f"{column} = ANY({array_placeholder()})", [ids]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids


def array_placeholder() -> str:
    """The placeholder for a list parameter on PostgreSQL: `%b`, binary, which psycopg writes without
    quoting each element (a thousand text elements cost it 2.7 ms in text, 0.3 ms in binary), where
    parameters are bound by the server; `%s` with client-side binding (DATABASE_PREPARED_STATEMENTS=0),
    which takes no binary parameters."""
    return "%b" if connection.settings_dict.get("OPTIONS", {}).get("server_side_binding") else "%s"


def write_rows(cursor, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Insert rows: binary COPY on PostgreSQL (less than half the time of text COPY for rows holding
    raw mail), executemany elsewhere. Values must be what the columns hold (aware datetimes, bytes)."""
    names = ", ".join(columns)
    if connection.vendor == "postgresql":
        types = _column_types(cursor, table, tuple(columns))
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join(["%s"] * len(columns))
    rows_iter = iter(rows)
    while chunk := list(itertools.islice(rows_iter, 5_000)):
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", chunk)


_TYPES: dict[tuple[str, tuple[str, ...]], list[str]] = {}


def _column_types(cursor, table: str, columns: tuple[str, ...]) -> list[str]:
    """The columns' PostgreSQL types, as binary COPY needs them (read from the catalog once)."""
    key = (table, columns)
    if key not in _TYPES:
        cursor.execute(
            "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [table],
        )
        found = dict(cursor.fetchall())
        _TYPES[key] = [found[column] for column in columns]
    return _TYPES[key]


@contextmanager
def temp_table(name: str, columns: str, rows: Iterable[Sequence]) -> Iterator[str]:
    """A temporary table filled with `rows`, dropped afterwards. Works on PostgreSQL and SQLite."""
    rows = iter(rows)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"CREATE TEMPORARY TABLE {name} ({columns})")
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {name} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        while chunk := list(itertools.islice(rows, 5_000)):
            cursor.executemany(f"INSERT INTO {name} VALUES ({', '.join(['%s'] * len(chunk[0]))})", chunk)
        cursor.execute(f"ANALYZE {name}")
        try:
            yield name
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


def query_frame(sql: str, schema: dict[str, pl.DataType], params: Sequence = ()) -> pl.DataFrame:
    """A query's rows as one polars frame with `schema` (column names in the select's order)."""
    frames = list(query_frames(sql, schema, params, batch_bytes=None))
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


# About 16 MB of CSV text a batch: a few tens of thousands of report bullets.
BATCH_BYTES = 16 << 20


def query_frames(
    sql: str, schema: dict[str, pl.DataType], params: Sequence = (), *, batch_bytes: int | None = BATCH_BYTES
) -> Iterator[pl.DataFrame]:
    """A query's rows as a stream of polars frames of about `batch_bytes` of CSV each (None: one frame),
    so that a whole cycle is never held in memory at once.

    PostgreSQL: `COPY (query) TO STDOUT` in CSV, cut at record boundaries (a newline outside quotes)
    and parsed by polars, with no Python object per row. Elsewhere: the cursor's rows, fetched in
    batches of as many rows.
    """
    if connection.vendor != "postgresql":
        yield from _fetched_frames(sql, schema, params, batch_bytes)
        return
    with connection.cursor() as cursor:
        buffer = bytearray()
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params or None) as copy:
            for block in copy:
                buffer += block
                if batch_bytes is not None and len(buffer) >= batch_bytes:
                    cut = _record_boundary(buffer)
                    if cut:
                        yield _csv_frame(bytes(buffer[:cut]), schema)
                        del buffer[:cut]
        if buffer:
            yield _csv_frame(bytes(buffer), schema)


def _record_boundary(buffer: bytearray) -> int:
    """The end of the last whole CSV record in `buffer` (0: none): just after a newline preceded by an
    even number of quote characters, since a quoted field may hold newlines."""
    end = len(buffer)
    while (newline := buffer.rfind(b"\n", 0, end)) >= 0:
        if buffer.count(b'"', 0, newline) % 2 == 0:
            return newline + 1
        end = newline
    return 0


def _csv_frame(data: bytes, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(data), has_header=False, new_columns=list(schema), schema=schema)


def _fetched_frames(
    sql: str, schema: dict[str, pl.DataType], params: Sequence, batch_bytes: int | None
) -> Iterator[pl.DataFrame]:
    rows_per_batch = None if batch_bytes is None else max(1, batch_bytes // 256)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := (cursor.fetchall() if rows_per_batch is None else cursor.fetchmany(rows_per_batch)):
            yield pl.DataFrame(rows, schema=schema, orient="row")
            if rows_per_batch is None:
                return
