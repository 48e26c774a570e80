"""Reading mailboxes for import, and the part of an import that runs on every core. Pure: no Django.

A mailbox is a Maildir (a folder with cur/ and new/), a folder of `.eml` files (searched recursively),
or an mbox file. Messages are streamed: a Maildir or folder is a list of file names, read by the worker
that parses them; an mbox is split here, one message at a time, and never read whole.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import re
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

from lastweek.intake.parse import ParsedMessage, parse_message

# Only what is inside the first angle brackets, as parse_message() reads a Message-ID.
_BRACKETED_ID = re.compile(r"<([^<>\s]{1,250})>")
_MESSAGE_ID_LENGTH = 255
# mboxrd: a body line "From " was written as ">From ", ">From " as ">>From ", and so on.
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.M)


class MailboxError(Exception):
    """The path is not a mailbox this import reads; the message says what to do."""


class Entry(NamedTuple):
    """One message of a mailbox: where it is (`ref`), its file, or its bytes (mbox). A named tuple, as
    `Read` is: chunks of them are pickled to the workers."""

    ref: str
    path: str | None = None
    raw: bytes | None = None
    mtime: float | None = None


class Read(NamedTuple):
    """One message read and parsed by a worker (a named tuple: it is pickled back to the importing
    process, and a frozen dataclass costs several times as much to pickle and unpickle)."""

    ref: str
    raw: bytes
    sha256: str
    key: str
    parsed: ParsedMessage
    mtime: float | None


def mailbox_kind(path: Path) -> str:
    """'maildir', 'eml' or 'mbox'; MailboxError when `path` is none of them."""
    if path.is_dir():
        return "maildir" if (path / "cur").is_dir() or (path / "new").is_dir() else "eml"
    if path.is_file():
        with path.open("rb") as handle:
            start = handle.read(5)
        if start == b"From " or not start:
            return "mbox"
        if path.suffix.lower() == ".eml":
            return "eml"
        raise MailboxError(
            f"{path} is a file but not an mbox (it does not start with 'From '): give an mbox file, "
            "a Maildir folder, or a folder of .eml files."
        )
    raise MailboxError(f"{path} does not exist: give an mbox file, a Maildir or a folder of .eml files.")


def entries(path: Path) -> Iterator[Entry]:
    """Every message in the mailbox at `path`, streamed: a folder in the order the file system lists it
    (never sorted, which would hold millions of names in memory; a rerun finds what it already stored
    by content, whatever the order)."""
    kind = mailbox_kind(path)
    if kind == "mbox":
        yield from _mbox_entries(path)
    elif kind == "maildir":
        for folder in ("cur", "new"):
            yield from _files(path / folder, lambda name: not name.startswith("."), root=path)
    elif path.is_file():
        yield Entry(path.name, str(path))
    else:
        yield from _eml_tree(path, path)


def count_entries(path: Path) -> int | None:
    """How many messages a folder holds (cheap: names only); None for an mbox (known only once read)."""
    kind = mailbox_kind(path)
    if kind == "mbox":
        return None
    if kind == "maildir":
        return sum(
            1 for folder in ("cur", "new") if (path / folder).is_dir() for _ in os.scandir(path / folder)
        )
    return 1 if path.is_file() else sum(1 for _ in _eml_tree(path, path))


def _files(folder: Path, wanted, root: Path) -> Iterator[Entry]:
    if not folder.is_dir():
        return
    # The folder's path relative to the mailbox once, not os.path.relpath per file (a tenth of the
    # importing process's time went there).
    prefix = os.path.join(os.path.relpath(folder, root), "")
    with os.scandir(folder) as listing:
        for item in listing:
            if wanted(item.name) and item.is_file():
                yield Entry(prefix + item.name, item.path)


def _eml_tree(folder: Path, root: Path) -> Iterator[Entry]:
    with os.scandir(folder) as listing:
        for item in listing:
            if item.is_dir():
                yield from _eml_tree(Path(item.path), root)
            elif item.name.lower().endswith(".eml") and item.is_file():
                yield Entry(os.path.relpath(item.path, root), item.path)


def _mbox_entries(path: Path) -> Iterator[Entry]:
    """Split an mbox at its "From " lines (each message's separator), line by line."""
    lines: list[bytes] = []
    number = 0
    previous_blank = True
    with path.open("rb") as handle:
        for line in handle:
            if line.startswith(b"From ") and previous_blank and lines:
                yield _mbox_entry(path, number, lines)
                number += 1
                lines = []
            elif not (line.startswith(b"From ") and not lines):
                lines.append(line)
            previous_blank = line in (b"\n", b"\r\n")
    if lines:
        yield _mbox_entry(path, number, lines)


def _mbox_entry(path: Path, number: int, lines: list[bytes]) -> Entry:
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]  # the blank line before the next separator belongs to the mbox
    raw = _ESCAPED_FROM.sub(rb"\1", b"".join(lines))
    return Entry(f"{path.name}#{number}", raw=raw)


