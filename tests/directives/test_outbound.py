"""Request mail goes to every asked assignee exactly once, never to paused or exempt people, and carries
what a recipient needs to answer and to trust it. Sent to a real SMTP server on loopback."""

import base64
import datetime as dt
import re
import shutil
import subprocess
import threading
from io import StringIO

import dkim
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from lastweek.codes import format_verify_code
from lastweek.directives.models import Assignment, Cycle, Directive, Mode, RequestMail, Source
from lastweek.directives.outbound import MailServerUnavailable, journal_name, send_requests
from lastweek.directives.request_message import BodyTemplate
from lastweek.mail import (
    Outgoing,
    PipelinedSender,
    SendingLocked,
    SmtpBackend,
    TokenBucket,
    assignment_id_from_token,
    journal_path,
    sending_lock,
    smtp_data,
)
from lastweek.org.models import Employee
from tests.factories import AgencyFactory, DirectiveFactory, EmployeeFactory, UnitFactory

DEADLINE = dt.datetime(2026, 12, 1, 4, 59, tzinfo=dt.UTC)  # Monday 30 November, 23:59 in New York


def open_test_cycle(modes: dict[str, str], *, agency_name: str = "Department of Veterans Affairs") -> Cycle:
    """A cycle of week 2026-W48 with one assignment per named person, each in the mode given; everyone
    reports to Maria Manager. (Built directly, so each test names exactly the modes it needs.)"""
    agency = AgencyFactory(name=agency_name)
    unit = UnitFactory(agency=agency, name="Benefits")
    manager = EmployeeFactory(unit=unit, first_name="Maria", last_name="Manager")
    directive = DirectiveFactory(sender_name="Office of Personnel Management", max_bullets=5)
    cycle = Cycle.objects.create(
        directive=directive,
        week="2026-W48",
        week_start=dt.date(2026, 11, 23),
        opens_at=DEADLINE - dt.timedelta(days=4),
        deadline=DEADLINE,
        closes_at=DEADLINE + dt.timedelta(days=4),
        opened_by="test",
    )
    for name, mode in modes.items():
        employee = EmployeeFactory(
            unit=unit, manager=manager, first_name=name.capitalize(), email=f"{name}@example.gov"
        )
        Assignment.objects.create(
            cycle=cycle,
            employee=employee,
            agency_id=agency.pk,
            unit_id=unit.pk,
            manager_id=manager.pk,
            mode=mode,
            source=Source.DIRECTIVE,
            due_at=DEADLINE,
        )
    return cycle


EVERY_MODE = {
    "alice": Mode.REQUIRED,
    "bob": Mode.VOLUNTARY,
    "carol": Mode.PAUSED,
    "dave": Mode.EXEMPT,
}


def only_message_for(sink, address):
    [message] = sink.by_recipient()[address]
    return message


def test_every_asked_assignee_gets_exactly_one_request(db, mail_sink):
    cycle = open_test_cycle({f"person{n}": Mode.REQUIRED for n in range(30)} | {"bob": Mode.VOLUNTARY})
    result = send_requests(cycle, rate=0, batch_size=7)
    received = mail_sink.by_recipient()
    assert sorted(received) == sorted([f"person{n}@example.gov" for n in range(30)] + ["bob@example.gov"])
    assert all(len(messages) == 1 for messages in received.values())
    assert (result.sent, result.failed, result.already_sent) == (31, 0, 0)
    assert set(RequestMail.objects.values_list("state", flat=True)) == {RequestMail.State.SENT}


def test_paused_and_exempt_assignees_get_nothing(db, mail_sink):
    cycle = open_test_cycle(EVERY_MODE)
    result = send_requests(cycle, rate=0)
    assert sorted(mail_sink.by_recipient()) == ["alice@example.gov", "bob@example.gov"]
    assert result.skipped_not_asked == 2
    assert not RequestMail.objects.filter(assignment__mode__in=[Mode.PAUSED, Mode.EXEMPT]).exists()


def test_reply_addresses_are_unique_and_name_their_assignment(db, mail_sink):
    cycle = open_test_cycle({f"person{n}": Mode.REQUIRED for n in range(20)})
    send_requests(cycle, rate=0)
    for address, [message] in mail_sink.by_recipient().items():
        local_part = message.parsed()["Reply-To"].addresses[0].username
        assert local_part.startswith("reply+")
        assignment = Assignment.objects.get(pk=assignment_id_from_token(local_part.removeprefix("reply+")))
        assert assignment.employee.email == address
    reply_tos = {message.parsed()["Reply-To"] for message in mail_sink.messages}
    assert len(reply_tos) == 20


