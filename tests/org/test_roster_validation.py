"""Every kind of bad roster row is reported with its line number and reason; nothing needs a database."""

from pathlib import Path

import pytest

from lastweek.org import csv_blocks
from lastweek.org.roster import RosterInvalid, read_roster
from tests.roster_files import HEADER, person, small_agency, write_roster


@pytest.fixture(autouse=True, params=["one block", "tiny blocks"])
def block_size(request, monkeypatch):
    """Every test runs with the whole file in one block and with blocks of a few records, so records
    are read by both parsers and line numbers carry across block boundaries."""
    if request.param == "tiny blocks":
        monkeypatch.setattr(csv_blocks, "BLOCK_BYTES", 200)


def errors_of(path: Path) -> list[str]:
    with pytest.raises(RosterInvalid) as raised:
        read_roster(path)
    return [str(error) for error in raised.value.errors]


def test_a_valid_roster_reads_every_row_with_its_manager(tmp_path):
    roster = read_roster(write_roster(tmp_path / "r.csv", small_agency()))
    assert len(roster) == 7
    manager_rows = roster.keys["manager_row"].to_list()
    assert manager_rows[4] == 3  # employee 5 (row 4) reports to employee 4 (row 3)
    assert manager_rows[0] is None


def test_emails_are_lower_cased_and_unit_paths_normalized(tmp_path):
    rows = [person("1", email="Ann.Lee@VA.gov", unit_path="  VHA>VISN 1 >Boston ")]
    [batch] = read_roster(write_roster(tmp_path / "r.csv", rows)).batches()
    assert batch.row(0, named=True)["email"] == "ann.lee@va.gov"
    assert batch.row(0, named=True)["unit_path"] == "VHA > VISN 1 > Boston"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"email": ""}, "line 3: email is empty"),
        ({"first_name": ""}, "line 3: first_name is empty"),
        ({"email": "not-an-address"}, "line 3: email 'not-an-address' is not an email address"),
        ({"time_zone": "Mars/Olympus"}, "line 3: unknown time zone 'Mars/Olympus'"),
        ({"status": "retired"}, "line 3: unknown status 'retired'"),
        ({"unit_path": "VHA >  > Boston"}, "line 3: unit_path has an empty level"),
        ({"first_name": "x" * 101}, "line 3: first_name is longer than 100 characters"),
        ({"manager_number": "999"}, "line 3: unknown manager '999': no row has that employee_number"),
        ({"manager_number": "2"}, "line 3: the employee is their own manager"),
        ({"agency_name": "Veterans"}, "line 3: agency VA is named 'Veterans' here but"),
    ],
)
def test_each_row_error_names_its_line(tmp_path, override, expected):
    rows = [person("1"), person("2", "1", **override)]
    reported = errors_of(write_roster(tmp_path / "r.csv", rows))
    assert any(error.startswith(expected) for error in reported), reported


def test_duplicates_point_back_to_the_first_line(tmp_path):
    rows = [
        person("1"),
        person("2", "1"),
        person("2", "1", email="other@va.gov"),
        person("4", "1", email="PERSON1@va.gov"),
    ]
    reported = errors_of(write_roster(tmp_path / "r.csv", rows))
    assert "line 4: duplicate employee_number '2' (first on line 3)" in reported
    assert "line 5: duplicate email 'person1@va.gov' (first on line 2)" in reported


def test_a_manager_loop_is_reported_on_every_row_in_it(tmp_path):
    rows = [person("1"), person("2", "4"), person("3", "2"), person("4", "3"), person("5", "4")]
    reported = errors_of(write_roster(tmp_path / "r.csv", rows))
    loop_lines = sorted(int(e.split(":")[0].split()[1]) for e in reported if "manager loop" in e)
    assert loop_lines == [3, 4, 5, 6]  # 2→4→3→2 and 5, who reports into the loop
    assert "line 3: manager loop: 2 → 4 → 3 → 2" in reported


def test_all_errors_are_reported_not_just_the_first(tmp_path):
    rows = [person("1"), person("2", "9"), person("3", time_zone="Nowhere"), person("4", status="gone")]
    assert len(errors_of(write_roster(tmp_path / "r.csv", rows))) == 3


