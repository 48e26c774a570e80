"""Exactly once over SMTP: the sender's journal of hand-overs (see transport.py for the reasoning)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.conf import settings
from django.db import connection


class HandOverJournal:
    """The hand-overs of the batch in flight, appended to a local file before each final dot.

    A `write()` to a file survives a killed process (the kernel keeps it), and costs microseconds where
    a database commit per message costs a round trip. The database learns of the hand-overs once per
    batch; a run that dies before then leaves them here, and the next run records them first. Only the
    loss of the machine itself (the file not yet on disk) could lose them: those messages, at most a
    batch, would be sent a second time. The file lives in the data directory of the machine sending,
    so a restart after a crash belongs on the same machine.
    """

    def __init__(self, name: str) -> None:
        self.path = journal_path(name)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def append(self, assignment_ids: list[int]) -> None:
        os.write(self.fd, "".join(f"{assignment_id}\n" for assignment_id in assignment_ids).encode())

    def clear(self) -> None:
        os.ftruncate(self.fd, 0)

    def close(self, *, remove: bool) -> None:
        os.close(self.fd)
        if remove:
            self.path.unlink(missing_ok=True)


def journal_path(name: str) -> Path:
    """One journal per database and `name` (e.g. "cycle-12"), in the data directory."""
    database = connection.settings_dict
    key = hashlib.sha256(
        f"{connection.vendor}|{database.get('HOST')}|{database.get('PORT')}|{database['NAME']}".encode()
    ).hexdigest()[:12]
    return Path(settings.DATA_DIR) / "send-journal" / f"{key}-{name}.handed"
