"""The per-cycle sending lock: one sender at a time for a cycle's mail, whichever job sends it (requests,
reminders, digests, notices), across processes and machines sharing the database."""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

_PG_LOCK_NAMESPACE = 0x5E4D


class SendingLocked(Exception):
    """Another run is sending this cycle's mail."""


@contextlib.contextmanager
def sending_lock(cycle_id: int) -> Iterator[None]:
    """Hold the per-cycle sending lock, or raise SendingLocked.

    PostgreSQL: a session advisory lock, released by the server if the process dies. SQLite: an
    exclusive flock on a file beside the database, released by the kernel if the process dies.
    (An open IMMEDIATE transaction would also exclude a second sender, but it would block every other
    writer, web form and intake included, for the hours a large send takes.)
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_PG_LOCK_NAMESPACE, cycle_id])
            if not cursor.fetchone()[0]:
                raise SendingLocked(cycle_id)
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_PG_LOCK_NAMESPACE, cycle_id])
        return
    if connection.is_in_memory_db():
        # Only this process can see an in-memory database (tests), so an in-process lock is enough.
        with _in_process_lock(cycle_id):
            yield
        return
    lock_path = Path(f"{connection.settings_dict['NAME']}.send-requests-{cycle_id}.lock")
    with lock_path.open("a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SendingLocked(cycle_id) from None
        yield  # closing the file releases the lock


_held_in_process: set[int] = set()
_held_in_process_guard = threading.Lock()


@contextlib.contextmanager
def _in_process_lock(cycle_id: int) -> Iterator[None]:
    with _held_in_process_guard:
        if cycle_id in _held_in_process:
            raise SendingLocked(cycle_id)
        _held_in_process.add(cycle_id)
    try:
        yield
    finally:
        with _held_in_process_guard:
            _held_in_process.discard(cycle_id)
