"""Whatever arrives, parse_message returns a ParsedMessage with a reason and never raises: random bytes, and
the fixtures truncated, with bytes flipped, headers duplicated, boundaries removed or lines shuffled."""

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lastweek.intake.parse import Kind, ParsedMessage, parse_message

MAIL = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
# The large fixture would only slow every example down; its own test covers it.
FIXTURES = [path.read_bytes() for path in sorted(MAIL.glob("*.eml")) if path.stat().st_size < 50_000]
PROPERTIES = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def assert_well_formed(parsed: ParsedMessage) -> None:
    assert isinstance(parsed, ParsedMessage)
    assert parsed.kind in Kind
    assert parsed.reason.strip()
    # The catch-all in parse_message is the last line of defence, not the way broken mail is handled.
    assert not parsed.reason.startswith("parser error"), parsed.reason
    assert parsed.kind is Kind.ANSWER or not parsed.bullets
    assert "\x00" not in parsed.text and all("\x00" not in bullet for bullet in parsed.bullets)
    assert parsed.date is None or parsed.date.tzinfo is not None


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    raw = draw(st.sampled_from(FIXTURES))
    mutation = draw(st.sampled_from(["truncate", "flip", "duplicate", "unbound", "shuffle", "splice"]))
    if mutation == "truncate":
        return raw[: draw(st.integers(0, len(raw)))]
    if mutation == "flip":
        data = bytearray(raw)
        for _ in range(draw(st.integers(1, 20))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if mutation == "duplicate":
        head, _, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
        lines = head.splitlines()
        line = draw(st.sampled_from(lines)) if lines else b"X: y"
        return b"\r\n".join([line * draw(st.integers(1, 3)), *lines, line]) + b"\r\n\r\n" + body
    if mutation == "unbound":
        return re.sub(rb'boundary="?[^";\r\n]+"?', b"", raw, flags=re.IGNORECASE)
    if mutation == "shuffle":
        lines = raw.splitlines(keepends=True)
        return b"".join(draw(st.permutations(lines))) if len(lines) < 200 else raw[::-1]
    return raw + draw(st.binary(max_size=500)) + raw[: len(raw) // 2]


@PROPERTIES
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(raw):
    assert_well_formed(parse_message(raw))


@PROPERTIES
@given(st.text(max_size=2000).map(lambda text: f"From: a@b.gov\nSubject: x\n\n{text}".encode()))
def test_random_text_bodies_never_raise(raw):
    assert_well_formed(parse_message(raw))


@PROPERTIES
@given(mutated_fixture())
def test_mutated_fixtures_never_raise(raw):
    assert_well_formed(parse_message(raw))


def test_empty_input_is_unreadable_with_a_reason():
    parsed = parse_message(b"")

    assert (parsed.kind, parsed.reason) == (Kind.UNREADABLE, "empty message")
