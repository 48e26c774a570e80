"""Reading a large CSV file in blocks of whole records, knowing each record's physical line.

A roster of millions of rows is parsed far faster by polars than by the csv module, but polars does not
say which line a row came from, and a line count is only right when no quoted field spans lines and
every line is one well-formed record. So the file is cut into blocks at record boundaries (never inside
quotes), and each block is checked with a few vectorized byte counts: a `regular` block (every line one
record with the header's number of fields, quotes balanced on each line) can go to the fast parser with
line = first line + row index; any other block is read by the csv module, which counts lines exactly.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

BLOCK_BYTES = 16 << 20
NEWLINE, QUOTE, COMMA = ord("\n"), ord('"'), ord(",")
BYTE_ORDER_MARK = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Block:
    first_line: int
    data: bytes
    regular: bool


def header_and_blocks(path: Path, block_bytes: int | None = None) -> tuple[bytes, Iterator[Block]]:
    """The header line (without a byte-order mark) and an iterator over the blocks after it."""
    block_bytes = block_bytes or BLOCK_BYTES
    handle = path.open("rb")
    header = handle.readline()
    if header.startswith(BYTE_ORDER_MARK):
        header = header[len(BYTE_ORDER_MARK) :]
    return header, _blocks(handle, _field_count(header), block_bytes)


def _field_count(header: bytes) -> int:
    row = next(csv.reader([header.decode("utf-8", errors="replace")]), [])
    return len(row)


def _blocks(handle: BinaryIO, width: int, block_bytes: int) -> Iterator[Block]:
    line = 2
    carry = b""
    with handle:
        while True:
            chunk = handle.read(block_bytes)
            data = carry + chunk
            if not data:
                return
            if not chunk:  # the last record may lack its newline
                data += b"" if data.endswith(b"\n") else b"\n"
                cut = len(data)
            else:
                cut = _last_record_boundary(data)
            if cut == 0:
                carry = data  # one record longer than a block: read on
                continue
            block, carry = data[:cut], data[cut:]
            yield Block(line, block, _is_regular(block, width))
            line += block.count(b"\n")
            if not chunk:
                return


def _last_record_boundary(data: bytes) -> int:
    """The offset just after the last newline that is outside quotes (0: none)."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buffer == NEWLINE)
    quotes_before = np.searchsorted(np.flatnonzero(buffer == QUOTE), ends)
    outside = ends[quotes_before % 2 == 0]
    return int(outside[-1]) + 1 if outside.size else 0


def _is_regular(block: bytes, width: int) -> bool:
    """Every line is one record of `width` fields: no blank lines, no quoted newlines."""
    buffer = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(buffer == NEWLINE)
    quotes = np.bincount(np.searchsorted(ends, np.flatnonzero(buffer == QUOTE)), minlength=ends.size)
    commas = np.bincount(np.searchsorted(ends, np.flatnonzero(buffer == COMMA)), minlength=ends.size)
    if (quotes % 2).any():
        return False
    plain = quotes == 0
    if (commas[plain] != width - 1).any():
        return False
    # Lines with quotes may hold commas inside fields: count their fields properly (they are few).
    starts = np.concatenate(([0], ends[:-1] + 1))
    for index in np.flatnonzero(~plain):
        text = block[starts[index] : ends[index]].decode("utf-8", errors="replace")
        if len(next(csv.reader([text]))) != width:
            return False
    return True
