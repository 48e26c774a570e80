"""The roster admin stays usable at scale: exact-match search, bounded queries per page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import EmployeeFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    return client


def test_search_by_email_is_exact_and_case_insensitive(operator_client):
    ann = EmployeeFactory(email="ann.lee@va.gov")
    EmployeeFactory(email="ann.leeson@va.gov")
    page = operator_client.get("/admin/org/employee/", {"q": "Ann.Lee@VA.gov"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [ann]


def test_search_by_employee_number(operator_client):
    target = EmployeeFactory(employee_number="000123")
    EmployeeFactory(employee_number="0001234")
    page = operator_client.get("/admin/org/employee/", {"q": "000123"})
    assert list(page.context["cl"].result_list) == [target]


def test_the_employee_list_costs_the_same_queries_for_more_rows(operator_client):
    unit = UnitFactory()
    EmployeeFactory.create_batch(5, unit=unit)
    with CaptureQueriesContext(connection) as few:
        operator_client.get("/admin/org/employee/")
    EmployeeFactory.create_batch(40, unit=UnitFactory())
    with CaptureQueriesContext(connection) as many:
        assert operator_client.get("/admin/org/employee/").status_code == 200
    assert len(many) == len(few)


def test_an_employee_page_uses_raw_id_widgets(operator_client):
    person = EmployeeFactory(manager=EmployeeFactory())
    page = operator_client.get(f"/admin/org/employee/{person.pk}/change/")
    assert page.status_code == 200
    assert b'class="vForeignKeyRawIdAdminField"' in page.content


@pytest.mark.postgres
def test_an_unfiltered_large_list_uses_the_planner_estimate_not_count(operator_client, monkeypatch):
    from lastweek import admin_pagination

    EmployeeFactory.create_batch(30, unit=UnitFactory())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE org_employee")
    monkeypatch.setattr(admin_pagination, "EXACT_COUNT_BELOW", 10)
    with CaptureQueriesContext(connection) as queries:
        page = operator_client.get("/admin/org/employee/")
    assert page.context["cl"].result_count == 30
    assert not [q for q in queries if "COUNT(*)" in q["sql"] and "org_employee" in q["sql"]]
