"""A synthetic week of replies (`lastweek.synth.replies`: every client style, automatic replies, bounces,
late and unknown senders) imported end to end: each message ends as the generator says it should."""

import pytest

from lastweek.directives.models import Mode
from lastweek.intake.ingest import ingest
from lastweek.intake.models import InboundMessage
from lastweek.reports.models import Report
from lastweek.synth.assignment_replies import reply_requests
from lastweek.synth.replies import replies, write_maildir
from tests.intake.world import open_week

State = InboundMessage.State
PEOPLE = 240


@pytest.fixture
def week(db, tmp_path):
    cycle = open_week({f"person{n}": Mode.REQUIRED for n in range(PEOPLE)})
    messages = list(replies(reply_requests(cycle)))
    write_maildir(messages, tmp_path / "Maildir")
    result = ingest(tmp_path / "Maildir", jobs=1, chunk_size=50)
    return cycle, messages, result


def test_every_attributable_answer_becomes_a_report_of_its_assignment(week):
    _, messages, _ = week
    expected = {m.assignment_id for m in messages if m.kind == "answer" and m.attributable}
    assert set(Report.objects.values_list("assignment_id", flat=True)) == expected


def test_automatic_replies_and_bounces_mark_their_assignments_and_make_no_report(week):
    cycle, messages, _ = week
    marks = dict(cycle.assignments.values_list("pk", "auto_reply_at"))
    bounced = dict(cycle.assignments.values_list("pk", "bounced_at"))
    for message in messages:
        if message.kind == "auto_reply":
            assert marks[message.assignment_id] is not None
        if message.kind == "bounce":
            assert bounced[message.assignment_id] is not None
    assert sum(m.kind != "answer" for m in messages) > 0


def test_late_answers_are_recorded_late(week):
    _, messages, _ = week
    late = {m.assignment_id for m in messages if m.kind == "answer" and m.attributable and m.late}
    on_time = dict(Report.objects.values_list("assignment_id", "on_time"))
    assert late and all(on_time[assignment_id] is False for assignment_id in late)


def test_replies_nothing_names_are_quarantined_and_everything_is_stored_once(week):
    _, messages, result = week
    unattributable = sum(not m.attributable for m in messages)
    assert InboundMessage.objects.count() == len(messages) == result.seen
    assert InboundMessage.objects.filter(state=State.QUARANTINED).count() == unattributable
    assert result.tally.counts["processed"] == len(messages)
