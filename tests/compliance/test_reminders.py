"""Reminders, digests and escalation, sent to a real SMTP server on loopback (aiosmtpd)."""

import datetime as dt

import pytest

from lastweek.compliance.models import EscalationPolicy, Notice
from lastweek.compliance.reminders import send_digests, send_escalations, send_reminders
from lastweek.org.models import Employee
from tests.compliance.conftest import answer

pytestmark = pytest.mark.django_db


def recipients(mail_sink) -> set[str]:
    return set(mail_sink.by_recipient())


def local_part(address: str) -> str:
    return address.split("@")[0]


@pytest.fixture
def reminder_time(cycle):
    return cycle.deadline - dt.timedelta(hours=6)


@pytest.fixture
def week_so_far(cycle, people):
    answer(cycle, people["director"])
    answer(cycle, people["spokesperson"])
    return cycle


def test_reminders_reach_only_required_people_who_have_not_answered(mail_sink, week_so_far, reminder_time):
    send_reminders(week_so_far, now=reminder_time, hours=24)
    assert {local_part(a) for a in recipients(mail_sink)} == {
        "analyst", "chief", "processor", "clerk", "courier", "typist"
    }  # fmt: skip


@pytest.mark.parametrize("person", ["nurse", "trainee", "writer", "spokesperson", "planner"])
def test_no_reminder_reaches_paused_exempt_voluntary_or_on_leave_people(
    mail_sink, week_so_far, reminder_time, person
):
    send_reminders(week_so_far, now=reminder_time, hours=24)
    assert f"{person}@va.example.gov" not in recipients(mail_sink)


def test_no_reminder_reaches_someone_whose_request_bounced(mail_sink, week_so_far, reminder_time, people):
    week_so_far.assignments.filter(employee=people["typist"]).update(bounced_at=week_so_far.opens_at)
    send_reminders(week_so_far, now=reminder_time, hours=24)
    assert "typist@va.example.gov" not in recipients(mail_sink)


def test_no_reminder_is_sent_before_the_reminder_window(mail_sink, week_so_far):
    result = send_reminders(week_so_far, now=week_so_far.deadline - dt.timedelta(hours=30), hours=24)
    assert (result.sent, mail_sink.count()) == (0, 0)


def test_a_rerun_sends_no_reminder_twice(mail_sink, week_so_far, reminder_time):
    first = send_reminders(week_so_far, now=reminder_time, hours=24)
    again = send_reminders(week_so_far, now=reminder_time, hours=24)
    assert (first.sent, again.sent, mail_sink.count()) == (6, 0, 6)


def test_a_claim_left_by_an_interrupted_run_is_sent_by_the_next(mail_sink, week_so_far, reminder_time):
    send_reminders(week_so_far, now=reminder_time, hours=24)
    Notice.objects.filter(pk=Notice.objects.order_by("pk").first().pk).update(state=Notice.State.CLAIMED)
    again = send_reminders(week_so_far, now=reminder_time, hours=24)
    assert (again.sent, again.already) == (1, 5)


def test_a_handed_over_reminder_is_never_sent_again(mail_sink, week_so_far, reminder_time):
    send_reminders(week_so_far, now=reminder_time, hours=24)
    Notice.objects.update(state=Notice.State.HANDED)
    assert send_reminders(week_so_far, now=reminder_time, hours=24).sent == 0


def test_a_reminder_answers_to_the_reply_address_of_the_assignment(mail_sink, week_so_far, reminder_time):
    send_reminders(week_so_far, now=reminder_time, hours=24)
    message = mail_sink.by_recipient()["chief@va.example.gov"][0].parsed()
    assert message["Reply-To"].startswith("reply+")
    assert "2026-W48" in message["Subject"]


def test_each_manager_gets_one_digest_with_exactly_their_direct_reports(mail_sink, answered, after_deadline):
    send_digests(answered, now=after_deadline)
    by_recipient = mail_sink.by_recipient()
    assert set(by_recipient) == {"director@va.example.gov", "chief@va.example.gov"}
    chief_digest = by_recipient["chief@va.example.gov"][0].parsed().get_content()
    for report in ("Processor", "Clerk", "Trainee", "Courier", "Typist"):
        assert report in chief_digest
    for other in ("Analyst", "Planner", "Director", "Nurse"):
        assert other not in chief_digest


def test_a_digest_shows_each_direct_reports_status(mail_sink, answered, after_deadline):
    send_digests(answered, now=after_deadline)
    digest = mail_sink.by_recipient()["director@va.example.gov"][0].parsed().get_content()
    assert "Chief" in digest and "Missing" in digest and "On leave" in digest


def test_no_digest_goes_out_before_the_deadline(mail_sink, answered):
    assert send_digests(answered, now=answered.deadline - dt.timedelta(minutes=1)).sent == 0


def test_a_rerun_sends_no_digest_twice(mail_sink, answered, after_deadline):
    send_digests(answered, now=after_deadline)
    assert send_digests(answered, now=after_deadline).sent == 0
    assert mail_sink.count() == 2


def test_escalation_is_off_by_default(mail_sink, answered):
    assert send_escalations(answered, now=answered.deadline + dt.timedelta(days=3)).sent == 0
    assert mail_sink.count() == 0


@pytest.fixture
def escalating(agency):
    return EscalationPolicy.objects.create(agency=agency, enabled=True, grace_hours=24, max_levels=3)


def escalated(mail_sink) -> set[tuple[str, str]]:
    """(recipient, the person the message is about) for each escalation received."""
    found = set()
    for message in mail_sink.messages:
        subject = message.parsed()["Subject"]
        found.add((local_part(message.rcpt_tos[0]), subject.split("from ")[1].split(" for")[0]))
    return found


def test_one_grace_period_after_the_deadline_a_missing_answer_goes_to_the_direct_manager(
    mail_sink, answered, escalating, people
):
    send_escalations(answered, now=answered.deadline + dt.timedelta(hours=25))
    about = {who.split()[0] for _, who in escalated(mail_sink)}
    assert {to for to, _ in escalated(mail_sink)} == {"chief", "director"}
    assert about == {"Chief", "Courier", "Typist"}  # missing, auto-reply only, bounced


def test_each_further_grace_period_goes_one_level_up_the_line(mail_sink, answered, escalating):
    send_escalations(answered, now=answered.deadline + dt.timedelta(hours=25))
    first = mail_sink.count()
    send_escalations(answered, now=answered.deadline + dt.timedelta(hours=49))
    later = escalated(mail_sink)
    assert (first, mail_sink.count()) == (3, 5)
    assert {to for to, who in later if who.startswith(("Courier", "Typist"))} == {"chief", "director"}


def test_escalation_stops_at_the_top_of_the_reporting_line(mail_sink, answered, escalating):
    # Three levels allowed, but the chief's line has only the director above them.
    send_escalations(answered, now=answered.deadline + dt.timedelta(days=10))
    about_chief = [to for to, who in escalated(mail_sink) if who.startswith("Chief")]
    assert about_chief == ["director"]


def test_escalation_skips_a_manager_who_has_left(mail_sink, answered, escalating, people):
    Employee.objects.filter(pk=people["chief"].pk).update(status=Employee.Status.SEPARATED)
    send_escalations(answered, now=answered.deadline + dt.timedelta(hours=25))
    assert "chief" not in {to for to, _ in escalated(mail_sink)}


def test_an_agency_that_turned_escalation_off_gets_none(mail_sink, answered, escalating):
    EscalationPolicy.objects.filter(pk=escalating.pk).update(enabled=False)
    assert send_escalations(answered, now=answered.deadline + dt.timedelta(days=3)).sent == 0
