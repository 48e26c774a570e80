"""Synthetic replies are realistic in their mix (answers in every client style, out-of-office replies,
bounces, templates, slips, late and unknown senders), deterministic, and each one parses as what it is."""

import datetime as dt
import hashlib
from collections import Counter

import pytest

from lastweek.intake.parse import Kind, parse_message
from lastweek.synth.replies import ReplyRequest, SynthReply, replies, reply_for, write_maildir

DUE = dt.datetime(2026, 12, 1, 4, 59, tzinfo=dt.UTC)
AGENCIES = (
    "Department of Veterans Affairs",
    "Department of the Army",
    "National Aeronautics and Space Administration",
    "Department of Transportation",
    "Small Business Administration",
    "Department of Health and Human Services",
)
PEOPLE = (("Jane", "Doe"), ("José", "Álvarez"), ("Mary-Kate", "O'Brien"), ("Liam", "Nguyen"))
COUNT = 6_000


def request(assignment_id: int) -> ReplyRequest:
    first, last = PEOPLE[assignment_id % len(PEOPLE)]
    return ReplyRequest(
        assignment_id=assignment_id,
        reply_address=f"reply+t{assignment_id}@lastweek.example.gov",
        first_name=first,
        last_name=last,
        email=f"person{assignment_id}@agency.example.gov",
        agency_name=AGENCIES[assignment_id % len(AGENCIES)],
        title="Program Analyst",
        manager_name="Maria Manager",
        due_at=DUE,
        request_message_id=f"<2026-W48.{assignment_id}.abcd1234@lastweek.example.gov>",
    )


@pytest.fixture(scope="module")
def generated() -> list[SynthReply]:
    return list(replies((request(n) for n in range(1, COUNT + 1)), seed=7))


def share(messages: list[SynthReply], predicate) -> float:
    return sum(1 for message in messages if predicate(message)) / len(messages)


def test_kinds_come_in_the_documented_shares(generated):
    assert share(generated, lambda m: m.kind == "auto_reply") == pytest.approx(0.03, abs=0.008)
    assert share(generated, lambda m: m.kind == "bounce") == pytest.approx(0.005, abs=0.003)
    assert share(generated, lambda m: m.template) == pytest.approx(0.05, abs=0.012)
    assert share(generated, lambda m: m.sensitive) == pytest.approx(0.01, abs=0.005)
    assert share(generated, lambda m: m.late) == pytest.approx(0.04, abs=0.01)
    assert share(generated, lambda m: m.unknown_sender) == pytest.approx(0.01, abs=0.005)


def test_every_client_style_charset_and_encoding_appears(generated):
    clients = Counter(message.client for message in generated)
    heads = b"\n".join(message.raw[:3000].lower() for message in generated)

    assert set(clients) >= {"outlook", "outlook-html", "outlook-web", "gmail", "apple-mail", "iphone"}
    assert set(clients) >= {"android", "thunderbird", "lotus-notes", "out-of-office", "mailer-daemon"}
    for marker in (b"charset=utf-8", b"charset=windows-1252", b"charset=iso-8859-1", b"charset=us-ascii"):
        assert marker in heads, marker
    for encoding in (b"base64", b"quoted-printable", b"8bit", b"7bit"):
        assert b"content-transfer-encoding: " + encoding in heads, encoding
    assert b"text/html" in heads and b"multipart/alternative" in heads


def test_every_reply_parses_as_the_kind_it_was_written_as(generated):
    mismatched = [m.assignment_id for m in generated if parse_message(m.raw).kind != m.kind]

    assert mismatched == []


def test_answers_parse_to_the_bullets_that_were_written(generated):
    answers = [message for message in generated if message.kind == "answer"]
    wrong = [m.assignment_id for m in answers if parse_message(m.raw).bullets != m.bullets]

    assert len(answers) > COUNT * 0.9
    assert wrong == []


def test_bounces_name_the_employee_and_the_request(generated):
    bounce = next(message for message in generated if message.kind == "bounce")
    parsed = parse_message(bounce.raw)

    assert parsed.kind is Kind.BOUNCE
    assert parsed.bounce_recipients == (f"person{bounce.assignment_id}@agency.example.gov",)
    assert parsed.bounced_message_ids == (f"2026-W48.{bounce.assignment_id}.abcd1234@lastweek.example.gov",)
    assert parsed.to_addresses == (f"reply+t{bounce.assignment_id}@lastweek.example.gov",)


def test_late_replies_are_dated_after_the_deadline_and_others_before(generated):
    assert all((parse_message(m.raw).date > DUE) == m.late for m in generated[:2000] if m.kind == "answer")


def test_sensitive_slips_carry_a_marking_or_an_ssn_like_number(generated):
    slips = [message for message in generated if message.sensitive]

    assert slips
    for slip in slips:
        text = " ".join(slip.bullets)
        assert any(mark in text for mark in ("SECRET", "CUI", "-")), text


def test_templates_are_copies_with_small_edits(generated):
    templates = [message.bullets for message in generated if message.template]

    assert len(set(templates)) < len(templates) / 3  # the same few texts again and again
    assert len(set(templates)) > 3  # but edited


def test_unknown_senders_write_from_another_address(generated):
    unknown = [message for message in generated if message.unknown_sender]

    assert unknown
    for message in unknown:
        assert parse_message(message.raw).from_address != f"person{message.assignment_id}@agency.example.gov"


def test_no_line_is_longer_than_smtp_allows(generated):
    # RFC 5322 2.1.1: 998 characters a line; a mail server refuses a longer one (aiosmtpd with a 500).
    longest = max(len(line) for reply in generated for line in reply.raw.split(b"\r\n"))
    assert longest <= 998


def test_the_same_seed_gives_the_same_bytes():
    first = [reply_for(request(n), seed=3).raw for n in range(1, 300)]
    second = [reply_for(request(n), seed=3).raw for n in range(1, 300)]
    other = [reply_for(request(n), seed=4).raw for n in range(1, 300)]

    assert first == second
    assert first != other


def test_a_reply_does_not_depend_on_what_else_is_generated():
    alone = reply_for(request(41), seed=9).raw

    assert [m.raw for m in replies([request(40), request(41)], seed=9)][1] == alone


def test_write_maildir_writes_every_message_into_new(tmp_path, generated):
    written = write_maildir(generated[:500], tmp_path / "box")

    files = sorted((tmp_path / "box" / "new").iterdir())
    assert written == len(files) == 500
    assert (tmp_path / "box" / "cur").is_dir() and (tmp_path / "box" / "tmp").is_dir()
    assert {path.read_bytes() for path in files} == {message.raw for message in generated[:500]}


def test_write_maildir_names_are_the_same_for_the_same_seed(tmp_path):
    digests = []
    for run in ("a", "b"):
        write_maildir(replies((request(n) for n in range(1, 200)), seed=5), tmp_path / run)
        names = sorted(path.name for path in (tmp_path / run / "new").iterdir())
        digests.append(hashlib.sha256("\n".join(names).encode()).hexdigest())

    assert digests[0] == digests[1]
