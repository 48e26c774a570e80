"""Applying a roster: upsert by employee number, never delete, change nothing when nothing changed."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from lastweek.audit.models import AuditEvent
from lastweek.org import csv_blocks, roster_import
from lastweek.org.models import Agency, Employee, Unit
from lastweek.org.roster import RosterInvalid
from lastweek.org.roster_export import export_roster
from lastweek.org.roster_import import import_roster
from tests.roster_files import person, small_agency, write_roster

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True, params=["one block", "tiny blocks"])
def block_size(request, monkeypatch):
    """Imports read in many blocks must line every row up with its own id and manager."""
    if request.param == "tiny blocks":
        monkeypatch.setattr(csv_blocks, "BLOCK_BYTES", 300)


def snapshot() -> list[tuple]:
    return list(Employee.objects.order_by("employee_number").values_list())


def test_first_import_creates_agency_units_and_people(tmp_path):
    result = import_roster(write_roster(tmp_path / "r.csv", small_agency()))
    assert (result.created, result.updated, result.separated) == (7, 0, 0)
    assert (result.agencies_created, result.units_created) == (1, 6)
    boston = Unit.objects.get(name="Boston")
    assert [unit.name for unit in boston.ancestors()] == ["Veterans Health Administration", "VISN 1"]
    assert boston.depth == 2
    five = Employee.objects.get(employee_number="5")
    assert five.manager.employee_number == "4"
    assert five.unit == boston
    assert five.agency.code == "VA"
    assert Employee.objects.get(employee_number="6").status == Employee.Status.ON_LEAVE


def test_a_second_identical_import_changes_nothing(tmp_path):
    path = write_roster(tmp_path / "r.csv", small_agency())
    import_roster(path)
    before = snapshot()
    result = import_roster(path)
    assert (result.created, result.updated, result.unchanged, result.separated) == (0, 0, 7, 0)
    assert (result.agencies_created, result.units_created) == (0, 0)
    assert snapshot() == before  # updated_at included: no row was rewritten


def test_a_changed_row_is_updated_in_place(tmp_path):
    import_roster(write_roster(tmp_path / "r.csv", small_agency()))
    original_id = Employee.objects.get(employee_number="5").pk
    rows = small_agency()
    rows[4] = person("5", "2", unit_path="Veterans Health Administration", title="Nurse", last_name="Moved")
    result = import_roster(write_roster(tmp_path / "r2.csv", rows))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 6)
    five = Employee.objects.get(employee_number="5")
    assert (five.pk, five.last_name, five.title, five.manager.employee_number) == (
        original_id,
        "Moved",
        "Nurse",
        "2",
    )


def test_people_missing_from_the_file_are_separated_not_deleted(tmp_path):
    import_roster(write_roster(tmp_path / "r.csv", small_agency()))
    result = import_roster(write_roster(tmp_path / "r2.csv", small_agency()[:5]))
    assert result.separated == 2
    assert Employee.objects.count() == 7
    assert set(Employee.objects.filter(status="separated").values_list("employee_number", flat=True)) == {
        "6",
        "7",
    }


def test_only_listed_agencies_leaves_other_agencies_alone(tmp_path):
    dhs = [
        person("90", agency_code="DHS", agency_name="Homeland Security", email="p90@dhs.gov", unit_path="CBP")
    ]
    import_roster(write_roster(tmp_path / "all.csv", small_agency() + dhs))
    result = import_roster(write_roster(tmp_path / "va.csv", small_agency()[:6]), only_listed_agencies=True)
    assert result.separated == 1
    assert Employee.objects.get(employee_number="90").status == "active"
    assert Employee.objects.get(employee_number="7").status == "separated"


def test_a_bad_file_writes_nothing(tmp_path):
    import_roster(write_roster(tmp_path / "r.csv", small_agency()))
    before = snapshot()
    rows = small_agency() + [person("8", "99", agency_code="NEW", agency_name="New", unit_path="New Unit")]
    with pytest.raises(RosterInvalid):
        import_roster(write_roster(tmp_path / "bad.csv", rows))
    assert snapshot() == before
    assert not Agency.objects.filter(code="NEW").exists()


def test_an_email_kept_by_a_separated_employee_cannot_be_reused(tmp_path):
    import_roster(write_roster(tmp_path / "r.csv", small_agency()))
    rows = small_agency()[:6] + [person("8", "1", email="person7@va.gov")]
    with pytest.raises(RosterInvalid) as raised:
        import_roster(write_roster(tmp_path / "r2.csv", rows))
    assert [str(e) for e in raised.value.errors] == [
        "line 8: email 'person7@va.gov' already belongs to employee 7; change or free that employee's email "
        "in an earlier import"
    ]


def test_a_new_person_gets_an_id_that_the_database_can_keep_issuing_after(tmp_path):
    import_roster(write_roster(tmp_path / "r.csv", small_agency()))
    import_roster(write_roster(tmp_path / "r2.csv", small_agency() + [person("8", "1")]))
    later = Employee.objects.create(
        employee_number="9",
        first_name="A",
        last_name="B",
        email="ab@va.gov",
        agency=Agency.objects.get(),
        unit=Unit.objects.first(),
    )
    assert later.pk > Employee.objects.get(employee_number="8").pk


def test_the_import_is_audited(tmp_path):
    import_roster(write_roster(tmp_path / "r.csv", small_agency()))
    event = AuditEvent.objects.get(action="roster.import")
    assert event.actor_name == "system"
    assert event.detail["created"] == 7
    assert len(event.detail["sha256"]) == 64


def test_export_then_import_changes_nothing(tmp_path):
    import_roster(write_roster(tmp_path / "r.csv", small_agency()))
    import_roster(write_roster(tmp_path / "r2.csv", small_agency()[:6]))  # someone separated
    before = snapshot()
    out = tmp_path / "export.csv"
    with out.open("w", newline="") as handle:
        assert export_roster(handle) == 7
    result = import_roster(out)
    assert (result.created, result.updated, result.separated) == (0, 0, 0)
    assert snapshot() == before


def test_the_command_reports_each_bad_row_and_fails(tmp_path):
    rows = [person("1"), person("2", "9"), person("3", "1", time_zone="Nowhere")]
    path = write_roster(tmp_path / "bad.csv", rows)
    stderr = StringIO()
    with pytest.raises(CommandError, match="2 bad row"):
        call_command("import_roster", str(path), "--quiet", stderr=stderr)
    assert f"{path}: line 3: unknown manager '9'" in stderr.getvalue()
    assert f"{path}: line 4: unknown time zone 'Nowhere'" in stderr.getvalue()


def test_the_console_script_exits_non_zero_on_bad_rows(tmp_path):
    path = write_roster(tmp_path / "bad.csv", [person("1"), person("2", "9")])
    env_data = {"LASTWEEK_DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    subprocess.run(
        [sys.executable, "-m", "lastweek", "migrate", "-v0"], check=True, env={**os.environ, **env_data}
    )
    run = subprocess.run(
        [sys.executable, "-m", "lastweek", "import-roster", str(path), "--quiet"],
        capture_output=True,
        text=True,
        env={**os.environ, **env_data},
    )
    assert run.returncode != 0
    assert "line 3: unknown manager '9'" in run.stderr


def _structures() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'org_employee'::regclass"
            " UNION SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'org_employee'"
        )
        return set(cursor.fetchall())


@pytest.mark.postgres
def test_a_bulk_load_rebuilds_every_index_and_constraint(tmp_path, monkeypatch):
    before = _structures()
    monkeypatch.setattr(roster_import, "BULK_INDEXING_FROM", 1)
    result = import_roster(write_roster(tmp_path / "r.csv", small_agency()))
    assert result.created == 7
    assert _structures() == before
    assert Employee.objects.get(employee_number="5").manager.employee_number == "4"


def test_many_top_level_units_before_the_first_child(tmp_path):
    rows = [person("1", unit_path="Office 0")]
    rows += [person(str(n), "1", unit_path=f"Office {n}") for n in range(2, 150)]
    rows += [person("150", "1", unit_path="Office 2 > Team")]
    result = import_roster(write_roster(tmp_path / "r.csv", rows))
    assert result.units_created == 150
    assert Unit.objects.get(name="Team").parent.name == "Office 2"


def test_a_row_matched_to_someone_with_another_number_is_refused(tmp_path):
    """The guard behind matching on hashes: a staged row must carry its matched employee's number."""
    import_roster(write_roster(tmp_path / "r.csv", small_agency()))
    one = Employee.objects.get(employee_number="1")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE roster_stage ({roster_import.STAGE_DDL})")
        cursor.execute("INSERT INTO roster_stage (id, employee_number) VALUES (%s, %s)", [one.pk, "999"])
        with pytest.raises(RuntimeError, match="employee numbers 999 and 1 share a hash"):
            roster_import._refuse_hash_collisions()
        cursor.execute("DROP TABLE roster_stage")
