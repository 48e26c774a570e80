"""The pure text steps against their input/expected tables in `tests/fixtures/intake/`: quoted reply
removal, signature removal, HTML to text and bullet extraction. A new case for every bug found in
real mail."""

import json
from pathlib import Path

import pytest

from lastweek.intake.bullets import extract_bullets
from lastweek.intake.html_text import html_to_text
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


@pytest.mark.parametrize(("html", "expected"), cases("html_text.json"))
def test_html_to_text(html, expected):
    assert html_to_text(html) == expected
