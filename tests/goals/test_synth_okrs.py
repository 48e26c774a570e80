"""`lastweek synth okrs`: plausible, deterministic OKRs for every agency and its top-level units."""

import pytest
from django.core.management import call_command

from lastweek.goals.actions import support_error
from lastweek.goals.models import CheckIn, Objective
from lastweek.org.models import Agency, Unit
from lastweek.org.roster_import import import_roster
from lastweek.synth.okrs import add_check_ins, create_okrs, family_of, okr_records
from lastweek.synth.workforce import write_roster_csv

pytestmark = pytest.mark.django_db
PERIOD = "2026-Q4"


@pytest.fixture
def organization(tmp_path):
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, 400, seed=7)
    import_roster(roster)


def test_every_agency_and_top_level_unit_gets_objectives_aligned_to_the_agency(organization):
    create_okrs(seed=1, period=PERIOD)
    for agency in Agency.objects.all():
        assert Objective.objects.filter(agency=agency, unit=None, period=PERIOD).count() == 2
    for unit in Unit.objects.filter(parent=None):
        objectives = Objective.objects.filter(unit=unit, period=PERIOD)
        assert objectives.exists()
        for objective in objectives:
            (parent,) = objective.supports.all()
            assert parent.objective.unit is None and support_error(objective, parent) == ""


def test_the_same_seed_gives_the_same_okrs_and_another_seed_different_numbers(organization):
    assert okr_records(seed=1, period=PERIOD) == okr_records(seed=1, period=PERIOD)
    assert okr_records(seed=1, period=PERIOD) != okr_records(seed=2, period=PERIOD)


def test_running_again_updates_in_place(organization):
    first = create_okrs(seed=1, period=PERIOD)
    assert create_okrs(seed=1, period=PERIOD) == first
    assert Objective.objects.count() == first


def test_check_ins_are_added_once(organization):
    create_okrs(seed=1, period=PERIOD)
    made = add_check_ins(seed=1, weeks=3, period=PERIOD)
    assert made == 3 * CheckIn.objects.values("key_result").distinct().count() > 0
    assert add_check_ins(seed=1, weeks=3, period=PERIOD) == 0


def test_families_follow_the_mission():
    assert family_of("Department of Veterans Affairs") == "benefits"
    assert family_of("Occupational Safety and Health Administration") == "health"
    assert family_of("Office of the Chief Financial Officer") == "general"


def test_the_command_imports_or_writes_a_file(organization, tmp_path, capsys):
    out = tmp_path / "okrs.yaml"
    call_command("synth", "okrs", "--seed", "3", "--period", PERIOD, "--out", str(out))
    assert "objectives:" in out.read_text() and not Objective.objects.exists()
    call_command("synth", "okrs", "--seed", "3", "--period", PERIOD)
    assert "objectives" in capsys.readouterr().out and Objective.objects.exists()
