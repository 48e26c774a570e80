"""Importing and exporting OKR files: line-level errors, nothing written on any error, round trips."""

import io
from textwrap import dedent

import pytest
from django.core.management import CommandError, call_command

from lastweek.goals.models import Objective
from lastweek.goals.okr_files import (
    CSV_COLUMNS,
    OkrFileInvalid,
    export_records,
    import_okrs,
    write_csv,
    write_yaml,
)

pytestmark = pytest.mark.django_db

GOOD_YAML = dedent(
    """\
    objectives:
      - agency: VA
        period: 2026-Q4
        code: VA-1
        title: Veterans get decisions faster
        owner_role: Secretary
        key_results:
          - title: Backlog down to 100,000 claims
            metric: number
            start: 200000
            target: 100000
            current: 180000
            unit_of_measure: claims
      - agency: VA
        unit: Veterans Benefits Administration > Compensation Service
        period: 2026-Q4
        code: CS-1
        title: Automate evidence gathering
        supports: [VA-1.1]
        key_results:
          - title: Pilots finished
            metric: milestone
            target: 4
          - title: Tool live
            metric: yes_no
    """
)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def errors_of(path) -> list[str]:
    with pytest.raises(OkrFileInvalid) as invalid:
        import_okrs(path)
    return [str(error) for error in invalid.value.errors]


def test_a_good_yaml_file_creates_objectives_aligned_up_the_tree(tmp_path, compensation):
    result = import_okrs(write(tmp_path, "okrs.yaml", GOOD_YAML))
    assert (result.created, result.updated, result.key_results) == (2, 0, 3)
    child = Objective.objects.get(code="CS-1")
    assert child.unit == compensation
    assert [kr.reference for kr in child.supports.all()] == ["VA-1.1"]
    assert child.key_results.get(position=2).target_value == 1


def test_importing_again_updates_instead_of_duplicating(tmp_path, compensation):
    path = write(tmp_path, "okrs.yaml", GOOD_YAML)
    import_okrs(path)
    result = import_okrs(write(tmp_path, "again.yaml", GOOD_YAML.replace("Tool live", "Tool in use")))
    assert (result.created, result.updated) == (0, 2)
    assert Objective.objects.count() == 2
    assert Objective.objects.get(code="CS-1").key_results.get(position=2).title == "Tool in use"


def test_errors_name_the_line_of_the_objective_or_key_result_and_nothing_is_written(tmp_path, compensation):
    bad = GOOD_YAML.replace("period: 2026-Q4\n    code: VA-1", "period: Q4\n    code: VA-1")
    bad = bad.replace("metric: yes_no", "metric: maybe")
    bad = bad.replace("Compensation Service", "Pension Service")
    assert errors_of(write(tmp_path, "bad.yaml", bad)) == [
        "line 2: period 'Q4' is not YYYY-Qn (2026-Q4) or YYYY (2026)",
        "line 14: unit 'Veterans Benefits Administration > Pension Service': no unit 'Pension Service' "
        "at that level in VA",
    ]
    assert not Objective.objects.exists()


def test_a_key_result_error_points_at_the_key_results_own_line(tmp_path, compensation):
    bad = GOOD_YAML.replace("metric: yes_no", "metric: maybe")
    assert errors_of(write(tmp_path, "bad.yaml", bad)) == [
        "line 24: metric 'maybe' is not one of number, percentage, yes_no, milestone"
    ]


def test_values_that_do_not_fit_the_metric_are_reported_on_their_line(tmp_path, compensation):
    bad = GOOD_YAML.replace("target: 4", "target: 2.5")
    assert errors_of(write(tmp_path, "bad.yaml", bad)) == [
        "line 21: key result 1: target value: The target is the number of milestones planned (1 or more)."
    ]


