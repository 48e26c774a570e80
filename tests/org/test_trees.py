"""Subtree queries on unit trees and reporting lines, deep and wide."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lastweek.org.models import Employee, Unit
from tests.factories import AgencyFactory, EmployeeFactory, UnitFactory

pytestmark = pytest.mark.django_db


def chain_of_units(depth: int) -> list[Unit]:
    agency = AgencyFactory()
    units = [UnitFactory(agency=agency)]
    for _ in range(depth - 1):
        units.append(UnitFactory(parent=units[-1]))
    return units


def test_paths_and_depths_follow_the_tree():
    top, middle, bottom = chain_of_units(3)
    assert top.path == f"/{top.pk}/"
    assert bottom.path == f"/{top.pk}/{middle.pk}/{bottom.pk}/"
    assert [top.depth, middle.depth, bottom.depth] == [0, 1, 2]
    assert list(bottom.ancestors()) == [top, middle]


def test_subtree_of_a_deep_tree_is_every_level_below():
    units = chain_of_units(12)
    people = [EmployeeFactory(unit=unit) for unit in units]
    assert set(Employee.objects.in_unit_subtree(units[4])) == set(people[4:])
    assert set(units[4].subtree()) == set(units[4:])


def test_subtree_is_one_query():
    units = chain_of_units(8)
    for unit in units:
        EmployeeFactory(unit=unit)
    with CaptureQueriesContext(connection) as queries:
        assert len(list(Employee.objects.in_unit_subtree(units[2]))) == 6
    assert len(queries) == 1


def test_a_unit_whose_id_starts_like_another_is_not_in_its_subtree():
    agency = AgencyFactory()
    units = [UnitFactory(agency=agency) for _ in range(12)]
    first = units[0]
    # ids 1 and 10, 11, … (or any n and n0…) share a leading digit but not a path prefix
    lookalikes = [unit for unit in units[1:] if str(unit.pk).startswith(str(first.pk))]
    for unit in [first, *lookalikes]:
        EmployeeFactory(unit=unit)
    assert [e.unit for e in Employee.objects.in_unit_subtree(first)] == [first]


def test_wide_tree_subtree_counts():
    agency = AgencyFactory()
    top = UnitFactory(agency=agency)
    branches = [UnitFactory(parent=top) for _ in range(5)]
    for branch in branches:
        for _ in range(3):
            leaf = UnitFactory(parent=branch)
            EmployeeFactory.create_batch(2, unit=leaf)
    assert Employee.objects.in_unit_subtree(top).count() == 30
    assert Employee.objects.in_unit_subtree(branches[0]).count() == 6


def test_reporting_line_subtree_reaches_every_depth_and_not_the_manager():
    head = EmployeeFactory()
    line = [head]
    for _ in range(15):
        line.append(EmployeeFactory(manager=line[-1], unit=head.unit))
    side = EmployeeFactory(manager=head, unit=head.unit)
    assert set(Employee.objects.reporting_to(line[5])) == set(line[6:])
    assert set(Employee.objects.reporting_to(head)) == set(line[1:]) | {side}
    assert not Employee.objects.reporting_to(line[-1]).exists()


@pytest.mark.postgres
def test_postgresql_can_answer_a_subtree_from_the_path_index():
    """varchar_pattern_ops makes LIKE 'prefix%' indexable whatever the database's collation."""
    units = chain_of_units(4)
    EmployeeFactory(unit=units[-1])
    query = Employee.objects.in_unit_subtree(units[1])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "unit_path_idx" in plan