def test_the_stored_message_id_is_the_one_received(db, mail_sink):
    cycle = open_test_cycle({"alice": Mode.REQUIRED})
    send_requests(cycle, rate=0)
    mail = RequestMail.objects.get()
    assert only_message_for(mail_sink, "alice@example.gov").parsed()["Message-ID"] == mail.message_id
    assert mail.message_id.startswith(f"<2026-W48.{mail.assignment_id}.")
    assert (mail.to_address, mail.attempts) == ("alice@example.gov", 1)
    assert mail.sent_at is not None


def test_the_body_names_agency_manager_and_verification_code(db, mail_sink, settings):
    settings.SITE_URL = "https://lastweek.example.gov"
    cycle = open_test_cycle({"alice": Mode.REQUIRED})
    send_requests(cycle, rate=0)
    body = only_message_for(mail_sink, "alice@example.gov").parsed().get_content()
    code = RequestMail.objects.get().verify_code
    assert body.startswith("Dear Alice,")
    assert "employee of Department of Veterans Affairs, reporting to Maria Manager" in body
    assert f"verification code is {format_verify_code(code)}" in body
    assert "type https://lastweek.example.gov/verify/ into your browser yourself" in body
    assert "sign in at https://lastweek.example.gov/report/ and use the web form" in body
    assert "never asks for your password" in body
    assert "up to 5 bullets" in body


def test_the_deadline_is_given_in_the_recipients_own_time_zone(db, mail_sink):
    cycle = open_test_cycle({"alice": Mode.REQUIRED})
    Employee.objects.filter(email="alice@example.gov").update(time_zone="America/Los_Angeles")
    send_requests(cycle, rate=0)
    body = only_message_for(mail_sink, "alice@example.gov").parsed().get_content()
    assert "Please answer by Monday, November 30, 2026, 8:59 PM PST." in body


def test_the_headers_say_who_sends_and_that_it_is_automatic(db, mail_sink, settings):
    settings.DEFAULT_FROM_EMAIL = "lastweek@reports.example.gov"
    cycle = open_test_cycle({"alice": Mode.REQUIRED})
    send_requests(cycle, rate=0)
    message = only_message_for(mail_sink, "alice@example.gov")
    headers = message.parsed()
    assert headers["From"] == "Office of Personnel Management <lastweek@reports.example.gov>"
    # The envelope sender is the assignment's reply address: bounces and out-of-office notices name it.
    assert message.mail_from == headers["Reply-To"]
    assert (
        headers["Subject"]
        == "What did you get done last week? (week 2026-W48, Department of Veterans Affairs)"
    )
    assert headers["Auto-Submitted"] == "auto-generated"
    assert headers["X-Lastweek-Cycle"] == str(cycle.pk)


def test_names_outside_ascii_arrive_intact(db, mail_sink):
    cycle = open_test_cycle({"alice": Mode.REQUIRED}, agency_name="Oficina de Asuntos Económicos")
    Employee.objects.filter(email="alice@example.gov").update(first_name="Zoë", last_name="Ñúñez")
    send_requests(cycle, rate=0)
    parsed = only_message_for(mail_sink, "alice@example.gov").parsed()
    assert parsed["To"].addresses[0].display_name == "Zoë Ñúñez"
    assert parsed["Subject"].endswith("(week 2026-W48, Oficina de Asuntos Económicos)")
    assert parsed.get_content().startswith("Dear Zoë,")


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory):
    """A fresh 2048-bit RSA key and the DNS TXT record that publishes it."""
    if not shutil.which("openssl"):
        pytest.skip("needs openssl to generate a DKIM test key")
    folder = tmp_path_factory.mktemp("dkim")
    private = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", private, "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", private, "-pubout", "-outform", "DER"], check=True, capture_output=True
    ).stdout
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_the_dkim_signature_verifies(db, mail_sink, settings, dkim_key):
    private, txt_record = dkim_key
    settings.DKIM_PRIVATE_KEY_FILE = str(private)
    settings.DKIM_SELECTOR, settings.DKIM_DOMAIN = "lastweek", "reports.example.gov"
    cycle = open_test_cycle({"alice": Mode.REQUIRED, "bob": Mode.REQUIRED})
    send_requests(cycle, rate=0, connections=1)
    asked = []

    def dns(name, timeout=5):
        asked.append(name)
        return txt_record

    for message in mail_sink.messages:
        assert dkim.verify(message.data, dnsfunc=dns)
        signature = message.parsed()["DKIM-Signature"]
        assert "d=reports.example.gov" in signature and "s=lastweek" in signature
    assert asked == [b"lastweek._domainkey.reports.example.gov."] * 2