def test_line_numbers_count_lines_inside_quoted_fields(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        HEADER + "\n"
        '1,"Ann\nMarie",Lee,ann@va.gov,VA,Veterans Affairs,VHA,,,America/New_York,active\n'
        "2,Bob,Ray,bob@va.gov,VA,Veterans Affairs,VHA,,1,America/Nowhere,active\n"
    )
    assert errors_of(path) == [
        "line 4: unknown time zone 'America/Nowhere'; use an IANA name such as America/New_York"
    ]


def test_a_row_with_the_wrong_number_of_fields_is_reported(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "\n1,Ann,Lee,ann@va.gov,VA,Veterans Affairs,VHA,,,America/New_York\n")
    assert errors_of(path) == ["line 2: expected 11 fields, found 10"]


def test_blank_lines_are_ignored(tmp_path):
    path = write_roster(tmp_path / "r.csv", small_agency())
    path.write_text(path.read_text() + "\n\n")
    assert len(read_roster(path)) == 7


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("employee_number,first_name\n1,Ann\n")
    [error] = errors_of(path)
    assert error.startswith("line 1: missing column(s) last_name, email")


def test_a_file_that_is_not_utf8_names_the_line(tmp_path):
    path = write_roster(tmp_path / "r.csv", small_agency())
    path.write_bytes(path.read_bytes() + "8,Jos\xe9,Ruiz,j@va.gov,VA,x,VHA,,1,UTC,active\n".encode("latin-1"))
    [error] = errors_of(path)
    assert error.startswith("line 9: not valid UTF-8")


def test_an_empty_file_says_it_needs_a_header(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("")
    assert errors_of(path) == ["line 1: the file is empty; it needs a header line"]


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = write_roster(tmp_path / "r.csv", small_agency())
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(read_roster(path)) == 7


def test_line_numbers_stay_exact_after_quoted_newlines_blank_and_short_lines(tmp_path):
    path = tmp_path / "r.csv"
    good = "{n},Ann,Lee,p{n}@va.gov,VA,Veterans Affairs,VHA,,1,America/New_York,active\n"
    path.write_text(
        HEADER
        + "\n"
        + "1,Ann,Lee,ann@va.gov,VA,Veterans Affairs,VHA,,,America/New_York,active\n"  # line 2
        + "".join(good.format(n=n) for n in range(2, 12))  # lines 3-12
        + '12,"Ann\nMarie",Lee,p12@va.gov,VA,"Veterans Affairs",VHA,"Nurse, RN",1,America/New_York,active\n'
        + "\n"  # line 15
        + "13,Ann,Lee,p13@va.gov,VA,Veterans Affairs,VHA,,1,America/New_York\n"  # line 16: short
        + "".join(good.format(n=n) for n in range(14, 30))  # lines 17-32
        + "30,Ann,Lee,p30@va.gov,VA,Veterans Affairs,VHA,,1,Nowhere,active\n"  # line 33
    )
    assert errors_of(path) == [
        "line 16: expected 11 fields, found 10",
        "line 33: unknown time zone 'Nowhere'; use an IANA name such as America/New_York",
    ]


@pytest.mark.parametrize("unit_path", ["> VHA", "VHA >", "VHA >> Boston", " VHA >  > Boston"])
def test_every_kind_of_empty_unit_level_is_caught(tmp_path, unit_path):
    reported = errors_of(write_roster(tmp_path / "r.csv", [person("1", unit_path=unit_path)]))
    assert reported == ["line 2: unit_path has an empty level; separate unit names with ' > '"]


def test_a_unit_name_over_the_limit_is_caught_but_a_long_path_of_short_names_is_not(tmp_path):
    long_path = " > ".join(f"Level {n} " + "x" * 40 for n in range(6))
    rows = [person("1", unit_path=long_path), person("2", "1", unit_path="VHA > " + "y" * 201)]
    assert errors_of(write_roster(tmp_path / "r.csv", rows)) == [
        "line 3: a unit name in unit_path is longer than 200 characters"
    ]
