"""Attribution and outcomes of stored messages: by reply token, In-Reply-To or From; spoofed From;
automatic replies and bounces; refusals; duplicates; reprocessing."""

import pytest
from django.core.management import call_command

from lastweek.directives.actions import close_cycle
from lastweek.intake.actions import process_stored, store_raw
from lastweek.intake.models import InboundMessage
from lastweek.mail import reply_address
from lastweek.reports.models import Report
from tests.intake.world import (
    LATE,
    ON_TIME,
    answer_by_token,
    assignment,
    bounce,
    open_week,
    out_of_office,
    reply,
    request_mail,
)

State = InboundMessage.State
BULLETS = "- Closed 14 benefit claims\n- Trained two new staff\n"


@pytest.fixture
def cycle(db):
    return open_week()


def receive(raw: bytes, *, to: str = "", at=ON_TIME) -> InboundMessage:
    """Store a message as the SMTP server does, process the backlog, return the stored row."""
    store_raw(raw, envelope_from="sender@example.gov", envelope_to=[to] if to else [], received_at=at)
    process_stored()
    return InboundMessage.objects.order_by("-id").first()


def test_a_reply_to_the_reply_address_becomes_alices_report(cycle):
    message = receive(answer_by_token(cycle, "alice", "a1@mail.example.gov"))
    report = Report.objects.get()
    assert (message.state, message.attributed_by, message.kind) == (State.ATTRIBUTED, "token", "answer")
    assert message.report_id == report.pk and report.assignment == assignment(cycle, "alice")
    assert list(report.bullets.values_list("text", flat=True)) == [
        "Closed 14 benefit claims",
        "Trained two new staff on the case system",
    ]
    assert report.channel == "email" and report.source_id == "a1@mail.example.gov"


def test_the_envelope_recipient_token_counts_even_when_the_to_header_lost_it(cycle):
    raw = reply("alice@example.gov", "Weekly <lastweek@lastweek.example.gov>", BULLETS, message_id="a2@x")
    message = receive(raw, to=reply_address(assignment(cycle, "alice").pk))
    assert message.attributed_by == "token"
    assert message.assignment_id == assignment(cycle, "alice").pk


def test_a_reply_naming_the_request_in_in_reply_to_is_attributed_to_its_assignment(cycle):
    request = request_mail(assignment(cycle, "bob"))
    raw = reply(
        "bob.personal@gmail.example",
        "lastweek@lastweek.example.gov",
        BULLETS,
        message_id="b1@x",
        in_reply_to=request.message_id,
    )
    message = receive(raw)
    assert (message.state, message.attributed_by) == (State.ATTRIBUTED, "in_reply_to")
    assert message.assignment_id == assignment(cycle, "bob").pk


def test_a_reply_with_only_a_known_from_is_attributed_to_the_open_cycle(cycle):
    message = receive(
        reply("Bob <BOB@example.gov>", "lastweek@lastweek.example.gov", BULLETS, message_id="b2@x")
    )
    assert (message.state, message.attributed_by) == (State.ATTRIBUTED, "from")
    assert Report.objects.get().assignment == assignment(cycle, "bob")


def test_a_from_that_failed_dmarc_is_quarantined_as_possibly_spoofed(cycle):
    raw = reply(
        "alice@example.gov",
        "lastweek@lastweek.example.gov",
        BULLETS,
        message_id="spoof@x",
        headers={
            "Authentication-Results": "mx.lastweek.example.gov; spf=fail; dmarc=fail header.from=example.gov"
        },
    )
    message = receive(raw)
    assert (message.state, message.reason) == (State.QUARANTINED, "spoofed")
    assert not Report.objects.exists()


def test_a_token_from_someone_else_is_accepted_and_the_mismatch_recorded(cycle):
    raw = reply(
        "assistant@example.gov", reply_address(assignment(cycle, "alice").pk), BULLETS, message_id="as@x"
    )
    message = receive(raw)
    assert (message.state, message.reason) == (State.ATTRIBUTED, "from_mismatch")
    assert Report.objects.get().assignment == assignment(cycle, "alice")


def test_a_token_from_someone_else_whose_from_failed_authentication_is_quarantined(cycle):
    raw = reply(
        "mallory@example.net",
        reply_address(assignment(cycle, "alice").pk),
        BULLETS,
        message_id="mal@x",
        headers={"Authentication-Results": "mx.lastweek.example.gov; dmarc=fail header.from=example.net"},
    )
    assert receive(raw).reason == "spoofed"
    assert not Report.objects.exists()


def test_a_stranger_without_token_is_quarantined_as_unknown_sender(cycle):
    message = receive(
        reply("stranger@example.com", "lastweek@lastweek.example.gov", BULLETS, message_id="s@x")
    )
    assert (message.state, message.reason) == (State.QUARANTINED, "unknown_sender")


def test_a_forged_token_is_not_trusted(cycle):
    forged = "reply+1abcdefgh@lastweek.example.gov"
    message = receive(reply("stranger@example.com", forged, BULLETS, message_id="forged@x"))
    assert message.state == State.QUARANTINED and message.assignment_id is None


def test_an_out_of_office_marks_the_assignment_and_makes_no_report(cycle):
    message = receive(out_of_office(cycle, "dave", "ooo@x"))
    assert (message.state, message.kind) == (State.ATTRIBUTED, "auto_reply")
    assert assignment(cycle, "dave").auto_reply_at == ON_TIME
    assert not Report.objects.exists()