def test_unknown_agency_missing_title_and_unknown_supported_result_are_each_reported(tmp_path, compensation):
    bad = GOOD_YAML.replace("agency: VA\n    period", "agency: XX\n    period", 1)
    bad = bad.replace("    title: Automate evidence gathering\n", "")
    assert errors_of(write(tmp_path, "bad.yaml", bad)) == [
        "line 2: unknown agency 'XX'",
        "line 14: title is required",
    ]


def test_a_yaml_syntax_error_names_its_line(tmp_path, agency):
    assert errors_of(write(tmp_path, "broken.yaml", "objectives:\n  - agency: [VA\n"))[0].startswith(
        "line 3:"
    )


def test_a_file_without_an_objectives_list_is_refused(tmp_path, agency):
    assert errors_of(write(tmp_path, "empty.yaml", "title: nothing\n")) == [
        "line 1: the file must have a top-level 'objectives:' list"
    ]


CSV_HEADER = ",".join(CSV_COLUMNS) + "\n"


def test_a_csv_file_groups_rows_into_objectives(tmp_path, compensation):
    text = CSV_HEADER + (
        "VA,,2026-Q4,VA-1,Faster decisions,,Secretary,active,,Backlog,number,200000,100000,180000,claims,\n"
        "VA,Veterans Benefits Administration > Compensation Service,2026-Q4,CS-1,Automate,,,,VA-1.1,"
        "Pilots,milestone,0,4,1,,\n"
        "VA,,2026-Q4,CS-1,,,,,,Tool live,yes_no,0,1,0,,\n"
    )
    result = import_okrs(write(tmp_path, "okrs.csv", text))
    assert (result.created, result.key_results) == (2, 3)
    assert Objective.objects.get(code="CS-1").key_results.count() == 2


def test_csv_errors_name_the_row_line(tmp_path, compensation):
    text = CSV_HEADER + (
        "VA,,2026-Q4,VA-1,Faster decisions,,,,,Backlog,number,200000,lots,180000,claims,\n"
        "VA,,2026-Q4,VA-2,Second,,,,VA-9.1,Other,number,0,10,0,,\n"
    )
    assert errors_of(write(tmp_path, "bad.csv", text)) == [
        "line 2: target 'lots' is not a number",
        "line 3: supports 'VA-9.1': no such key result in VA 2026-Q4 (write CODE.N)",
    ]


def test_a_csv_without_required_columns_is_refused(tmp_path, agency):
    assert errors_of(write(tmp_path, "bad.csv", "agency,title\nVA,x\n")) == [
        "line 1: missing column(s): period, code"
    ]


@pytest.mark.parametrize(("name", "writer"), [("round.yaml", write_yaml), ("round.csv", write_csv)])
def test_an_export_imports_back_unchanged(tmp_path, compensation, name, writer):
    import_okrs(write(tmp_path, "okrs.yaml", GOOD_YAML))
    before = export_records(Objective.objects.order_by("code"))
    out = io.StringIO()
    writer(before, out)
    result = import_okrs(write(tmp_path, name, out.getvalue()))
    assert (result.created, result.updated) == (0, 2)
    assert export_records(Objective.objects.order_by("code")) == before


def test_the_import_command_prints_file_and_line_for_each_error(tmp_path, compensation, capsys):
    path = write(tmp_path, "bad.yaml", GOOD_YAML.replace("metric: yes_no", "metric: maybe"))
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_okrs", str(path))
    assert f"{path}: line 24: metric 'maybe'" in capsys.readouterr().err


def test_the_commands_import_and_export(tmp_path, compensation, capsys):
    call_command("import_okrs", str(write(tmp_path, "okrs.yaml", GOOD_YAML)))
    assert "2 objective(s) created" in capsys.readouterr().out
    out = tmp_path / "out.csv"
    call_command("export_okrs", "--out", str(out), "--agency", "VA")
    assert out.read_text().startswith("agency,unit,period,code")
    call_command("export_okrs", "--period", "2026-Q4")
    assert "code: CS-1" in capsys.readouterr().out
