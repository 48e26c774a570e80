"""The crash test: `lastweek smtpd` runs as a real subprocess, real smtplib clients flood it from threads,
the server is killed (SIGKILL) or stopped (SIGTERM) mid-flood and started again. Every message that got a
250 is stored exactly once; every one that did not was retried by its client until it got one; at the
end what is stored is exactly what was sent.

On PostgreSQL the server uses the test database itself; on SQLite (in memory for the test run) the
migrated database is copied to a file with VACUUM INTO and read back from there.
"""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from lastweek.intake.models import InboundMessage
from tests.intake.world import reply
from tests.mail_sink import free_port

CLIENTS, EACH = 8, 40
OUR_ADDRESS = "lastweek@lastweek.example.gov"


class ServerDatabase:
    """Where the server subprocess stores, and how the test reads what it stored."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        if connection.vendor == "postgresql":
            db = connection.settings_dict
            password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
            address = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
            self.url, self.file = f"postgres://{db['USER']}{password}@{address}/{db['NAME']}", None
        else:
            self.file = folder / "smtpd.sqlite3"
            with connection.cursor() as cursor:
                cursor.execute("VACUUM INTO %s", [str(self.file)])
            self.url = f"sqlite:///{self.file}"

    def stored_message_ids(self) -> Counter:
        query = f"SELECT message_id FROM {InboundMessage._meta.db_table}"
        if self.file is None:
            with connection.cursor() as cursor:
                cursor.execute(query)
                return Counter(row[0] for row in cursor.fetchall())
        with sqlite3.connect(self.file) as database:
            return Counter(row[0] for row in database.execute(query))


def start_server(database: ServerDatabase, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "LASTWEEK_DATA_DIR": str(database.folder),
        "SECRET_KEY": settings.SECRET_KEY,
    }
    command = [sys.executable, "-m", "lastweek", "smtpd", "--port", str(port), "--no-process"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            assert server.poll() is None, server.communicate()[1]
            time.sleep(0.05)
    raise AssertionError("lastweek smtpd did not start listening")


class Flood:
    """Client threads, each sending its messages in order and retrying one until it gets a 250."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.acknowledged: list[str] = []
        self.retries = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(n,)) for n in range(CLIENTS)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def wait(self) -> None:
        for thread in self.threads:
            thread.join(120)
            assert not thread.is_alive(), "a client never got its 250"

    def _client(self, number: int) -> None:
        session = None
        for index in range(EACH):
            message_id = f"c{number}.m{index}@flood.example"
            raw = reply(
                f"person{number}@example.gov", OUR_ADDRESS, f"- Item {index}\n", message_id=message_id
            )
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                try:
                    session = session or smtplib.SMTP("127.0.0.1", self.port, timeout=10)
                    session.sendmail(f"person{number}@example.gov", [OUR_ADDRESS], raw)
                except (smtplib.SMTPException, OSError):
                    session = None  # no 250: the message is still ours to deliver; reconnect and retry
                    with self.lock:
                        self.retries += 1
                    time.sleep(0.02)
                    continue
                with self.lock:
                    self.acknowledged.append(message_id)
                break
        if session is not None:
            session.quit()

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def sent_ids() -> set[str]:
    return {f"c{n}.m{i}@flood.example" for n in range(CLIENTS) for i in range(EACH)}


def flood_and_interrupt(tmp_path, stop_signal: int) -> tuple[Flood, Counter, subprocess.Popen]:
    database = ServerDatabase(tmp_path)
    port = free_port()
    first = start_server(database, port)
    flood = Flood(port)
    flood.start()
    deadline = time.monotonic() + 60
    while flood.count() < CLIENTS * EACH // 4 and time.monotonic() < deadline:
        time.sleep(0.002)
    first.send_signal(stop_signal)
    first.wait(30)
    acknowledged_before_the_stop = set(flood.acknowledged)
    stored_after_the_stop = database.stored_message_ids()
    assert acknowledged_before_the_stop <= set(stored_after_the_stop), "a message got 250 but was lost"
    second = start_server(database, port)
    try:
        flood.wait()
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    return flood, database.stored_message_ids(), first


@pytest.mark.django_db(transaction=True)
def test_killed_mid_flood_every_acknowledged_message_is_stored_once_and_the_rest_retried(tmp_path):
    flood, stored, killed = flood_and_interrupt(tmp_path, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    assert len(set(flood.acknowledged)) > 0 and flood.retries > 0, "the kill should land mid-flood"
    assert set(stored) == sent_ids() == set(flood.acknowledged)
    assert set(stored.values()) == {1}, "a message was stored twice"


@pytest.mark.django_db(transaction=True)
def test_stopped_with_sigterm_mid_flood_it_exits_cleanly_and_loses_nothing(tmp_path):
    flood, stored, stopped = flood_and_interrupt(tmp_path, signal.SIGTERM)
    _, errors = stopped.communicate()
    assert stopped.returncode == 0, errors
    assert "Stopped;" in errors
    assert set(stored) == sent_ids() == set(flood.acknowledged)
    assert set(stored.values()) == {1}
