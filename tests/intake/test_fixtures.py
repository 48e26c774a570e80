"""Every mail fixture parses to what `tests/fixtures/mail/expected.json` says: its kind and, where given,
its exact bullets, reason, bounce details, attachments, repairs, subject and authentication result."""

import json
from pathlib import Path

import pytest

from lastweek.intake.parse import Kind, parse_message

MAIL = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
EXPECTED = json.loads((MAIL / "expected.json").read_text(encoding="utf-8"))


def test_every_fixture_has_an_expectation_and_every_expectation_a_fixture():
    assert sorted(path.name for path in MAIL.glob("*.eml")) == sorted(EXPECTED)


def test_the_corpus_covers_every_kind():
    assert {expected["kind"] for expected in EXPECTED.values()} == {kind.value for kind in Kind}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_parses_as_expected(name):
    expected = EXPECTED[name]
    parsed = parse_message((MAIL / name).read_bytes())

    assert (parsed.kind, parsed.reason) == (expected["kind"], expected.get("reason", parsed.reason))
    assert list(parsed.bullets) == expected["bullets"]
    for field in ("bounce_recipients", "bounced_message_ids"):
        assert list(getattr(parsed, field)) == expected.get(field, [])
    assert parsed.bounce_status == expected.get("bounce_status", parsed.bounce_status)
    attachments = [[attachment.filename, attachment.content_type] for attachment in parsed.attachments]
    assert attachments == expected.get("attachments", [])
    assert set(expected.get("defects", [])) <= set(parsed.defects)
    assert parsed.subject == expected.get("subject", parsed.subject)
    assert parsed.authentication_failed == expected.get("authentication_failed")
    assert parsed.reason
