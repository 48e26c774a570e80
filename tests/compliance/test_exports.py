"""Exports: CSV and Parquet of statuses and reports, scoped, with formula injection neutralised."""

import csv
import io

import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from lastweek.audit.models import AuditEvent
from lastweek.compliance.exports import Exporter, ExportError, ExportScope, neutralise, write_csv
from tests.compliance.conftest import answer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "payload",
    ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"],
)
def test_a_cell_a_spreadsheet_would_evaluate_gets_an_apostrophe(payload):
    assert neutralise(payload) == "'" + payload


def test_an_ordinary_cell_is_left_alone():
    assert neutralise("Closed 40 claims") == "Closed 40 claims"


def export_csv(cycle, scope="agency:VA", user=None) -> list[dict]:
    out = io.StringIO()
    write_csv(Exporter([cycle], ExportScope.parse(scope), user), out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_a_formula_in_a_bullet_is_neutralised_in_the_csv(answered, va_admin):
    processor = next(row for row in export_csv(answered, user=va_admin) if row["first_name"] == "Processor")
    assert processor["bullets"].splitlines()[0] == "'=cmd|' /C calc'!A0"


def test_a_formula_in_a_name_is_neutralised_in_the_csv(answered, va_admin, people):
    people["writer"].last_name = "@SUM(1+1)"
    people["writer"].save()
    writer = next(row for row in export_csv(answered, user=va_admin) if row["first_name"] == "Writer")
    assert writer["last_name"] == "'@SUM(1+1)"


def test_the_export_has_one_row_per_assignment_with_its_status(answered):
    rows = export_csv(answered)
    assert len(rows) == 12
    assert {row["first_name"]: row["status"] for row in rows}["Clerk"] == "late"


def test_the_operator_without_a_user_gets_statuses_and_no_report_text(answered):
    rows = export_csv(answered)
    assert {row["text_included"] for row in rows} == {"no"}
    assert all(row["bullets"] == "" for row in rows)


def test_a_unit_scope_exports_the_unit_and_everything_below_it(answered, compensation):
    names = {row["first_name"] for row in export_csv(answered, scope=f"unit:{compensation.pk}")}
    assert names == {"Chief", "Processor", "Clerk", "Trainee", "Courier", "Typist"}


def test_a_manager_exports_only_their_reporting_line(answered):
    from django.contrib.auth import get_user_model

    chief = get_user_model().objects.get(username="chief")
    names = {row["first_name"] for row in export_csv(answered, user=chief)}
    assert names == {"Chief", "Processor", "Clerk", "Trainee", "Courier", "Typist"}


def test_exporting_other_peoples_text_is_audited(answered, va_admin):
    export_csv(answered, user=va_admin)
    event = AuditEvent.objects.get(action="report.export")
    assert (event.actor_name, event.scope, event.detail["reports_read"]) == ("va-admin", "agency:VA", 5)


def test_an_employee_exporting_their_own_answers_is_not_audited(answered):
    from django.contrib.auth import get_user_model

    processor = get_user_model().objects.get(username="processor")
    rows = export_csv(
        answered,
        scope="employee:" + answered.assignments.get(employee__user=processor).employee.employee_number,
        user=processor,
    )
    assert [row["text_included"] for row in rows] == ["yes"]
    assert not AuditEvent.objects.filter(action="report.export").exists()


def test_an_unknown_scope_is_refused_with_the_forms_that_work():
    with pytest.raises(ExportError, match="agency:CODE"):
        ExportScope.parse("division:7")


def test_the_command_writes_parquet_with_report_text_for_a_user_who_may_read_it(answered, va_admin, tmp_path):
    out = tmp_path / "va.parquet"
    call_command(
        "export",
        str(answered.pk),
        "--format",
        "parquet",
        "--scope",
        "agency:VA",
        "--out",
        str(out),
        "--as",
        "va-admin",
    )
    table = pq.read_table(out).to_pylist()
    processor = next(row for row in table if row["first_name"] == "Processor")
    assert processor["bullets"] == ["=cmd|' /C calc'!A0", "Decided 12 appeals"]
    assert len(table) == 12


def test_the_command_exports_a_range_of_weeks(answered, tmp_path, people):
    out = tmp_path / "range.csv"
    call_command(
        "export", "--from", "2026-11-01", "--to", "2026-12-31", "--scope", "agency:VA", "--out", str(out)
    )
    assert len(list(csv.DictReader(out.open()))) == 12


def test_the_command_names_an_unknown_agency(answered, tmp_path):
    with pytest.raises(CommandError, match="No agency 'XX'"):
        call_command("export", str(answered.pk), "--scope", "agency:XX", "--out", str(tmp_path / "x.csv"))


def test_the_command_refuses_an_unknown_user(answered, tmp_path):
    with pytest.raises(CommandError, match="No active user"):
        call_command("export", str(answered.pk), "--out", str(tmp_path / "x.csv"), "--as", "nobody")


def test_an_export_of_a_later_answer_shows_the_current_one(cycle, people, va_admin):
    answer(cycle, people["chief"], bullets=["First try"])
    answer(cycle, people["chief"], bullets=["Second try"])
    chief = next(row for row in export_csv(cycle, user=va_admin) if row["first_name"] == "Chief")
    assert chief["bullets"] == "Second try"
