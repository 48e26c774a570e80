"""Model instances from one hand-written joined SELECT, for the few per-request hot paths.

The ORM spends most of a small query compiling it (about 0.3 ms for a lookup by key, 1 ms with two
`select_related` joins), far more than PostgreSQL spends running it. A hot path (the API's token sign-in
and its assignment lookup, run on every submission) writes its SQL once, selects each model's columns
with `ModelColumns.sql`, and turns its slice of the row into a full instance with the same database
converters the ORM applies (SQLite hands back text for datetimes), so the instances behave as the ORM's.

The batch paths (mailbox import, bulk submission) look up a thousand keys at a time: `id_filter()`
writes that condition, with one list parameter on PostgreSQL (`array_placeholder()`).
"""

from __future__ import annotations

from collections.abc import Sequence

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
