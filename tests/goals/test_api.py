"""The goals API: scoped reads, check-ins with field-level errors, OpenAPI served."""

import json

import pytest

from tests.goals.conftest import objective

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_objectives_are_listed_within_the_callers_agencies(client, processor, vba_objective, other_agency):
    objective(agency=other_agency, title="Theirs")
    client.force_login(processor)
    codes = {item["code"] for item in client.get("/api/goals/objectives").json()}
    assert codes == {"VA-1", "VBA-1"}


def test_an_objective_comes_with_its_key_results_and_progress(client, processor, vba_objective):
    client.force_login(processor)
    body = client.get(f"/api/goals/objectives/{vba_objective.pk}").json()
    assert body["supports"] == ["VA-1.1"]
    assert [(kr["reference"], kr["progress"]) for kr in body["key_results"]] == [
        ("VBA-1.1", 0.2),
        ("VBA-1.2", 0.0),
    ]


def test_another_agencys_objective_is_not_found(client, outsider, vba_objective):
    client.force_login(outsider)
    assert client.get(f"/api/goals/objectives/{vba_objective.pk}").status_code == 404


def test_signed_out_callers_are_refused(client, vba_objective):
    assert client.get("/api/goals/objectives").status_code == 401


def test_an_editor_records_a_check_in(client, director, vba_objective):
    claims = vba_objective.key_results.get(position=1)
    client.force_login(director)
    response = post(
        client, f"/api/goals/key-results/{claims.pk}/check-ins", {"value": 15000, "confidence": 7}
    )
    assert response.status_code == 201 and response.json()["recorded_by"] == "director"
    history = client.get(f"/api/goals/key-results/{claims.pk}/check-ins").json()
    assert [item["value"] for item in history] == ["15000.00"]


def test_an_employee_cannot_check_in_on_another_units_key_result(client, processor, vba_objective):
    client.force_login(processor)
    url = f"/api/goals/key-results/{vba_objective.key_results.first().pk}/check-ins"
    assert post(client, url, {"value": 1, "confidence": 5}).status_code == 403


def test_check_in_errors_name_the_field(client, director, vba_objective):
    tool = vba_objective.key_results.get(position=2)
    client.force_login(director)
    url = f"/api/goals/key-results/{tool.pk}/check-ins"
    response = post(client, url, {"value": 3, "confidence": 5})
    assert response.status_code == 400 and response.json()["field"] == "value"
    response = post(client, url, {"value": 1, "confidence": 12})
    assert response.status_code == 422 and "confidence" in json.dumps(response.json())


def test_the_openapi_schema_and_docs_are_served(client, processor):
    client.force_login(processor)
    schema = client.get("/api/openapi.json").json()
    assert "/api/goals/objectives" in schema["paths"]
    assert client.get("/api/docs").status_code == 200
