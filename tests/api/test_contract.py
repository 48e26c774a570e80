"""The API's contract, case by case: one error body with a stable code for every refusal, the limits the
schema states are the ones the server keeps, and the schema documents every answer."""

import json

import pytest
from django.test import Client

from lastweek.api.api import api
from lastweek.api.errors import CODES
from lastweek.directives.models import Cycle, StockAnswer
from lastweek.goals.models import KeyResult
from lastweek.reports.api import MAX_BULLET_LENGTH, MAX_BULLETS, NOT_BLANK, StateFilter
from tests.api.world import THIS_WEEK

pytestmark = pytest.mark.django_db


def post(client, url: str, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def error(response) -> tuple[int, str, str | None]:
    body = response.json()
    assert set(body) == {"detail", "field", "code"} and body["detail"]
    return response.status_code, body["code"], body["field"]


@pytest.fixture
def report_url(users) -> str:
    return f"/api/cycles/{Cycle.objects.get(week=THIS_WEEK).pk}/report"


@pytest.fixture
def check_in_url(users) -> str:
    owned = KeyResult.objects.get(owner__user=users["employee"])
    return f"/api/goals/key-results/{owned.pk}/check-ins"


def test_without_token_or_session_the_answer_is_401_not_authenticated(client, users):
    assert error(client.get("/api/me/reports")) == (401, "not_authenticated", None)


def test_an_unknown_token_is_401_invalid_token(client, users):
    response = client.get("/api/me/reports", HTTP_AUTHORIZATION="Bearer lw_nothing")
    assert error(response) == (401, "invalid_token", None)


def test_a_change_without_any_sign_in_is_401_rather_than_a_csrf_refusal(client, report_url):
    assert error(post(client, report_url, {"bullets": ["Work"]})) == (401, "not_authenticated", None)


def test_a_session_without_its_csrf_token_is_403_csrf_failed(users, report_url):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["employee"])
    assert error(post(client, report_url, {"bullets": ["Work"]})) == (403, "csrf_failed", None)


def test_bullets_and_a_stock_answer_together_are_refused_with_a_code(client, report_url, employee_token):
    stock = StockAnswer.objects.first()
    body = {"bullets": ["Work"], "stock_answer_id": stock.pk}
    response = post(client, report_url, body, **employee_token)
    assert error(response) == (400, "bullets_and_stock_answer", "stock_answer_id")


def test_a_stock_answer_with_an_empty_bullet_list_is_taken(client, report_url, employee_token):
    body = {"bullets": [], "stock_answer_id": StockAnswer.objects.first().pk}
    assert post(client, report_url, body, **employee_token).status_code == 201


def test_an_invalid_body_is_422_naming_the_item_from_1(client, report_url, employee_token):
    response = post(client, report_url, {"bullets": ["Fine", 5]}, **employee_token)
    assert error(response) == (422, "invalid", "bullets.2")


@pytest.mark.parametrize("stock_answer_id", ["1", True, 0])
def test_a_stock_answer_id_is_a_positive_json_integer(client, report_url, employee_token, stock_answer_id):
    response = post(client, report_url, {"stock_answer_id": stock_answer_id}, **employee_token)
    assert error(response) == (422, "invalid", "stock_answer_id")


def test_the_api_takes_at_most_its_bullets_of_its_length(client, report_url, employee_token):
    too_many = post(client, report_url, {"bullets": ["a"] * (MAX_BULLETS + 1)}, **employee_token)
    too_long = post(client, report_url, {"bullets": ["a" * (MAX_BULLET_LENGTH + 1)]}, **employee_token)
    assert error(too_many) == (422, "invalid", "bullets")
    assert error(too_long) == (422, "invalid", "bullets.1")


def test_a_nul_character_is_refused_before_it_reaches_the_database(client, report_url, employee_token):
    response = post(client, report_url, {"bullets": ["Work\x00"]}, **employee_token)
    assert error(response) == (422, "invalid", "bullets.1")
    response = client.get("/api/goals/objectives", {"agency": "V\x00A"}, **employee_token)
    assert error(response) == (422, "invalid", "agency")


def test_an_id_beyond_any_database_key_is_422_not_a_server_error(client, employee_token, users):
    response = client.get(f"/api/me/reports/{2**64}", **employee_token)
    assert error(response) == (422, "invalid", "report_id")


def test_an_idempotency_key_over_200_characters_is_refused(client, report_url, employee_token):
    headers = employee_token | {"HTTP_IDEMPOTENCY_KEY": "k" * 201}
    assert error(post(client, report_url, {"bullets": ["Work"]}, **headers)) == (
        422,
        "invalid",
        "Idempotency-Key",
    )


@pytest.mark.parametrize("value", ["97.25", 97.25, "3", 0])
def test_a_check_in_value_is_a_number_or_its_digits(client, check_in_url, employee_token, value):
    response = post(client, check_in_url, {"value": value, "confidence": 5}, **employee_token)
    assert response.status_code == 201


@pytest.mark.parametrize("value", ["1e3", " 7", "97.255", "1000000000000", 10**12, True])
def test_a_check_in_value_outside_the_schema_is_422(client, check_in_url, employee_token, value):
    response = post(client, check_in_url, {"value": value, "confidence": 5}, **employee_token)
    assert error(response) == (422, "invalid", "value")


def test_a_value_outside_the_key_results_metric_is_a_400_with_its_code(client, check_in_url, employee_token):
    response = post(client, check_in_url, {"value": 101, "confidence": 5}, **employee_token)
    assert error(response) == (400, "value_outside_metric", "value")


def test_a_body_that_is_not_json_is_400_malformed_body(client, report_url, employee_token):
    response = client.post(report_url, "{bullets", content_type="application/json", **employee_token)
    assert error(response) == (400, "malformed_body", None)


def test_a_body_over_the_servers_limit_is_413(client, report_url, employee_token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = post(client, report_url, {"bullets": ["x" * 200]}, **employee_token)
    assert error(response) == (413, "body_too_large", None)


def test_a_method_a_path_does_not_take_is_405_with_the_allowed_ones(client, report_url, employee_token):
    response = client.delete(report_url, **employee_token)
    assert error(response) == (405, "method_not_allowed", None)
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}


def test_every_operation_documents_sign_in_validation_and_the_error_body():
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            answers = operation["responses"]
            assert 401 in answers, f"{method} {path} does not document 401"
            if operation.get("parameters") or operation.get("requestBody"):
                assert 422 in answers, f"{method} {path} does not document 422"
            for status, answer in answers.items():
                if int(status) >= 400:
                    assert answer["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorOut"
                    }


def test_no_parameter_is_documented_as_null():
    schema = api.get_openapi_schema()
    for methods in schema["paths"].values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                assert "null" not in json.dumps(parameter["schema"]), parameter


def test_every_code_has_an_error_status():
    assert all(400 <= status < 500 for status, _ in CODES.values())


def test_the_state_filter_names_the_states_of_a_week():
    assert set(StateFilter.__args__) == {"", *Cycle.State.values}


def test_a_bullet_is_blank_by_the_schema_exactly_when_submit_would_drop_it():
    import re

    for code in range(0x3100):
        character = chr(code)
        assert (re.search(NOT_BLANK, character) is None) == (character.strip() == ""), hex(code)
