"""The reports API with personal tokens: what a caller may list, submitting with field-level errors, and
reading one's own answers — never anyone else's."""

import datetime as dt
import json

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from lastweek.access.tokens import create_token
from lastweek.directives.actions import close_cycle
from lastweek.directives.models import Assignment
from lastweek.reports import submit
from lastweek.reports.models import Report
from lastweek.reports.own import own_assignment
from tests.reports.conftest import STOCK, assignment, move_deadline

pytestmark = pytest.mark.django_db


def bearer(employee) -> dict:
    _, value = create_token(employee.user, "tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {value}"}


def post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def test_a_token_submits_the_callers_answer_and_gets_a_receipt(client, casey, cycle):
    response = post(
        client, f"/api/cycles/{cycle.pk}/report", {"bullets": ["Decided 40 claims"]}, **bearer(casey)
    )
    assert response.status_code == 201
    body = response.json()
    report = Report.objects.get(employee=casey)
    assert body["receipt_code"] == report.receipt_code and body["on_time"] and body["is_current"]
    assert report.channel == "api" and report.submitted_by == casey.user


def test_a_signed_in_session_submits_too(client, casey, cycle):
    client.force_login(casey.user)
    assert post(client, f"/api/cycles/{cycle.pk}/report", {"bullets": ["Work"]}).status_code == 201


def test_a_stock_answer_is_submitted_by_its_id(client, casey, cycle):
    stock = cycle.directive.stock_answers.get()
    response = post(client, f"/api/cycles/{cycle.pk}/report", {"stock_answer_id": stock.pk}, **bearer(casey))
    assert response.status_code == 201 and response.json()["stock_answer"] == STOCK


def test_an_unknown_stock_answer_names_the_field(client, casey, cycle):
    response = post(client, f"/api/cycles/{cycle.pk}/report", {"stock_answer_id": 999}, **bearer(casey))
    assert response.status_code == 400 and response.json()["field"] == "stock_answer_id"


def test_an_over_long_bullet_is_a_400_naming_its_position(client, casey, cycle):
    body = {"bullets": ["Fine", "x" * 81]}
    response = post(client, f"/api/cycles/{cycle.pk}/report", body, **bearer(casey))
    assert response.status_code == 400
    assert response.json()["field"] == "bullets.2" and response.json()["code"] == "bullet_too_long"
    assert not Report.objects.exists()


def test_too_many_bullets_are_a_400_on_the_bullets_field(client, casey, cycle):
    response = post(
        client, f"/api/cycles/{cycle.pk}/report", {"bullets": ["a", "b", "c", "d"]}, **bearer(casey)
    )
    assert response.status_code == 400 and response.json()["field"] == "bullets"
    assert "at most 3" in response.json()["detail"]


def test_an_empty_answer_is_a_400(client, casey, cycle):
    response = post(client, f"/api/cycles/{cycle.pk}/report", {"bullets": [" "]}, **bearer(casey))
    assert response.status_code == 400 and response.json()["code"] == "empty"


def test_a_malformed_body_is_a_422_naming_the_field(client, casey, cycle):
    response = post(client, f"/api/cycles/{cycle.pk}/report", {"bullets": "not a list"}, **bearer(casey))
    assert response.status_code == 422 and "bullets" in json.dumps(response.json())


def test_a_closed_week_is_a_409(client, casey, cycle):
    close_cycle(cycle)
    response = post(client, f"/api/cycles/{cycle.pk}/report", {"bullets": ["Work"]}, **bearer(casey))
    assert response.status_code == 409 and response.json()["code"] == "closed"


def test_a_paused_callers_answer_is_taken_as_a_voluntary_one_as_on_the_page(client, pat, cycle):
    response = post(client, f"/api/cycles/{cycle.pk}/report", {"bullets": ["Work"]}, **bearer(pat))
    assert response.status_code == 201
    assert response.json()["asked"] is False and "never counts" in response.json()["message"]