def test_a_tampered_message_fails_dkim(db, mail_sink, settings, dkim_key):
    private, txt_record = dkim_key
    settings.DKIM_PRIVATE_KEY_FILE = str(private)
    send_requests(open_test_cycle({"alice": Mode.REQUIRED}), rate=0)
    data = mail_sink.messages[0].data.replace(b"Dear Alice", b"Dear Alicia")
    assert not dkim.verify(data, dnsfunc=lambda name, timeout=5: txt_record)


def test_a_refused_recipient_is_marked_failed_and_the_rest_are_sent(db, mail_sink):
    mail_sink.refuse = {"bob@example.gov"}
    cycle = open_test_cycle({f"person{n}": Mode.REQUIRED for n in range(5)} | {"bob": Mode.REQUIRED})
    result = send_requests(cycle, rate=0)
    assert (result.sent, result.failed) == (5, 1)
    assert "bob@example.gov" not in mail_sink.by_recipient()
    refused = RequestMail.objects.get(to_address="bob@example.gov")
    assert refused.state == RequestMail.State.FAILED
    assert refused.last_error == "550 5.1.1 No such mailbox"
    assert RequestMail.objects.filter(state=RequestMail.State.SENT).count() == 5


def test_a_second_run_sends_nothing_new(db, mail_sink):
    mail_sink.refuse = {"bob@example.gov"}
    cycle = open_test_cycle(EVERY_MODE)
    send_requests(cycle, rate=0)
    again = send_requests(cycle, rate=0)
    assert mail_sink.count() == 1
    assert (again.sent, again.failed, again.already_sent, again.skipped_not_asked) == (0, 0, 2, 2)


def test_a_pipelining_server_gets_the_same_messages(db, mail_sink):
    mail_sink.pipelining = True
    mail_sink.refuse = {"bob@example.gov"}
    cycle = open_test_cycle({f"person{n}": Mode.REQUIRED for n in range(10)} | {"bob": Mode.REQUIRED})
    result = send_requests(cycle, rate=0)
    assert (result.sent, result.failed) == (10, 1)
    assert all(len(messages) == 1 for messages in mail_sink.by_recipient().values())


def test_requests_claimed_by_an_interrupted_run_go_first_with_their_message_id_and_code(db, mail_sink):
    cycle = open_test_cycle({"alice": Mode.REQUIRED, "bob": Mode.REQUIRED})
    alice = cycle.assignments.get(employee__email="alice@example.gov")
    RequestMail.objects.create(
        assignment=alice,
        cycle=cycle,
        message_id="<2026-W48.claimed@lastweek.example.gov>",
        verify_code="ABCDE12345",
        to_address="alice@example.gov",
        claimed_at=timezone.now(),
    )
    result = send_requests(cycle, rate=0)
    assert (result.sent, result.recovered) == (2, 1)
    message = only_message_for(mail_sink, "alice@example.gov")
    assert message.parsed()["Message-ID"] == "<2026-W48.claimed@lastweek.example.gov>"
    assert "ABCDE-12345" in message.parsed().get_content()
    assert mail_sink.messages[0] == message


def test_hand_overs_left_in_the_journal_by_a_killed_run_are_recorded_and_not_sent_again(db, mail_sink):
    cycle = open_test_cycle({"alice": Mode.REQUIRED, "bob": Mode.REQUIRED})
    alice = cycle.assignments.get(employee__email="alice@example.gov")
    RequestMail.objects.create(
        assignment=alice,
        cycle=cycle,
        message_id="<2026-W48.handed@lastweek.example.gov>",
        verify_code="ABCDE12345",
        to_address="alice@example.gov",
        claimed_at=timezone.now(),
    )
    journal = journal_path(journal_name(cycle))
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(f"{alice.pk}\n")  # handed over, then killed before the batch was recorded
    result = send_requests(cycle, rate=0)
    assert (result.sent, result.recovered) == (1, 0)
    assert list(mail_sink.by_recipient()) == ["bob@example.gov"]
    assert RequestMail.objects.get(assignment=alice).state == RequestMail.State.HANDED
    assert not journal.exists()


