"""`lastweek synth replies CYCLE_ID --out DIR` answers a cycle's asked assignments into a Maildir."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lastweek.directives.models import Assignment, Cycle, Mode, RequestMail, Source
from lastweek.intake.parse import parse_message
from lastweek.mail import assignment_id_from_token
from tests.factories import AgencyFactory, DirectiveFactory, EmployeeFactory, UnitFactory

DEADLINE = dt.datetime(2026, 12, 1, 4, 59, tzinfo=dt.UTC)


@pytest.fixture
def cycle(db) -> Cycle:
    """Week 2026-W48 of the VA: alice (required, her request was sent), bob (voluntary, no request
    mail yet), carol (paused) and dave (exempt), all reporting to Maria Manager."""
    agency = AgencyFactory(name="Department of Veterans Affairs")
    unit = UnitFactory(agency=agency, name="Benefits")
    manager = EmployeeFactory(unit=unit, first_name="Maria", last_name="Manager")
    cycle = Cycle.objects.create(
        directive=DirectiveFactory(),
        week="2026-W48",
        week_start=dt.date(2026, 11, 23),
        opens_at=DEADLINE - dt.timedelta(days=4),
        deadline=DEADLINE,
        closes_at=DEADLINE + dt.timedelta(days=4),
        opened_by="test",
    )
    modes = {"alice": Mode.REQUIRED, "bob": Mode.VOLUNTARY, "carol": Mode.PAUSED, "dave": Mode.EXEMPT}
    for name, mode in modes.items():
        employee = EmployeeFactory(
            unit=unit, manager=manager, first_name=name.title(), email=f"{name}@va.gov"
        )
        assignment = Assignment.objects.create(
            cycle=cycle,
            employee=employee,
            agency_id=agency.pk,
            unit_id=unit.pk,
            manager_id=manager.pk,
            mode=mode,
            source=Source.DIRECTIVE,
            due_at=DEADLINE,
        )
        if name == "alice":
            RequestMail.objects.create(
                assignment=assignment,
                cycle=cycle,
                message_id="<2026-W48.1.cafe@lastweek.example.gov>",
                verify_code="ABCDE12345",
                to_address="alice@va.gov",
                claimed_at=DEADLINE - dt.timedelta(days=4),
            )
    return cycle


def run(*args: str) -> str:
    out = StringIO()
    call_command("synth", "replies", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def parsed_replies(box) -> dict[str, object]:
    """Each reply parsed, by the first name of the assignee its Maildir file name says it is for."""
    by_name = {}
    for path in (box / "new").iterdir():
        assignment_id = int(path.name.split(".")[1].removeprefix("A"))
        by_name[Assignment.objects.get(pk=assignment_id).employee.first_name] = parse_message(
            path.read_bytes()
        )
    return by_name


def test_replies_carry_the_assignments_reply_address(cycle, tmp_path):
    run(str(cycle.pk), "--out", str(tmp_path / "box"), "--seed", "11")

    for name, parsed in parsed_replies(tmp_path / "box").items():
        if parsed.to_addresses != ("lastweek@lastweek.example.gov",):  # a rare unknown sender
            token = parsed.to_addresses[0].split("+", 1)[1].split("@")[0]
            assert Assignment.objects.get(pk=assignment_id_from_token(token)).employee.first_name == name


def test_only_required_and_voluntary_assignments_get_a_reply(cycle, tmp_path):
    output = run(str(cycle.pk), "--out", str(tmp_path / "box"), "--seed", "11")

    assert sorted(parsed_replies(tmp_path / "box")) == ["Alice", "Bob"]
    assert "Wrote 2 replies" in output


def test_replies_answer_the_request_mail_that_was_sent(cycle, tmp_path):
    run(str(cycle.pk), "--out", str(tmp_path / "box"))

    alice = parsed_replies(tmp_path / "box")["Alice"]
    referenced = alice.in_reply_to + alice.bounced_message_ids
    # Only the rare unknown sender writing to the general address references nothing.
    unaddressed = alice.to_addresses == ("lastweek@lastweek.example.gov",)
    assert unaddressed or referenced[0] == "2026-W48.1.cafe@lastweek.example.gov"


def test_without_request_mail_the_message_id_is_deterministic(cycle, tmp_path):
    run(str(cycle.pk), "--out", str(tmp_path / "a"))
    run(str(cycle.pk), "--out", str(tmp_path / "b"))

    first = {path.name: path.read_bytes() for path in (tmp_path / "a" / "new").iterdir()}
    second = {path.name: path.read_bytes() for path in (tmp_path / "b" / "new").iterdir()}
    assert first == second
    assert b".synth@lastweek.example.gov>" in b"".join(first.values())


def test_limit_caps_the_number_of_replies(cycle, tmp_path):
    output = run(str(cycle.pk), "--out", str(tmp_path / "box"), "--limit", "1")

    assert len(list((tmp_path / "box" / "new").iterdir())) == 1
    assert "Wrote 1 reply " in output


def test_an_unknown_cycle_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="No cycle 999"):
        run("999", "--out", str(tmp_path / "box"))
