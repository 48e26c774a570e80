"""Employees link bullets of their own answers to key results they can see, on the page and by the API."""

import json

import pytest
from django.urls import reverse

from lastweek.audit.models import AuditEvent
from lastweek.goals.actions import OkrError, link_bullet
from tests.goals.conftest import answer, objective

pytestmark = pytest.mark.django_db


@pytest.fixture
def bullets(processor):
    return answer(processor.employee, ["Decided 40 claims", "Trained two new raters"])


def test_the_author_links_a_bullet_and_it_is_audited(processor, bullets, vba_objective):
    claims = vba_objective.key_results.get(position=1)
    link_bullet(bullets[0], claims, actor=processor)
    bullets[0].refresh_from_db()
    assert bullets[0].key_result == claims and bullets[0].key_result_linked_at is not None
    assert AuditEvent.objects.filter(action="bullet.link_key_result").exists()
    assert list(claims.bullets.all()) == [bullets[0]]


def test_someone_else_cannot_link_the_authors_bullet(director, bullets, vba_objective):
    with pytest.raises(OkrError, match="author"):
        link_bullet(bullets[0], vba_objective.key_results.first(), actor=director)


def test_a_key_result_of_another_agency_cannot_be_linked(processor, bullets, other_agency):
    theirs = objective(agency=other_agency, title="Theirs").key_results.get()
    with pytest.raises(OkrError, match="not one you can see"):
        link_bullet(bullets[0], theirs, actor=processor)


def test_the_page_lists_own_bullets_with_the_key_results_above(
    client, processor, bullets, compensation_objective
):
    client.force_login(processor)
    text = client.get(reverse("reports:bullets")).content.decode()
    assert "Decided 40 claims" in text and "CS-1.1 Pilots finished" in text and "VA-1.1" in text


def test_the_page_saves_a_link_and_clears_another(client, processor, bullets, vba_objective):
    claims = vba_objective.key_results.get(position=1)
    link_bullet(bullets[1], claims, actor=processor)
    client.force_login(processor)
    client.post(
        reverse("reports:bullets"), {f"bullet-{bullets[0].pk}": str(claims.pk), f"bullet-{bullets[1].pk}": ""}
    )
    for bullet in bullets:
        bullet.refresh_from_db()
    assert (bullets[0].key_result, bullets[1].key_result) == (claims, None)


def test_the_api_links_a_bullet(client, processor, bullets, vba_objective):
    claims = vba_objective.key_results.get(position=1)
    client.force_login(processor)
    response = client.put(
        f"/api/goals/bullets/{bullets[0].pk}/key-result",
        json.dumps({"key_result_id": claims.pk}),
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["key_result"] == "VBA-1.1"


def test_the_api_refuses_another_persons_bullet_and_an_invisible_key_result(
    client, director, processor, bullets, other_agency
):
    theirs = objective(agency=other_agency, title="Theirs").key_results.get()
    client.force_login(director)
    url = f"/api/goals/bullets/{bullets[0].pk}/key-result"
    assert (
        client.put(url, json.dumps({"key_result_id": None}), content_type="application/json").status_code
        == 404
    )
    client.force_login(processor)
    response = client.put(url, json.dumps({"key_result_id": theirs.pk}), content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "key_result_id"


def test_the_old_address_of_the_bullet_page_redirects_to_the_new_one(client):
    response = client.get("/goals/bullets/")
    assert response.status_code == 301
    assert response["Location"] == "/report/bullets/"