def test_automatic_replies_in_one_batch_leave_the_latest_time_and_never_move_it_back(cycle):
    import datetime as dt

    from lastweek.compliance.models import StaleUnit

    later = ON_TIME + dt.timedelta(hours=2)
    for raw, at in (
        (out_of_office(cycle, "dave", "ooo2@x"), later),
        (out_of_office(cycle, "dave", "ooo1@x"), ON_TIME),
    ):
        store_raw(raw, envelope_from="dave@example.gov", envelope_to=[], received_at=at)
    StaleUnit.objects.all().delete()
    process_stored()  # both in one batch, the later one first
    assert assignment(cycle, "dave").auto_reply_at == later
    assert StaleUnit.objects.filter(cycle_id=cycle.pk, unit_id=assignment(cycle, "dave").unit_id).exists()
    receive(out_of_office(cycle, "dave", "ooo0@x"), at=ON_TIME - dt.timedelta(hours=1))
    assert assignment(cycle, "dave").auto_reply_at == later


def test_a_bounce_marks_the_request_as_bounced_and_makes_no_report(cycle):
    request = request_mail(assignment(cycle, "bob"))
    message = receive(bounce(cycle, "bob", request, "dsn@mx"))
    assert (message.state, message.kind) == (State.ATTRIBUTED, "bounce")
    assert assignment(cycle, "bob").bounced_at == ON_TIME
    assert not Report.objects.exists()


def test_a_bounce_without_token_is_matched_by_the_bounced_message_id(cycle):
    request = request_mail(assignment(cycle, "bob"))
    raw = bounce(cycle, "bob", request, "dsn2@mx").replace(
        reply_address(assignment(cycle, "bob").pk).encode(), b"postmaster@lastweek.example.gov"
    )
    message = receive(raw)
    assert message.attributed_by == "in_reply_to"
    assert assignment(cycle, "bob").bounced_at is not None


def test_a_paused_persons_answer_is_kept_as_a_voluntary_one(cycle):
    message = receive(answer_by_token(cycle, "carol", "c1@x"))
    assert message.state == State.ATTRIBUTED
    assert Report.objects.get().employee.first_name.lower() == "carol"


def test_an_answer_to_a_closed_week_is_refused_with_the_reason(cycle):
    close_cycle(cycle)
    message = receive(answer_by_token(cycle, "alice", "closed@x"))
    assert (message.state, message.reason) == (State.REFUSED, "closed")
    assert "closed" in message.detail
    assert not Report.objects.exists()


def test_an_answer_after_the_deadline_is_recorded_late(cycle):
    receive(answer_by_token(cycle, "alice", "late@x"), at=LATE)
    assert Report.objects.get().on_time is False


def test_the_same_message_stored_twice_is_kept_once(cycle):
    raw = answer_by_token(cycle, "alice", "twice@x")
    receive(raw)
    receive(raw)
    assert InboundMessage.objects.count() == 1 and Report.objects.count() == 1


def test_the_same_message_id_with_other_bytes_is_a_duplicate_of_the_first_report(cycle):
    first = receive(answer_by_token(cycle, "alice", "relayed@x"))
    second = receive(answer_by_token(cycle, "alice", "relayed@x") + b"\r\n-- \r\nrelayed copy\r\n")
    assert (second.state, second.report_id) == (State.DUPLICATE, first.report_id)
    assert Report.objects.count() == 1


def test_unreadable_bytes_are_quarantined_with_the_reason(cycle):
    message = receive(b"\x00\x01 not mail at all")
    assert (message.state, message.reason) == (State.QUARANTINED, "unreadable")
    assert message.detail


def test_reprocess_attributes_a_quarantined_message_once_the_sender_is_on_the_roster(cycle):
    from lastweek.directives.models import Assignment
    from tests.factories import EmployeeFactory

    message = receive(
        reply("erin@example.gov", "lastweek@lastweek.example.gov", BULLETS, message_id="erin@x")
    )
    assert message.reason == "unknown_sender"
    alice = assignment(cycle, "alice")
    erin = EmployeeFactory(unit_id=alice.unit_id, agency_id=alice.agency_id, email="erin@example.gov")
    Assignment.objects.create(
        cycle=cycle,
        employee=erin,
        agency_id=alice.agency_id,
        unit_id=alice.unit_id,
        mode="required",
        source="directive",
        due_at=alice.due_at,
    )
    call_command("reprocess", "--state", "quarantined", "--quiet")
    message.refresh_from_db()
    assert message.state == State.ATTRIBUTED and Report.objects.get().employee == erin


def test_reprocessing_an_attributed_answer_again_records_no_second_report(cycle):
    receive(answer_by_token(cycle, "alice", "again@x"))
    InboundMessage.objects.update(state=State.QUARANTINED)
    tally = process_stored(State.QUARANTINED)
    assert tally.counts[State.DUPLICATE] == 1
    assert Report.objects.count() == 1


def test_a_message_another_processor_took_meanwhile_is_left_to_it(cycle):
    from lastweek.intake.parse import parse_message

    store_raw(answer_by_token(cycle, "alice", "race@x"), envelope_from="", envelope_to=[])

    def parse_while_another_takes_it(raw: bytes):
        InboundMessage.objects.update(state=State.ATTRIBUTED, reason="taken")
        return parse_message(raw)

    tally = process_stored(parse=parse_while_another_takes_it)
    assert tally.counts["processed"] == 0
    assert InboundMessage.objects.get().reason == "taken" and not Report.objects.exists()


def test_attribute_names_the_assignment_of_a_reply_token_without_storing_anything(cycle):
    from lastweek.intake.attribute import Candidate, attribute
    from lastweek.intake.parse import parse_message

    parsed = parse_message(answer_by_token(cycle, "dave", "pure@x"))
    found = attribute(Candidate(parsed, (), ON_TIME))
    assert (found.assignment_id, found.method, found.reason) == (assignment(cycle, "dave").pk, "token", "")
    assert not InboundMessage.objects.exists()
