"""The synthetic workforce is a valid roster at every size: exact counts, unique people, one reporting
tree per agency, realistic depth and spans, real time zones, and the same bytes for the same seed."""

import csv
import io
import re
import statistics
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest

from lastweek.synth.agencies import AGENCIES
from lastweek.synth.workforce import (
    DUTY_STATIONS,
    FIRST_NAMES,
    LAST_NAMES,
    ROSTER_COLUMNS,
    UNIT_SEPARATOR,
    RosterRow,
    apportion,
    plan_agencies,
    workforce,
    write_roster_csv,
)

EMAIL = re.compile(r"^[a-z]+\.[a-z]+(\d*)@[a-z0-9.-]+\.(gov|mil)$")
# The big departments: each has over 1,000 people in a 50,000 person roster.
BIG_AT_50K = ("VA", "ARMY", "NAVY", "DHS", "AF", "DOD", "DOJ", "TREAS", "USDA", "HHS", "DOI", "SSA")


@pytest.fixture(scope="module")
def roster_50k() -> list[RosterRow]:
    return list(workforce(50_000))


@pytest.fixture(scope="module")
def demo_roster() -> list[RosterRow]:
    return list(workforce(2_000))


@pytest.fixture(scope="module")
def tiny_roster() -> list[RosterRow]:
    return list(workforce(100, agencies=3))


def csv_bytes(employees: int, seed: int = 42, agencies: int | None = None) -> bytes:
    buffer = io.StringIO()
    write_roster_csv(buffer, employees, seed=seed, agencies=agencies)
    return buffer.getvalue().encode()


def by_number(rows: list[RosterRow]) -> dict[str, RosterRow]:
    return {row.employee_number: row for row in rows}


# Determinism


def test_the_same_seed_gives_the_same_bytes():
    assert csv_bytes(2_000, seed=7) == csv_bytes(2_000, seed=7)


def test_a_file_written_to_a_path_matches_the_one_written_to_a_handle(tmp_path):
    path = tmp_path / "roster.csv"
    write_roster_csv(path, 2_000)
    assert path.read_bytes() == csv_bytes(2_000)


def test_another_seed_changes_names_and_places():
    first, second = list(workforce(2_000, seed=1)), list(workforce(2_000, seed=2))
    assert [row.email for row in first] != [row.email for row in second]
    assert [row.unit_path for row in first] != [row.unit_path for row in second]
    assert [row.time_zone for row in first] != [row.time_zone for row in second]


# Size and file format


@pytest.mark.parametrize("employees", [100, 2_000, 50_000])
def test_the_file_has_exactly_the_rows_asked_for(employees, tmp_path):
    path = tmp_path / "roster.csv"
    written = write_roster_csv(path, employees)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert written == employees
    assert len(lines) == employees + 1


@pytest.mark.parametrize(("employees", "agencies"), [(100, 3), (2_000, None), (50_000, None), (9_999, 40)])
def test_agency_headcounts_sum_exactly_and_give_each_agency_a_few_people(employees, agencies):
    plan = plan_agencies(employees, agencies)
    assert sum(size for _, size in plan) == employees
    assert min(size for _, size in plan) >= 8
    assert len(plan) == (agencies or len(plan))


def test_the_header_is_the_roster_columns():
    header = csv_bytes(100).decode().splitlines()[0]
    assert tuple(header.split(",")) == ROSTER_COLUMNS


def test_the_csv_reads_back_as_the_generated_rows():
    """Unit names and agency names with commas must come back whole."""
    records = list(csv.reader(io.StringIO(csv_bytes(20_000, agencies=len(AGENCIES)).decode())))
    expected = [
        tuple(getattr(row, name) for name in ROSTER_COLUMNS) for row in workforce(20_000, agencies=105)
    ]
    assert [tuple(record) for record in records[1:]] == expected
    assert any("," in record[6] for record in records[1:])


def test_progress_is_reported_every_ten_thousand_rows_and_at_the_end():
    seen: list[int] = []
    write_roster_csv(io.StringIO(), 25_000, on_row=seen.append)
    assert seen == [10_000, 20_000, 25_000]