def header_message_id(raw: bytes) -> str:
    """The Message-ID from the raw header block without a full parse: what is inside its angle
    brackets, as parse_message() reads it ('' if none)."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        end = raw.find(b"\n\n")
    head = raw[: end if end >= 0 else 65_536]
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    for number, line in enumerate(lines):
        if line[:11].lower() == b"message-id:":
            value = line[11:]
            for folded in lines[number + 1 :]:  # a folded header goes on on indented lines
                if not folded or not folded[:1].isspace():
                    break
                value += folded
            text = value.decode("ascii", "replace")
            found = _BRACKETED_ID.search(text)
            return found.group(1) if found else text.strip()
    return ""


def message_key(message_id: str | None) -> str:
    """The Message-ID as stored and used for idempotency: as written, or its hash when over-long."""
    message_id = (message_id or "").strip()
    if len(message_id) <= _MESSAGE_ID_LENGTH:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()


def read_entries(chunk: list[Entry]) -> list[Read | tuple[str, str]]:
    """Read, hash and parse a chunk of messages (in a worker process). A file that cannot be read
    comes back as (ref, the error in words), never as an exception."""
    done: list[Read | tuple[str, str]] = []
    for ref, path, raw, mtime in chunk:
        if raw is None:
            try:
                raw, mtime = _read_file(path)  # type: ignore[arg-type]
            except OSError as error:
                done.append((ref, f"cannot read the file: {error.strerror}"))
                continue
        sha256 = hashlib.sha256(raw).hexdigest()
        key = message_key(header_message_id(raw))
        done.append(Read(ref, raw, sha256, key, parse_message(raw), mtime))
    return done


def _read_file(path: str) -> tuple[bytes, float]:
    """A file's bytes and modification time with bare system calls (half the time of `open()`'s
    buffered file object, which a worker would build and drop for every message)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        status = os.fstat(descriptor)
        # One byte more than its size: fewer back means the end was reached (a regular file reads short
        # only at its end), all of them that it grew since fstat, and the rest is read too.
        raw = os.read(descriptor, status.st_size + 1)
        if len(raw) > status.st_size:
            pieces = [raw]
            while pieces[-1]:
                pieces.append(os.read(descriptor, 1 << 20))
            raw = b"".join(pieces)
    finally:
        os.close(descriptor)
    return raw, status.st_mtime


def _ignore_interrupts() -> None:
    """Ctrl-C reaches every process of the terminal: the workers leave stopping to the command, which
    finishes the chunk in hand."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def parsed_chunks(
    items: Iterable[Entry], jobs: int, chunk_size: int
) -> Iterator[list[Read | tuple[str, str]]]:
    """The messages read and parsed in chunks on `jobs` processes, in order, with a few chunks in flight
    per worker (bounded memory: the mailbox is never read whole). `jobs` 1 parses in this process."""
    iterator = iter(items)
    chunks = iter(lambda: list(itertools.islice(iterator, chunk_size)), [])
    if jobs == 1:
        for chunk in chunks:
            yield read_entries(chunk)
        return
    # spawn: a worker starts clean, without a copy of this process's database connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_ignore_interrupts) as pool:
        pending: deque[Future] = deque()
        for chunk in chunks:
            pending.append(pool.submit(read_entries, chunk))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
