"""The SMTP dialogue of `lastweek smtpd`, with a real smtplib client on loopback: recipients outside the
mail domain get 550 5.1.1, messages over the limit 552, and a 250 only once the message is stored."""

import smtplib
import threading
import time

import pytest

from lastweek.intake import smtp
from lastweek.intake.models import InboundMessage
from lastweek.reports.models import Report
from tests.intake.smtp_server import running_server
from tests.intake.world import answer_by_token, assignment, open_week, reply

pytestmark = pytest.mark.django_db(transaction=True)
OUR_ADDRESS = "lastweek@lastweek.example.gov"


def client(server) -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", server.port, timeout=30)


def a_message(number: int = 1) -> bytes:
    return reply("alice@example.gov", OUR_ADDRESS, "- Closed claims\n", message_id=f"m{number}@x")


def test_a_recipient_outside_the_mail_domain_is_refused_with_550_5_1_1():
    with (
        running_server(process=False) as server,
        client(server) as connection,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        connection.sendmail("alice@example.gov", ["someone@elsewhere.example"], a_message())
    code, text = refused.value.recipients["someone@elsewhere.example"]
    assert code == 550 and text.startswith(b"5.1.1")
    assert not InboundMessage.objects.exists()


def test_a_message_over_the_size_limit_is_refused_with_552():
    with running_server(process=False, max_size=2_000) as server, client(server) as connection:
        big = a_message() + b"more text on a line\r\n" * 300
        connection.ehlo()
        connection.mail("alice@example.gov")  # no SIZE parameter: the limit bites at DATA
        connection.rcpt(OUR_ADDRESS)
        code, _ = connection.data(big)
    assert code == 552
    assert not InboundMessage.objects.exists()


def test_a_message_announced_too_big_is_refused_at_mail_from_with_552():
    with (
        running_server(process=False, max_size=2_000) as server,
        client(server) as connection,
        pytest.raises(smtplib.SMTPSenderRefused) as refused,
    ):
        connection.sendmail("alice@example.gov", [OUR_ADDRESS], a_message() + b"more\r\n" * 1_000)
    assert refused.value.smtp_code == 552


def test_the_250_comes_only_after_the_message_is_stored(monkeypatch):
    stored_when_answered = []
    original = smtp.store_raw_many

    def slow_store(messages):
        time.sleep(0.3)  # a slow disk: the client must wait for the commit
        original(messages)

    monkeypatch.setattr(smtp, "store_raw_many", slow_store)
    with running_server(process=False) as server, client(server) as connection:
        started = time.monotonic()
        refused = connection.sendmail("alice@example.gov", [OUR_ADDRESS], a_message())
        waited = time.monotonic() - started
        stored_when_answered.append(InboundMessage.objects.filter(message_id="m1@x").exists())
    assert refused == {} and waited >= 0.3
    assert stored_when_answered == [True]
    row = InboundMessage.objects.get()
    assert bytes(row.raw) == a_message()
    assert (row.envelope_from, row.recipients, row.state) == ("alice@example.gov", [OUR_ADDRESS], "received")


def test_a_message_that_cannot_be_stored_gets_451_and_the_client_keeps_it(monkeypatch):
    def broken_store(messages):
        raise OSError("disk full")

    monkeypatch.setattr(smtp, "store_raw_many", broken_store)
    with (
        running_server(process=False) as server,
        client(server) as connection,
        pytest.raises(smtplib.SMTPDataError) as error,
    ):
        connection.sendmail("alice@example.gov", [OUR_ADDRESS], a_message())
    assert error.value.smtp_code == 451
    assert not InboundMessage.objects.exists()


def test_many_concurrent_sessions_are_all_stored_with_group_commits():
    senders, each = 20, 10
    answers: list[dict] = []
    with running_server(process=False) as server:

        def send(sender: int) -> None:
            with client(server) as connection:
                for n in range(each):
                    answers.append(
                        connection.sendmail("a@example.gov", [OUR_ADDRESS], a_message(sender * 100 + n))
                    )

        threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        groups = server.writer.groups
    assert answers == [{}] * (senders * each)
    assert InboundMessage.objects.count() == senders * each
    assert groups < senders * each, "concurrent messages should share commits"


def test_an_accepted_reply_is_processed_into_a_report_by_the_server():
    cycle = open_week()
    with running_server(process=True) as server, client(server) as connection:
        connection.sendmail("alice@example.gov", [OUR_ADDRESS], answer_by_token(cycle, "alice", "via-smtp@x"))
        deadline = time.monotonic() + 20
        while not Report.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    report = Report.objects.get()
    assert report.assignment == assignment(cycle, "alice")
    assert InboundMessage.objects.get().state == InboundMessage.State.ATTRIBUTED


def test_a_bounce_with_an_empty_envelope_sender_is_accepted():
    with running_server(process=False) as server, client(server) as connection:
        assert connection.sendmail("<>", [OUR_ADDRESS], a_message()) == {}
    assert InboundMessage.objects.get().envelope_from == ""


def test_a_store_falling_behind_answers_new_senders_451_4_7_0_until_it_catches_up(monkeypatch, settings):
    settings.SMTPD_MAX_PENDING = 1
    release = threading.Event()
    original = smtp.store_raw_many

    def stuck_store(messages):
        release.wait(10)  # the database is slow: the first message waits for its commit
        original(messages)

    monkeypatch.setattr(smtp, "store_raw_many", stuck_store)
    with running_server(process=False) as server:
        first = threading.Thread(
            target=lambda: client(server).sendmail("alice@example.gov", [OUR_ADDRESS], a_message(1))
        )
        first.start()
        deadline = time.monotonic() + 10
        while server.writer.waiting == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        with client(server) as connection:
            connection.ehlo()
            code, text = connection.mail("bob@example.gov")
        release.set()
        first.join(10)
        with client(server) as connection:
            assert connection.sendmail("bob@example.gov", [OUR_ADDRESS], a_message(2)) == {}
    assert (code, text[:5]) == (451, b"4.7.0")
    assert InboundMessage.objects.count() == 2


def test_a_client_over_its_rate_gets_451_4_7_0_and_others_are_not_held_up(settings):
    settings.SMTPD_CLIENT_RATE = 3
    with running_server(process=False) as server, client(server) as connection:
        for number in range(3):
            connection.sendmail("alice@example.gov", [OUR_ADDRESS], a_message(number))
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            connection.sendmail("alice@example.gov", [OUR_ADDRESS], a_message(9))
    assert (refused.value.smtp_code, refused.value.smtp_error[:5]) == (451, b"4.7.0")
    assert InboundMessage.objects.count() == 3


def test_the_client_rate_counts_the_last_minute_per_address():
    now = [0.0]
    rate = smtp.ClientRate(2, clock=lambda: now[0])
    assert [rate.allow("192.0.2.1") for _ in range(3)] == [True, True, False]
    assert rate.allow("198.51.100.7")
    now[0] = 90.0  # half of the previous minute still counts: 2 times 0.5 = 1 of 2
    assert [rate.allow("192.0.2.1") for _ in range(2)] == [True, False]
    now[0] = 200.0  # two minutes on: nothing counts any more
    assert rate.allow("192.0.2.1")