def test_a_claim_for_someone_paused_since_is_dropped(db, mail_sink):
    cycle = open_test_cycle({"alice": Mode.REQUIRED})
    alice = cycle.assignments.get()
    RequestMail.objects.create(
        assignment=alice,
        cycle=cycle,
        message_id="<x@lastweek.example.gov>",
        verify_code="ABCDE12345",
        to_address="alice@example.gov",
        claimed_at=timezone.now(),
    )
    Assignment.objects.filter(pk=alice.pk).update(mode=Mode.PAUSED)
    result = send_requests(cycle, rate=0)
    assert mail_sink.count() == 0
    assert (result.sent, result.skipped_not_asked) == (0, 1)
    assert not RequestMail.objects.exists()


def test_handed_and_sent_requests_are_never_sent_again(db, mail_sink):
    cycle = open_test_cycle({"alice": Mode.REQUIRED, "bob": Mode.REQUIRED})
    for name, state in [("alice", RequestMail.State.HANDED), ("bob", RequestMail.State.SENT)]:
        RequestMail.objects.create(
            assignment=cycle.assignments.get(employee__email=f"{name}@example.gov"),
            cycle=cycle,
            message_id=f"<{name}@lastweek.example.gov>",
            verify_code=f"{name.upper():0<10}",
            to_address=f"{name}@example.gov",
            claimed_at=timezone.now(),
            state=state,
        )
    assert send_requests(cycle, rate=0).already_sent == 2
    assert mail_sink.count() == 0


def test_a_stop_request_leaves_the_unsent_rest_claimed_for_the_next_run(db, mail_sink):
    cycle = open_test_cycle({f"person{n}": Mode.REQUIRED for n in range(20)})
    stop = threading.Event()
    mail_sink.on_message = lambda count: count == 3 and stop.set()
    first = send_requests(cycle, rate=0, connections=1, stop=stop)
    assert first.stopped
    assert 3 <= first.sent < 20
    assert RequestMail.objects.filter(state=RequestMail.State.CLAIMED).count() == 20 - first.sent
    mail_sink.on_message = None
    second = send_requests(cycle, rate=0)
    assert second.recovered == 20 - first.sent
    assert all(len(messages) == 1 for messages in mail_sink.by_recipient().values())
    assert mail_sink.count() == 20


def test_an_unreachable_mail_server_stops_the_run_and_keeps_the_claims(db, settings):
    from tests.mail_sink import free_port

    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    cycle = open_test_cycle({"alice": Mode.REQUIRED, "bob": Mode.REQUIRED})
    with pytest.raises(MailServerUnavailable, match=r"127\.0\.0\.1"):
        send_requests(cycle, rate=0, connections=1)
    assert set(RequestMail.objects.values_list("state", flat=True)) == {RequestMail.State.CLAIMED}


def test_a_second_sender_for_the_same_cycle_is_refused(db, mail_sink):
    cycle = open_test_cycle({"alice": Mode.REQUIRED})
    holding, release = threading.Event(), threading.Event()

    def other_sender():  # another thread: on PostgreSQL, another database session
        try:
            with sending_lock(cycle.pk):
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_sender)
    thread.start()
    try:
        assert holding.wait(10)
        with pytest.raises(SendingLocked):
            send_requests(cycle, rate=0)
    finally:
        release.set()
        thread.join()
    assert mail_sink.count() == 0
    assert send_requests(cycle, rate=0).sent == 1


def send_one(hand_over, *messages: tuple[str, bytes]) -> list[str]:
    """Send (to address, message) pairs through the pipelined sender; the outcomes."""
    sender = PipelinedSender([SmtpBackend()], TokenBucket(0), hand_over, lambda: False)
    outgoing = [
        Outgoing(key, address, "a@example.gov", smtp_data(message))
        for key, (address, message) in enumerate(messages, 1)
    ]
    with sender:
        return [report.outcome.value for report in sender.send(outgoing)]


def test_the_final_dot_goes_out_only_after_the_hand_over(mail_sink, settings):
    seen_by_server_at_hand_over = []
    message = b"From: a@example.gov\r\nTo: b@example.gov\r\nSubject: dots\r\n\r\n.leading dot\r\n..two\r\n"
    outcomes = send_one(
        lambda ids: seen_by_server_at_hand_over.append(mail_sink.count()), ("b@example.gov", message)
    )
    assert outcomes == ["sent"]
    assert seen_by_server_at_hand_over == [0]
    assert mail_sink.messages[0].data.endswith(b"\r\n.leading dot\r\n..two\r\n")


