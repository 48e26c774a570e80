"""The pure text steps against their input/expected tables in `tests/fixtures/intake/`: quoted reply
removal, signature removal and bullet extraction. A new case for every bug found in real mail."""

import json
from pathlib import Path

import pytest

from lastweek.intake.bullets import extract_bullets
from lastweek.intake.quoting import strip_quoted_reply
from lastweek.intake.signatures import strip_signature

TABLES = Path(__file__).resolve().parents[1] / "fixtures" / "intake"


def cases(name: str) -> list:
    table = json.loads((TABLES / name).read_text(encoding="utf-8"))
    return [pytest.param(case["input"], case["expected"], id=case["case"]) for case in table]


@pytest.mark.parametrize(("text", "expected"), cases("quoting.json"))
def test_strip_quoted_reply(text, expected):
    assert strip_quoted_reply(text) == expected


@pytest.mark.parametrize(("text", "expected"), cases("signatures.json"))
def test_strip_signature(text, expected):
    assert strip_signature(text) == expected


@pytest.mark.parametrize(("text", "expected"), cases("bullets.json"))
def test_extract_bullets(text, expected):
    assert list(extract_bullets(text)) == expected
