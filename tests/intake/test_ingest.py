"""`lastweek ingest PATH` for an mbox, a Maildir and a folder of .eml files: every message stored once with
its outcome, answers recorded as reports, a summary table; a second run (or one after a kill) adds nothing."""

from __future__ import annotations

import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from lastweek.intake.ingest import ingest
from lastweek.intake.mailboxes import entries
from lastweek.intake.models import InboundMessage
from lastweek.mail import reply_address
from lastweek.reports.models import Report
from tests.intake.test_smtpd_kill import ServerDatabase
from tests.intake.world import (
    LATE,
    answer_by_token,
    assignment,
    bounce,
    open_week,
    out_of_office,
    reply,
    request_mail,
)

State = InboundMessage.State


@pytest.fixture
def cycle(db):
    return open_week()


def week_of_mail(cycle) -> list[bytes]:
    """Alice answers on time, Bob late, Dave is out of the office, Bob's request bounced once, Carol
    (paused) answers anyway, which is kept as a voluntary answer, and a stranger writes in."""
    bob = request_mail(assignment(cycle, "bob"))
    stranger = reply("stranger@example.com", "lastweek@lastweek.example.gov", "- Hello\n", message_id="s@x")
    return [
        answer_by_token(cycle, "alice", "alice@x"),
        answer_by_token(cycle, "bob", "bob@x", date=LATE),
        out_of_office(cycle, "dave", "dave-ooo@x"),
        bounce(cycle, "bob", bob, "bob-dsn@mx"),
        answer_by_token(cycle, "carol", "carol@x"),
        stranger,
    ]


