"""The pipelined sender, through send_requests against a real SMTP server on loopback: with and without
PIPELINING, over one connection and several, through refusals, dropped connections and stops."""

import threading

import pytest

from lastweek.directives.models import Mode, RequestMail
from lastweek.directives.outbound import send_requests
from tests.directives.test_outbound import open_test_cycle

PEOPLE = {f"person{n}": Mode.REQUIRED for n in range(30)}


def assert_each_got_exactly_one(mail_sink, people=PEOPLE) -> None:
    received = mail_sink.by_recipient()
    assert sorted(received) == sorted(f"{name}@example.gov" for name in people)
    assert all(len(messages) == 1 for messages in received.values())


@pytest.mark.parametrize("pipelining", [False, True], ids=["one command at a time", "pipelining"])
@pytest.mark.parametrize("connections", [1, 3])
def test_everyone_gets_one_message_over_any_number_of_connections(db, mail_sink, pipelining, connections):
    mail_sink.pipelining = pipelining
    cycle = open_test_cycle(PEOPLE)
    result = send_requests(cycle, rate=0, connections=connections, batch_size=7)
    assert result.sent == 30
    assert_each_got_exactly_one(mail_sink)
    assert set(RequestMail.objects.values_list("state", "attempts")) == {(RequestMail.State.SENT, 1)}


@pytest.mark.parametrize("pipelining", [False, True], ids=["one command at a time", "pipelining"])
def test_a_refused_recipient_between_accepted_ones_fails_alone(db, mail_sink, pipelining):
    mail_sink.pipelining = pipelining
    mail_sink.refuse = {"person3@example.gov", "person4@example.gov"}
    cycle = open_test_cycle(PEOPLE)
    result = send_requests(cycle, rate=0, connections=2)
    assert (result.sent, result.failed) == (28, 2)
    assert set(
        RequestMail.objects.filter(state=RequestMail.State.FAILED).values_list("to_address", flat=True)
    ) == {"person3@example.gov", "person4@example.gov"}


def test_a_message_refused_at_its_final_dot_is_failed_and_never_resent(db, mail_sink):
    mail_sink.pipelining = True
    mail_sink.refuse_data = {"person5@example.gov"}
    cycle = open_test_cycle(PEOPLE)
    result = send_requests(cycle, rate=0)
    assert (result.sent, result.failed) == (29, 1)
    refused = RequestMail.objects.get(to_address="person5@example.gov")
    assert (refused.state, refused.last_error) == (
        RequestMail.State.FAILED,
        "552 5.3.4 Message too big for this mailbox",
    )
    assert send_requests(cycle, rate=0).sent == 0


@pytest.mark.parametrize("pipelining", [False, True], ids=["one command at a time", "pipelining"])
def test_a_connection_dropped_before_the_hand_over_sends_that_message_again(db, mail_sink, pipelining):
    mail_sink.pipelining = pipelining
    mail_sink.hang_up_on = {"person7@example.gov", "person20@example.gov"}
    cycle = open_test_cycle(PEOPLE)
    result = send_requests(cycle, rate=0, connections=2)
    assert not mail_sink.hang_up_on, "the server should have hung up on both"
    assert (result.sent, result.unconfirmed) == (30, 0)
    assert_each_got_exactly_one(mail_sink)


def test_a_stop_leaves_no_message_handed_and_the_rest_claimed(db, mail_sink):
    mail_sink.pipelining = True
    cycle = open_test_cycle(PEOPLE)
    stop = threading.Event()
    mail_sink.on_message = lambda count: count == 4 and stop.set()
    first = send_requests(cycle, rate=0, connections=3, stop=stop)
    assert first.stopped
    states = list(RequestMail.objects.values_list("state", flat=True))
    assert RequestMail.State.HANDED not in states
    assert states.count(RequestMail.State.SENT) == first.sent == mail_sink.count()
    mail_sink.on_message = None
    second = send_requests(cycle, rate=0, connections=3)
    assert first.sent + second.sent == 30
    assert_each_got_exactly_one(mail_sink)