def test_too_many_agencies_for_the_people_is_refused():
    with pytest.raises(ValueError, match="agencies must be between"):
        plan_agencies(5, agencies=6)


# People


@pytest.mark.parametrize("roster", ["tiny_roster", "demo_roster", "roster_50k"])
def test_employee_numbers_are_unique_nine_digit_strings(roster, request):
    numbers = [row.employee_number for row in request.getfixturevalue(roster)]
    assert len(set(numbers)) == len(numbers)
    assert all(len(number) == 9 and number.isdigit() for number in numbers)


def test_emails_are_unique_lowercase_first_dot_last_at_the_agency_domain(roster_50k):
    domains = {agency.code: agency.domain for agency in AGENCIES}
    emails = [row.email for row in roster_50k]
    assert len(set(emails)) == len(emails)
    for row in roster_50k:
        assert EMAIL.match(row.email), row.email
        assert row.email.endswith("@" + domains[row.agency_code])


def test_name_lists_are_large_enough_for_realistic_full_names():
    assert len(set(FIRST_NAMES)) == len(FIRST_NAMES) >= 300
    assert len(set(LAST_NAMES)) == len(LAST_NAMES) >= 300


def test_about_one_in_forty_is_on_leave_and_everyone_else_active(roster_50k):
    statuses = Counter(row.status for row in roster_50k)
    assert set(statuses) == {"active", "on_leave"}
    assert 0.015 < statuses["on_leave"] / len(roster_50k) < 0.035


def test_time_zones_are_real_iana_names(roster_50k):
    for zone in {row.time_zone for row in roster_50k} | {station.time_zone for station in DUTY_STATIONS}:
        ZoneInfo(zone)


def test_people_are_spread_over_the_country_not_all_in_washington(roster_50k):
    zones = Counter(row.time_zone for row in roster_50k)
    assert len(zones) >= 10
    assert zones["America/New_York"] < 0.7 * len(roster_50k)


# Reporting trees


@pytest.mark.parametrize("roster", ["tiny_roster", "demo_roster", "roster_50k"])
def test_every_manager_is_someone_in_the_same_agency(roster, request):
    rows = request.getfixturevalue(roster)
    people = by_number(rows)
    for row in rows:
        if row.manager_number:
            assert people[row.manager_number].agency_code == row.agency_code


@pytest.mark.parametrize("roster", ["tiny_roster", "demo_roster", "roster_50k"])
def test_each_agency_has_exactly_one_head(roster, request):
    rows = request.getfixturevalue(roster)
    heads = Counter(row.agency_code for row in rows if not row.manager_number)
    assert set(heads) == {row.agency_code for row in rows}
    assert set(heads.values()) == {1}


@pytest.mark.parametrize("roster", ["tiny_roster", "demo_roster", "roster_50k"])
def test_every_reporting_line_reaches_the_head_without_a_loop(roster, request):
    rows = request.getfixturevalue(roster)
    people = by_number(rows)
    for row in rows:
        steps, current = 0, row
        while current.manager_number:
            current = people[current.manager_number]
            steps += 1
            assert steps <= 8, f"{row.employee_number} loops or runs too deep"


def test_the_head_sits_in_the_agency_head_office(demo_roster):
    offices = {agency.code: agency.head_office for agency in AGENCIES}
    for row in demo_roster:
        if not row.manager_number:
            assert row.unit_path == offices[row.agency_code]


def test_each_unit_has_one_supervisor_who_reports_to_the_parent_unit_supervisor(roster_50k):
    """Also proves sibling units have distinct names: two units under one path would make two heads."""
    people = by_number(roster_50k)
    offices = {agency.code: agency.head_office for agency in AGENCIES}
    unit_heads: dict[tuple[str, str], list[RosterRow]] = defaultdict(list)
    for row in roster_50k:
        manager = people.get(row.manager_number)
        if manager is None or manager.unit_path != row.unit_path:
            unit_heads[row.agency_code, row.unit_path].append(row)
    for (code, path), heads in unit_heads.items():
        assert len(heads) == 1, f"{code} {path} has {len(heads)} heads"
        if not heads[0].manager_number:
            continue
        parent_path = path.rpartition(UNIT_SEPARATOR)[0] or offices[code]
        assert people[heads[0].manager_number].unit_path == parent_path


