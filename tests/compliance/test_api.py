"""The compliance API: figures for the caller's scope, 403 outside it, and the OpenAPI schema."""

import pytest
from django.contrib.auth import get_user_model

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def user(username):
    return get_user_model().objects.get(username=username)


def test_an_agency_administrator_reads_the_agency_and_its_units(client, answered, va_admin):
    client.force_login(va_admin)
    body = client.get(f"/api/compliance/cycles/{answered.pk}/agencies/VA").json()
    assert body["target"]["counts"]["total"] == 12
    assert {child["name"] for child in body["children"]} == {
        "Veterans Benefits Administration", "Veterans Health Administration", "Office of Public Affairs"
    }  # fmt: skip


def test_a_manager_reads_their_unit_with_its_child_units(client, answered, vba, compensation):
    client.force_login(user("director"))
    body = client.get(f"/api/compliance/cycles/{answered.pk}/units/{vba.pk}").json()
    assert body["target"]["counts"]["total"] == 9
    assert [child["id"] for child in body["children"]] == [compensation.pk]


def test_a_manager_is_refused_the_figures_of_another_unit(client, answered, vha):
    client.force_login(user("director"))
    response = client.get(f"/api/compliance/cycles/{answered.pk}/units/{vha.pk}")
    assert response.status_code == 403
    assert "outside your scope" in response.json()["detail"]


def test_the_scope_listing_shows_only_the_callers_unit(client, answered, vba):
    client.force_login(user("director"))
    body = client.get(f"/api/compliance/cycles/{answered.pk}").json()
    assert [(item["kind"], item["id"]) for item in body] == [("unit", vba.pk)]


def test_a_caller_without_a_role_is_refused(client, answered):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(f"/api/compliance/cycles/{answered.pk}").status_code == 403


def test_an_anonymous_caller_is_refused(client, answered):
    assert client.get(f"/api/compliance/cycles/{answered.pk}").status_code == 401


def test_the_compliance_routes_are_in_the_openapi_schema(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/compliance/cycles/{cycle_id}/units/{unit_id}" in paths
