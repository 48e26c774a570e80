"""The 'your access' page shows each persona exactly the people within their scope."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lastweek.access.models import Role, Scope
from tests.factories import AgencyFactory, EmployeeFactory, RoleGrantFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    unit = UnitFactory(agency=AgencyFactory(code="VA"), name="VISN 1")
    alice = EmployeeFactory(unit=unit, user=UserFactory(username="alice"), last_name="Manager")
    staff = [EmployeeFactory(unit=unit, manager=alice, last_name=f"Staff{n}") for n in range(3)]
    bob = EmployeeFactory(unit=unit, manager=staff[0], user=UserFactory(username="bob"), last_name="Bob")
    outsider = EmployeeFactory(unit=UnitFactory(agency=AgencyFactory(code="DHS")), last_name="Elsewhere")
    return {"alice": alice, "staff": staff, "bob": bob, "outsider": outsider}


def names_on_page(client, user, **params) -> set[str]:
    client.force_login(user)
    page = client.get("/", params)
    assert page.status_code == 200
    return {person.last_name for person in page.context["page"]}


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_sign_in_page_renders(client):
    assert b"Sign in" in client.get("/accounts/login/").content


def test_an_employee_sees_only_themselves(client, team):
    assert names_on_page(client, team["bob"].user) == {"Bob"}


def test_a_manager_sees_their_reporting_line(client, team):
    assert names_on_page(client, team["alice"].user) == {"Manager", "Staff0", "Staff1", "Staff2", "Bob"}


def test_an_agency_admin_sees_their_agency_and_their_role(client, team):
    admin = UserFactory(username="va-admin")
    RoleGrantFactory(user=admin, role=Role.AGENCY_ADMIN, scope=Scope.AGENCY, agency=team["alice"].agency)
    assert "Elsewhere" not in names_on_page(client, admin)
    assert b"Agency administrator over one agency" in client.get("/").content


def test_an_account_without_roles_sees_no_one(client, team):
    assert names_on_page(client, UserFactory(username="nobody")) == set()
    assert b"you can see no one" in client.get("/").content


def test_search_stays_within_scope(client, team):
    outsider_email = team["outsider"].email
    assert names_on_page(client, team["alice"].user, q=outsider_email) == set()
    assert names_on_page(client, team["alice"].user, q=team["bob"].email.upper()) == {"Bob"}


def test_the_page_costs_the_same_queries_for_a_bigger_team(client, team):
    client.force_login(team["alice"].user)
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    EmployeeFactory.create_batch(20, unit=team["alice"].unit, manager=team["alice"])
    with CaptureQueriesContext(connection) as many:
        client.get("/")
    assert len(many) == len(few)


def test_signing_in_lands_on_the_access_page_and_signing_out_returns(client, team):
    team["bob"].user.set_password("correct horse battery staple")
    team["bob"].user.save()
    response = client.post(
        "/accounts/login/", {"username": "bob", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert b"Signed in as <strong>bob</strong>" in client.get("/").content
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_a_wrong_password_says_so(client, team):
    page = client.post("/accounts/login/", {"username": "bob", "password": "wrong"})
    assert b"didn&#x27;t match" in page.content or b"didn't match" in page.content
