"""What the email channel learns about an assignment without an answer: an automatic reply (out of
office) or a bounce. The intake calls `mark_email_replies()`; the columns are this app's own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection

from lastweek.directives.models import Assignment
from lastweek.directives.signals import assignments_changed
from lastweek.rows import array_placeholder, id_filter

AUTO_REPLY = "auto_reply_at"
BOUNCED = "bounced_at"


def mark_email_replies(column: str, rows: Iterable[tuple[dt.datetime, int]]) -> int:
    """Record automatic replies (`column` AUTO_REPLY) or bounces (BOUNCED), as (received at, assignment
    id) pairs: each assignment keeps the latest time one was received. Sends `assignments_changed` for
    the units of the assignments marked. Returns how many assignments it marked."""
    if column not in (AUTO_REPLY, BOUNCED):
        raise ValueError(f"not an email mark: {column}")
    latest: dict[int, dt.datetime] = {}
    for when, assignment_id in rows:
        if assignment_id not in latest or when > latest[assignment_id]:
            latest[assignment_id] = when
    if not latest:
        return 0
    table = Assignment._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one statement for the chunk, not one per message
            array = array_placeholder()
            cursor.execute(
                f"UPDATE {table} AS a SET {column} = v.at"
                f" FROM unnest({array}::bigint[], {array}::timestamptz[]) AS v(id, at)"
                f" WHERE a.id = v.id AND (a.{column} IS NULL OR a.{column} < v.at)"
                " RETURNING a.cycle_id, a.unit_id",
                [list(latest), list(latest.values())],
            )
            units = cursor.fetchall()
        else:
            adapt = connection.ops.adapt_datetimefield_value
            cursor.executemany(
                f"UPDATE {table} SET {column} = %s WHERE id = %s AND ({column} IS NULL OR {column} < %s)",
                [(adapt(when), assignment_id, adapt(when)) for assignment_id, when in latest.items()],
            )
            where, params = id_filter("id", latest)
            cursor.execute(f"SELECT cycle_id, unit_id FROM {table} WHERE {where}", params)
            units = cursor.fetchall()
    if units:
        assignments_changed.send(sender=Assignment, units=sorted(set(units)))
    return len(latest)