def test_a_failed_hand_over_abandons_the_message(mail_sink, settings):
    def hand_over(ids):
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        send_one(hand_over, ("b@example.gov", b"Subject: x\r\n\r\nbody\r\n"))
    assert send_one(lambda ids: None, ("c@example.gov", b"Subject: y\r\n\r\nbody\r\n")) == ["sent"]
    assert [message.rcpt_tos for message in mail_sink.messages] == [("c@example.gov",)]


@pytest.mark.parametrize(
    ("message", "payload"),
    [
        (b"a\r\nb\r\n", b"a\r\nb"),
        (b"a\nb\n", b"a\r\nb"),
        (b".a\r\n.\r\nb", b"..a\r\n..\r\nb"),
    ],
)
def test_the_data_payload_has_crlf_line_ends_and_doubled_leading_dots(message, payload):
    assert smtp_data(message) == payload


def test_the_fast_body_equals_the_ordinary_rendering(db):
    template = BodyTemplate("directives/request_email.txt", {"question": "Q?", "instructions": ""})
    for manager in ["Maria Manager", ""]:
        values = {
            "first_name": "Al",
            "agency": "VA",
            "manager": manager,
            "deadline": "soon",
            "verify_code": "X",
        }
        fast = template.render(values)
        assert fast == template._render_plainly(values)
        assert ("reporting to Maria Manager" in fast) == bool(manager)


def test_the_token_bucket_spaces_events_at_the_rate():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(11):
        bucket.take()
    assert now[0] == pytest.approx(1.0)
    slept.clear()
    now[0] += 60  # a long pause buys a burst of a tenth of a second's worth (one event here), no more
    for _ in range(3):
        bucket.take()
    assert slept == [pytest.approx(0.1), pytest.approx(0.1)]


def test_the_token_bucket_can_be_asked_without_waiting():
    now = [0.0]
    bucket = TokenBucket(10, clock=lambda: now[0], sleep=lambda seconds: pytest.fail("it waited"))
    assert bucket.try_take()
    assert not bucket.try_take()
    now[0] += 0.1
    assert bucket.try_take()
    assert TokenBucket(0).try_take()


def test_at_a_limited_rate_no_wait_stands_between_a_hand_over_and_its_final_dot(mail_sink):
    """A wait for the rate happens only while no recorded hand-over waits for its dot."""
    mail_sink.pipelining = True
    events = []

    class Bucket(TokenBucket):
        def take(self):
            events.append("wait")

        def try_take(self):
            events.append("try")
            return False

    sender = PipelinedSender([SmtpBackend()], Bucket(1), lambda keys: events.append("hand-over"), bool)
    messages = [
        Outgoing(n, f"p{n}@example.gov", "a@example.gov", smtp_data(b"Subject: x\r\n\r\nbody\r\n"))
        for n in range(1, 4)
    ]
    with sender:
        assert [report.outcome.value for report in sender.send(messages)] == ["sent"] * 3
    # A hand-over with more to send is followed by a try (never a wait) before its dot goes out.
    assert events == ["wait", "hand-over", "try"] * 2 + ["wait", "hand-over"]
    assert mail_sink.count() == 3


def test_the_command_sends_and_prints_a_summary(db, mail_sink):
    cycle = open_test_cycle(EVERY_MODE)
    output = StringIO()
    call_command("send_requests", str(cycle.pk), "--rate", "0", "--quiet", stdout=output)
    assert sorted(mail_sink.by_recipient()) == ["alice@example.gov", "bob@example.gov"]
    summary = output.getvalue()
    assert "Requests for week 2026-W48" in summary
    assert re.search(r"│\s+2 │\s+0 │\s+0 │\s+0 │\s+0 │\s+2 │", summary), summary


def test_the_command_names_a_missing_cycle(db):
    with pytest.raises(CommandError, match="There is no cycle 999999"):
        call_command("send_requests", "999999")


def test_the_command_refuses_a_closed_cycle(db, mail_sink):
    cycle = open_test_cycle({"alice": Mode.REQUIRED})
    Cycle.objects.filter(pk=cycle.pk).update(state=Cycle.State.CLOSED)
    with pytest.raises(CommandError, match="is closed"):
        call_command("send_requests", str(cycle.pk))
    assert mail_sink.count() == 0


def test_the_command_refuses_a_suspended_directive(db, mail_sink):
    cycle = open_test_cycle({"alice": Mode.REQUIRED})
    Directive.objects.filter(pk=cycle.directive_id).update(status=Directive.Status.SUSPENDED)
    with pytest.raises(CommandError, match="is suspended"):
        call_command("send_requests", str(cycle.pk))
    assert mail_sink.count() == 0