def write_maildir(folder: Path, messages: list[bytes]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for number, raw in enumerate(messages):
        (folder / "cur" / f"{1_700_000_000 + number}.M{number}P1.host:2,S").write_bytes(raw)
    return folder


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    with path.open("wb") as mbox:
        for raw in messages:
            body = raw.replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From ")
            mbox.write(b"From sender@example.gov Mon Nov 30 10:00:00 2026\n" + body.rstrip(b"\n") + b"\n\n")
    return path


def write_eml_folder(folder: Path, messages: list[bytes]) -> Path:
    (folder / "nested").mkdir(parents=True)
    for number, raw in enumerate(messages):
        place = folder / "nested" if number % 2 else folder
        (place / f"reply-{number}.eml").write_bytes(raw)
    (folder / "notes.txt").write_text("not mail")
    return folder


def assert_the_week_was_recorded(cycle) -> None:
    states = dict(InboundMessage.objects.values_list("message_id", "state"))
    assert states == {
        "alice@x": State.ATTRIBUTED,
        "bob@x": State.ATTRIBUTED,
        "dave-ooo@x": State.ATTRIBUTED,
        "bob-dsn@mx": State.ATTRIBUTED,
        "carol@x": State.ATTRIBUTED,
        "s@x": State.QUARANTINED,
    }
    reports = dict(Report.objects.values_list("source_id", "on_time"))
    assert reports == {"alice@x": True, "bob@x": False, "carol@x": True}
    assert assignment(cycle, "dave").auto_reply_at is not None
    assert assignment(cycle, "bob").bounced_at is not None


def test_a_maildir_is_imported_with_every_outcome(cycle, tmp_path):
    ingest(write_maildir(tmp_path / "Maildir", week_of_mail(cycle)), jobs=1)
    assert_the_week_was_recorded(cycle)
    assert InboundMessage.objects.filter(source="import").count() == 6


def test_an_mbox_is_imported_with_every_outcome(cycle, tmp_path):
    ingest(write_mbox(tmp_path / "replies.mbox", week_of_mail(cycle)), jobs=1)
    assert_the_week_was_recorded(cycle)


def test_an_mbox_keeps_a_body_line_starting_with_from(tmp_path):
    raw = reply("a@example.gov", "b@example.gov", "From here on I led the team.\n", message_id="f@x")
    [entry] = entries(write_mbox(tmp_path / "one.mbox", [raw]))
    assert b"\nFrom here on I led the team." in entry.raw


def test_a_folder_of_eml_files_is_imported_with_every_outcome(cycle, tmp_path):
    ingest(write_eml_folder(tmp_path / "eml", week_of_mail(cycle)), jobs=1)
    assert_the_week_was_recorded(cycle)


def test_parsing_on_two_worker_processes_gives_the_same_outcome(cycle, tmp_path):
    ingest(write_maildir(tmp_path / "Maildir", week_of_mail(cycle)), jobs=2, chunk_size=2)
    assert_the_week_was_recorded(cycle)


def test_a_second_run_stores_and_records_nothing_twice(cycle, tmp_path):
    maildir = write_maildir(tmp_path / "Maildir", week_of_mail(cycle))
    ingest(maildir, jobs=1)
    again = ingest(maildir, jobs=1)
    assert (again.already_stored, again.tally.counts["processed"]) == (6, 0)
    assert InboundMessage.objects.count() == 6 and Report.objects.count() == 3


def test_the_command_ends_with_a_summary_table(cycle, tmp_path):
    out = io.StringIO()
    call_command(
        "ingest", str(write_maildir(tmp_path / "Maildir", week_of_mail(cycle))), "--quiet", stdout=out
    )
    table = out.getvalue()
    for line in ("answers recorded as reports", "of which late", "automatic replies", "bounces"):
        assert line in table
    assert "quarantined: unknown_sender" in table


def test_a_path_that_is_no_mailbox_is_refused_with_a_hint(db, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CommandError, match="not an mbox"):
        call_command("ingest", str(tmp_path / "notes.txt"), "--quiet")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("ingest", str(tmp_path / "missing"), "--quiet")


def test_a_message_without_a_date_is_received_at_its_file_time(cycle, tmp_path):
    raw = answer_by_token(cycle, "alice", "nodate@x").replace(b"Date: ", b"X-Old-Date: ")
    maildir = write_maildir(tmp_path / "Maildir", [raw])
    file = next((maildir / "cur").iterdir())
    os.utime(file, (LATE.timestamp(), LATE.timestamp()))
    ingest(maildir, jobs=1)
    assert InboundMessage.objects.get().received_at == LATE
    assert Report.objects.get().on_time is False


ANSWERS = 600


def interrupted_import(tmp_path, stop_signal: int) -> tuple[ServerDatabase, list[str], subprocess.Popen, int]:
    """An import of ANSWERS replies in a subprocess, sent `stop_signal` once some are stored."""
    cycle = open_week({f"person{n}": "required" for n in range(20)})
    replies = [
        reply(
            f"person{n % 20}@example.gov",
            reply_address(assignment(cycle, f"person{n % 20}").pk),
            f"- Finished task {n}\n- Reviewed item {n}\n",
            message_id=f"kill{n}@x",
        )
        for n in range(ANSWERS)
    ]
    maildir = write_maildir(tmp_path / "Maildir", replies)
    database = ServerDatabase(tmp_path)
    command = [sys.executable, "-m", "lastweek", "ingest", str(maildir), "--jobs", "1", "--chunk-size", "10"]
    command.append("--quiet")
    env = {**os.environ, "DATABASE_URL": database.url, "LASTWEEK_DATA_DIR": str(tmp_path)}
    env["SECRET_KEY"] = settings.SECRET_KEY
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while sum(database.stored_message_ids().values()) < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(stop_signal)
    first.wait(30)
    stored = sum(database.stored_message_ids().values())
    assert 0 < stored < ANSWERS, "the stop should land mid-import"
    return database, command, first, stored


def finish_and_check(database: ServerDatabase, command: list[str], stored_before: int, tmp_path) -> None:
    env = {**os.environ, "DATABASE_URL": database.url, "LASTWEEK_DATA_DIR": str(tmp_path)}
    env["SECRET_KEY"] = settings.SECRET_KEY
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    skipped = re.search(r"stored before \(skipped\)\D*([\d,]+)", second.stdout)
    assert skipped and int(skipped.group(1).replace(",", "")) == stored_before
    stored = database.stored_message_ids()
    assert set(stored) == {f"kill{n}@x" for n in range(ANSWERS)} and set(stored.values()) == {1}
    assert reports_in(database) == ANSWERS


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_midway_resumes_without_duplicates_or_losses(tmp_path):
    database, command, killed, stored = interrupted_import(tmp_path, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    assert stored % 10 == 0, "a chunk is written whole or not at all"
    finish_and_check(database, command, stored, tmp_path)


@pytest.mark.django_db(transaction=True)
def test_an_import_stopped_with_sigterm_finishes_its_chunk_and_says_how_to_go_on(tmp_path):
    database, command, stopped, stored = interrupted_import(tmp_path, signal.SIGTERM)
    _, errors = stopped.communicate()
    assert stopped.returncode == 0, errors
    assert "run the same command again" in errors
    assert stored % 10 == 0, "whole chunks only"
    finish_and_check(database, command, stored, tmp_path)


def reports_in(database: ServerDatabase) -> int:
    query = f"SELECT count(*) FROM {Report._meta.db_table}"
    if database.file is None:
        with connection.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchone()[0]
    with sqlite3.connect(database.file) as file:
        return file.execute(query).fetchone()[0]
