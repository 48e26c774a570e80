"""Personal API tokens: created, shown once, checked on every API request, expired and revoked.

Only a SHA-256 hash is stored. The last-used time is written at most once a minute per token, so a busy
client does not turn every read into a write.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.utils import timezone

from lastweek import audit
from lastweek.access.models import ApiToken
from lastweek.org.models import Employee
from lastweek.rows import ModelColumns, split_row

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "lw_"
PREFIX_SHOWN = 10
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenError(Exception):
    """A token request that cannot be met; the message says what to do."""


def new_token_value() -> str:
    """A fresh token: the `lw_` mark (so secret scanners and people recognise it) and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def create_token(
    user: AbstractBaseUser, name: str, *, days: int | None = None, now: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `user` valid `days` (at most LASTWEEK_API_TOKEN_DAYS); return it and its value,
    which is never available again."""
    limit = settings.API_TOKEN_DAYS
    days = limit if days is None else days
    if not 1 <= days <= limit:
        raise TokenError(f"A token lasts from 1 to {limit} days; choose a number in that range.")
    name = name.strip()
    if not name:
        raise TokenError("Name the token (what it is for), so you can tell it apart later.")
    now = now or timezone.now()
    value = new_token_value()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        key_hash=hash_token(value),
        prefix=value[:PREFIX_SHOWN],
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    audit.record(
        user,
        "token.create",
        target=token,
        detail={"name": token.name, "expires_at": token.expires_at.isoformat()},
    )
    return token, value


def revoke_token(token: ApiToken, actor: AbstractBaseUser, now: dt.datetime | None = None) -> bool:
    """Revoke `token` (no-op when it already is); True when this call revoked it."""
    now = now or timezone.now()
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if changed:
        token.revoked_at = now
        audit.record(
            actor, "token.revoke", target=token, detail={"name": token.name, "user_id": token.user_id}
        )
    return bool(changed)


def authenticate_token(value: str, now: dt.datetime | None = None) -> ApiToken | None:
    """The usable token with this value, with its user (and the user's roster entry) loaded; None when
    the value is unknown, expired, revoked or belongs to a deactivated account."""
    if not value.startswith(TOKEN_PREFIX):
        return None
    now = now or timezone.now()
    token = _usable_token(hash_token(value), now)
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # Written on nearly every submission (a person sends one or two a week): hand-written as well.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ApiToken._meta.db_table} SET last_used_at = %s WHERE id = %s",
                [connection.ops.adapt_datetimefield_value(now), token.pk],
            )
        token.last_used_at = now
    return token


def _usable_token(key_hash: str, now: dt.datetime) -> ApiToken | None:
    """`ApiToken.objects.usable(now).select_related("user", "user__employee").get(key_hash=…)` in one
    hand-written statement: it runs on every API request, where compiling that query cost more than
    the rest of the sign-in (see lastweek.rows)."""
    token_columns, user_columns, employee_columns = _sign_in_columns()
    sql = (
        f"SELECT {token_columns.sql}, {user_columns.sql}, {employee_columns.sql}"
        f" FROM {ApiToken._meta.db_table} t"
        f" JOIN {get_user_model()._meta.db_table} u ON u.id = t.user_id"
        f" LEFT JOIN {Employee._meta.db_table} e ON e.user_id = u.id"
        " WHERE t.key_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key_hash, connection.ops.adapt_datetimefield_value(now)])
        row = cursor.fetchone()
    if row is None:
        return None
    token_values, user_values, employee_values, _ = split_row(
        row, token_columns, user_columns, employee_columns
    )
    token, user = token_columns.instance(token_values), user_columns.instance(user_values)
    token.user = user
    employee = employee_columns.instance(employee_values) if employee_values[0] is not None else None
    # What `user.employee` reads: the roster entry, or (cached as None) that there is none.
    Employee._meta.get_field("user").remote_field.set_cached_value(user, employee)
    if employee is not None:
        Employee._meta.get_field("user").set_cached_value(employee, user)
    return token


@functools.cache
def _sign_in_columns() -> tuple[ModelColumns, ModelColumns, ModelColumns]:
    return ModelColumns(ApiToken, "t"), ModelColumns(get_user_model(), "u"), ModelColumns(Employee, "e")