@pytest.mark.parametrize("roster", ["tiny_roster", "demo_roster", "roster_50k"])
def test_unit_paths_are_one_to_six_levels_of_clean_names(roster, request):
    for row in request.getfixturevalue(roster):
        names = row.unit_path.split(UNIT_SEPARATOR)
        assert 1 <= len(names) <= 6
        assert all(name and name == name.strip() and ">" not in name for name in names)


def test_big_departments_are_three_to_six_levels_deep(roster_50k):
    depth: dict[str, int] = defaultdict(int)
    for row in roster_50k:
        depth[row.agency_code] = max(depth[row.agency_code], row.unit_path.count(UNIT_SEPARATOR) + 1)
    assert all(3 <= depth[code] <= 6 for code in BIG_AT_50K), {code: depth[code] for code in BIG_AT_50K}
    assert depth["VA"] > depth["FEC"]


def test_small_agencies_stay_shallow(tiny_roster):
    assert max(row.unit_path.count(UNIT_SEPARATOR) + 1 for row in tiny_roster) <= 3


@pytest.mark.parametrize("roster", ["demo_roster", "roster_50k"])
def test_supervisors_have_five_to_fifteen_direct_reports(roster, request):
    spans = Counter(row.manager_number for row in request.getfixturevalue(roster) if row.manager_number)
    assert 5 <= statistics.median(spans.values()) <= 15
    assert max(spans.values()) <= 15


# Agency sizes


def test_headcounts_follow_the_published_table(roster_50k):
    counts = Counter(row.agency_code for row in roster_50k)
    table = {agency.code: agency.headcount for agency in AGENCIES}
    total = sum(table.values())
    assert counts.most_common(1)[0][0] == "VA"
    for code in BIG_AT_50K:
        expected = 50_000 * table[code] / total
        assert abs(counts[code] - expected) < 0.05 * expected, code


def test_the_demo_shows_about_ten_agencies_big_and_small():
    plan = plan_agencies(2_000)
    assert 8 <= len(plan) <= 12
    assert plan[0][0].code == "VA"
    assert min(agency.headcount for agency, _ in plan) < 5_000


def test_the_agency_table_looks_like_the_federal_civilian_workforce():
    codes = [agency.code for agency in AGENCIES]
    domains = [agency.domain for agency in AGENCIES]
    assert 90 <= len(AGENCIES) <= 110
    assert 2_200_000 <= sum(agency.headcount for agency in AGENCIES) <= 2_400_000
    assert len(set(codes)) == len(codes) and all(code.isupper() and len(code) <= 16 for code in codes)
    assert len(set(domains)) == len(domains) and all(d.endswith((".gov", ".mil")) for d in domains)
    assert [agency.headcount for agency in AGENCIES] == sorted((a.headcount for a in AGENCIES), reverse=True)


def test_every_agency_names_distinct_top_units_and_known_duty_stations():
    cities = {station.city for station in DUTY_STATIONS}
    for agency in AGENCIES:
        names = [unit.name for unit in agency.units]
        assert len(set(names)) == len(names) and agency.head_office not in names, agency.code
        assert agency.city in cities and all(unit.city in cities | {""} for unit in agency.units)
        assert all("{city}" in unit.field_office for unit in agency.units if unit.field_office)


# Apportioning


@pytest.mark.parametrize(
    ("total", "weights", "floor", "cap"),
    [(100, [1, 1, 1], 0, None), (83, [1.34, 1.22, 0.6, 0.62, 1.37, 1.25], 8, 16), (50, [100, 1, 1], 8, None)],
)
def test_apportion_sums_exactly_within_its_bounds(total, weights, floor, cap):
    parts = apportion(total, weights, floor=floor, cap=cap)
    assert sum(parts) == total
    assert all(floor <= part <= (cap or total) for part in parts)


def test_apportion_follows_the_weights_when_no_bound_binds():
    assert apportion(100, [3, 1]) == [75, 25]
