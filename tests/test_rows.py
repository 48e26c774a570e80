"""The batch toolbox: COPY writer, temporary tables and the streamed SQL → polars reader, on the
database the pass runs on (SQLite, then PostgreSQL)."""

import polars as pl
import pytest
from django.db import connection

from lastweek.org.models import Agency
from lastweek.rows import query_frame, query_frames, temp_table, write_rows

SCHEMA = {"id": pl.Int64, "text": pl.String}
# Text that a naive cut at a newline would split: quotes, commas and newlines inside one field.
AWKWARD = 'first line\nsecond, with a "quote"\n\nand a last line'


@pytest.fixture
def texts(db):
    rows = [(n, AWKWARD if n % 7 == 0 else f"bullet {n}") for n in range(1, 3_001)]
    with temp_table("lw_test_texts", "id bigint PRIMARY KEY, text text", rows) as table:
        yield table, rows


def test_a_whole_query_reads_as_one_frame_with_its_schema(texts):
    table, rows = texts
    frame = query_frame(f"SELECT id, text FROM {table} ORDER BY id", SCHEMA)
    assert frame.schema == pl.Schema(SCHEMA)
    assert frame.rows() == rows


def test_streamed_batches_cut_only_between_records(texts):
    table, rows = texts
    frames = list(query_frames(f"SELECT id, text FROM {table} ORDER BY id", SCHEMA, batch_bytes=4_096))
    assert len(frames) > 5
    assert pl.concat(frames).rows() == rows


def test_parameters_are_bound(texts):
    table, _ = texts
    frame = query_frame(f"SELECT id, text FROM {table} WHERE id <= %s ORDER BY id", SCHEMA, [3])
    assert frame["id"].to_list() == [1, 2, 3]


def test_an_empty_result_is_an_empty_frame_with_the_schema(texts):
    table, _ = texts
    frame = query_frame(f"SELECT id, text FROM {table} WHERE id < 0", SCHEMA)
    assert frame.height == 0 and frame.schema == pl.Schema(SCHEMA)


def test_written_rows_read_back_as_the_orm_sees_them(db):
    rows = [(f"A{n}", f"Agency {n}") for n in range(6_000)]  # more than one executemany chunk
    with connection.cursor() as cursor:
        write_rows(cursor, Agency._meta.db_table, ("code", "name"), rows)
    assert sorted(Agency.objects.values_list("code", "name")) == sorted(rows)