def test_an_answer_after_the_deadline_is_taken_and_marked_late(client, casey, cycle):
    move_deadline(cycle, timezone.now() - dt.timedelta(hours=1))
    response = post(client, f"/api/cycles/{cycle.pk}/report", {"bullets": ["Late"]}, **bearer(casey))
    assert response.status_code == 201 and response.json()["on_time"] is False


def test_a_retry_with_the_same_idempotency_key_stores_nothing_more(client, casey, cycle):
    headers = bearer(casey) | {"HTTP_IDEMPOTENCY_KEY": "run-42"}
    first = post(client, f"/api/cycles/{cycle.pk}/report", {"bullets": ["Work"]}, **headers)
    again = post(client, f"/api/cycles/{cycle.pk}/report", {"bullets": ["Work"]}, **headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["receipt_code"] == first.json()["receipt_code"]
    assert Report.objects.count() == 1


def test_the_same_idempotency_key_from_two_people_keeps_both_answers(client, casey, morgan, cycle):
    for person in (casey, morgan):
        headers = bearer(person) | {"HTTP_IDEMPOTENCY_KEY": "monday"}
        assert (
            post(client, f"/api/cycles/{cycle.pk}/report", {"bullets": ["Work"]}, **headers).status_code
            == 201
        )
    assert set(Report.objects.values_list("employee", flat=True)) == {casey.pk, morgan.pk}


def test_a_cycle_the_caller_is_not_in_is_not_found(client, casey, cycle, directive):
    from lastweek.directives.actions import open_cycle

    elsewhere = open_cycle(directive, "2026-W47")
    elsewhere.assignments.filter(employee=casey).delete()
    response = post(client, f"/api/cycles/{elsewhere.pk}/report", {"bullets": ["Work"]}, **bearer(casey))
    assert response.status_code == 404


def test_the_callers_directives_and_open_cycles_are_listed(client, casey, cycle, directive):
    from tests.factories import DirectiveFactory

    DirectiveFactory(title="Not asking Casey")
    headers = bearer(casey)
    directives = client.get("/api/directives", **headers).json()
    assert [d["title"] for d in directives] == ["Weekly accomplishments"]
    assert directives[0]["stock_answers"][0]["text"] == STOCK and directives[0]["max_bullets"] == 3
    cycles = client.get("/api/cycles?state=open", **headers).json()
    assert [c["week"] for c in cycles] == ["2026-W48"]


def test_the_callers_assignments_say_whether_and_why_they_are_asked(client, pat, cycle):
    mine = client.get("/api/me/assignments", **bearer(pat)).json()
    assert [(a["week"], a["mode"], a["reason"]) for a in mine] == [
        ("2026-W48", "paused", "Pending a legal review.")
    ]


def test_the_caller_reads_their_answers_and_history(client, casey, cycle):
    submit(assignment(cycle, casey), ["Draft"], channel="web")
    headers = bearer(casey)
    post(client, f"/api/cycles/{cycle.pk}/report", {"bullets": ["Final", "More"]}, **headers)
    history = client.get("/api/me/reports", **headers).json()
    assert [([b["text"] for b in r["bullets"]], r["is_current"]) for r in history] == [
        (["Final", "More"], True),
        (["Draft"], False),
    ]
    current = client.get(f"/api/cycles/{cycle.pk}/report", **headers).json()
    assert current["id"] == history[0]["id"]
    one = client.get(f"/api/me/reports/{history[1]['id']}", **headers)
    assert one.status_code == 200 and one.json()["bullets"] == [{"position": 1, "text": "Draft"}]


def test_a_client_can_never_read_another_persons_report(client, casey, morgan, outsider, cycle):
    """Neither the manager nor an outsider, by id, by cycle or in a list: not found, no content."""
    theirs = submit(assignment(cycle, casey), ["Casey's private work"], channel="web")
    for person in (morgan, outsider):
        headers = bearer(person)
        responses = [
            client.get(f"/api/me/reports/{theirs.report_id}", **headers),
            client.get(f"/api/cycles/{cycle.pk}/report", **headers),
            client.get("/api/me/reports", **headers),
            client.get(f"/api/me/reports?cycle_id={cycle.pk}", **headers),
        ]
        assert [r.status_code for r in responses] == [404, 404, 200, 200]
        for response in responses:
            assert "Casey's private work" not in response.content.decode()
            assert theirs.receipt_code not in response.content.decode()


def test_an_unknown_token_is_refused_with_a_hint(client, cycle):
    response = client.get("/api/me/reports", HTTP_AUTHORIZATION="Bearer lw_not-a-real-token")
    assert response.status_code == 401 and "/tokens/" in response.json()["detail"]


def test_a_revoked_token_is_refused(client, casey, cycle):
    from lastweek.access.tokens import revoke_token

    token, value = create_token(casey.user, "old script")
    revoke_token(token, casey.user)
    response = client.get("/api/me/reports", HTTP_AUTHORIZATION=f"Bearer {value}")
    assert response.status_code == 401


def test_an_expired_token_is_refused(client, casey, cycle):
    _, value = create_token(casey.user, "old script", days=1, now=timezone.now() - dt.timedelta(days=2))
    assert client.get("/api/me/reports", HTTP_AUTHORIZATION=f"Bearer {value}").status_code == 401


def test_a_token_of_a_deactivated_account_is_refused(client, casey, cycle):
    headers = bearer(casey)
    casey.user.is_active = False
    casey.user.save()
    assert client.get("/api/me/reports", **headers).status_code == 401


def test_without_token_or_session_the_api_answers_401(client, cycle):
    assert client.get("/api/me/assignments").status_code == 401


def test_the_openapi_schema_lists_the_endpoints_and_bearer_sign_in(client, casey):
    schema = client.get("/api/openapi.json").json()
    for path in (
        "/api/directives",
        "/api/cycles",
        "/api/me/assignments",
        "/api/me/reports",
        "/api/cycles/{cycle_id}/report",
    ):
        assert path in schema["paths"]
    schemes = schema["components"]["securitySchemes"]
    assert any(scheme.get("scheme") == "bearer" for scheme in schemes.values())


def test_a_submission_costs_a_fixed_number_of_queries(client, casey, cycle, django_assert_num_queries):
    """Token (with user and roster entry), its last use, assignment (with cycle and directive), stock
    answers, the lock with the current answer, report, bullets, the mark that the unit's compliance
    counts are stale, and the savepoint pair that stands for BEGIN and COMMIT inside the test's
    transaction. An edit adds one: the answer it replaces stops counting."""
    headers = bearer(casey)
    with django_assert_num_queries(10):
        response = post(client, f"/api/cycles/{cycle.pk}/report", {"bullets": ["a", "b", "c"]}, **headers)
    assert response.status_code == 201
    with django_assert_num_queries(10):  # no last-use write within the minute; the replaced answer
        response = post(client, f"/api/cycles/{cycle.pk}/report", {"bullets": ["d"]}, **headers)
    assert response.status_code == 201 and response.json()["is_current"]


def test_the_per_submission_assignment_read_loads_what_the_orm_would(
    casey, pat, cycle, django_assert_num_queries
):
    """own_assignment() is one hand-written statement: its assignment, cycle and directive must be the
    ORM's, field for field (aware datetimes, booleans), with nothing left to load."""
    for person in (casey, pat):
        with django_assert_num_queries(0):
            user = person.user
        with django_assert_num_queries(1):
            found = own_assignment(user, cycle.pk)
            loaded = (found.cycle.directive.max_bullets, found.cycle.deadline, found.employee_id)
        orm = Assignment.objects.select_related("cycle__directive").get(employee=person, cycle=cycle)
        assert loaded == (orm.cycle.directive.max_bullets, orm.cycle.deadline, person.pk)
        assert model_to_dict(found) == model_to_dict(orm)
        assert model_to_dict(found.cycle) == model_to_dict(orm.cycle)
        assert model_to_dict(found.cycle.directive) == model_to_dict(orm.cycle.directive)
    assert own_assignment(casey.user, cycle.pk + 1000) is None
