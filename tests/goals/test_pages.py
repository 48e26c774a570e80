"""The OKR pages: reading a unit's tree and an objective, creating and editing, check-ins and scores."""

import pytest
from django.urls import reverse

from lastweek.goals.models import CheckIn, Objective
from tests.goals.conftest import PERIOD

pytestmark = pytest.mark.django_db


def new_objective_form(title="Faster ratings", supports=(), rows=None, **fields) -> dict:
    rows = rows if rows is not None else [("Ratings per week", "number", "100", "200", "120")]
    data = {
        "title": title,
        "description": "",
        "period": PERIOD,
        "code": "",
        "owner_role": "Director",
        "status": "active",
        "supports": [str(pk) for pk in supports],
        "kr-TOTAL_FORMS": str(max(3, len(rows))),
        "kr-INITIAL_FORMS": "0",
        "kr-MIN_NUM_FORMS": "1",
        "kr-MAX_NUM_FORMS": "1000",
        **fields,
    }
    # Blank rows come back as a browser sends them: the defaults the form rendered.
    blank = ("", "number", "0", "", "0")
    for index, (title_, metric, start, target, current) in enumerate(rows + [blank] * (3 - len(rows))):
        data |= {
            f"kr-{index}-title": title_,
            f"kr-{index}-metric": metric,
            f"kr-{index}-start_value": start,
            f"kr-{index}-target_value": target,
            f"kr-{index}-current_value": current,
            f"kr-{index}-unit_of_measure": "",
        }
    return data


def test_a_unit_page_shows_objectives_progress_and_the_chain_to_the_agency(
    client, processor, compensation, compensation_objective
):
    client.force_login(processor)
    page = client.get(reverse("goals:unit", args=[compensation.pk]), {"period": PERIOD})
    text = page.content.decode()
    assert page.status_code == 200
    assert "CS-1: Automate evidence gathering" in text
    assert 'value="25"' in text  # one of four pilots
    assert "Clear the compensation backlog" in text and "Veterans get decisions faster" in text
    assert "Veterans Benefits Administration" in text  # the breadcrumb's parent unit


def test_the_unit_page_lists_the_units_below_with_their_objectives(
    client, processor, vba, compensation_objective
):
    client.force_login(processor)
    text = client.get(reverse("goals:unit", args=[vba.pk]), {"period": PERIOD}).content.decode()
    assert "Compensation Service" in text and "CS-1" in text


def test_the_agency_page_shows_agency_objectives_and_top_units(client, processor, agency, va_objective, vba):
    client.force_login(processor)
    text = client.get(reverse("goals:agency", args=[agency.code]), {"period": PERIOD}).content.decode()
    assert "Veterans get decisions faster" in text and "Veterans Benefits Administration" in text
    assert "New agency objective" not in text


def test_an_outsider_gets_not_found_for_another_agencys_pages(client, outsider, vba, vba_objective):
    client.force_login(outsider)
    assert client.get(reverse("goals:unit", args=[vba.pk])).status_code == 404
    assert client.get(reverse("goals:objective", args=[vba_objective.pk])).status_code == 404


def test_the_index_sends_an_employee_to_their_unit(client, processor, boston):
    client.force_login(processor)
    assert client.get(reverse("goals:index")).url == reverse("goals:unit", args=[boston.pk])


def test_signed_out_visitors_are_sent_to_sign_in(client, vba):
    assert client.get(reverse("goals:unit", args=[vba.pk])).status_code == 302


def test_the_objective_page_shows_key_results_check_ins_and_chart_data(client, director, vba_objective):
    from decimal import Decimal

    from lastweek.goals.actions import check_in

    claims = vba_objective.key_results.get(position=1)
    check_in(claims, Decimal(20_000), confidence=7, comment="Overtime helped", actor=director)
    client.force_login(director)
    text = client.get(reverse("goals:objective", args=[vba_objective.pk])).content.decode()
    assert "Overtime helped" in text and "7/10" in text
    assert f'id="chart-data-{claims.pk}"' in text and "chartjs/chart.umd.min.js" in text
    assert "Record check-in" in text and "Edit" in text


def test_a_manager_creates_an_objective_with_key_results_supporting_a_higher_one(
    client, director, compensation, vba_objective
):
    parent = vba_objective.key_results.get(position=1)
    client.force_login(director)
    form = client.get(reverse("goals:unit-new", args=[compensation.pk]))
    assert parent.title in form.content.decode()
    rows = [("Ratings per week", "number", "100", "200", "120"), ("Tool live", "yes_no", "0", "1", "0")]
    response = client.post(
        reverse("goals:unit-new", args=[compensation.pk]), new_objective_form(supports=[parent.pk], rows=rows)
    )
    made = Objective.objects.get(title="Faster ratings")
    assert response.url == reverse("goals:objective", args=[made.pk])
    assert made.code == "CS-1" and made.unit == compensation
    assert [kr.title for kr in made.key_results.all()] == ["Ratings per week", "Tool live"]
    assert list(made.supports.all()) == [parent]


def test_an_employee_cannot_create_or_edit_another_units_okrs(client, processor, vha, vba_objective):
    client.force_login(processor)
    assert client.get(reverse("goals:unit-new", args=[vha.pk])).status_code == 403
    assert client.post(reverse("goals:unit-new", args=[vha.pk]), new_objective_form()).status_code == 403
    edit = reverse("goals:objective-edit", args=[vba_objective.pk])
    assert client.post(edit, new_objective_form(title="Hijacked")).status_code == 403
    assert not Objective.objects.filter(title__in=["Faster ratings", "Hijacked"]).exists()


def test_only_agency_admins_create_agency_wide_objectives(client, director, va_admin, agency):
    client.force_login(director)
    assert client.get(reverse("goals:agency-new", args=[agency.code])).status_code == 403
    client.force_login(va_admin)
    response = client.post(reverse("goals:agency-new", args=[agency.code]), new_objective_form())
    assert response.status_code == 302
    assert Objective.objects.get(title="Faster ratings").unit is None


def test_form_errors_are_shown_by_field_and_nothing_is_saved(client, director, compensation):
    client.force_login(director)
    rows = [("Share reviewed", "percentage", "0", "140", "0")]
    response = client.post(
        reverse("goals:unit-new", args=[compensation.pk]), new_objective_form(rows=rows, period="Q4")
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "YYYY-Qn" in text and "between 0 and 100" in text
    assert not Objective.objects.exists()


def test_editing_keeps_check_ins_and_adds_a_key_result(client, director, vba_objective):
    from decimal import Decimal

    from lastweek.goals.actions import check_in

    first, second = vba_objective.key_results.all()
    check_in(first, Decimal(11_000), confidence=6, actor=director)
    data = new_objective_form(title="Clear the backlog sooner", rows=[])
    data |= {"kr-TOTAL_FORMS": "3", "kr-INITIAL_FORMS": "2", "supports": []}
    for index, kr in enumerate([first, second]):
        data |= {
            f"kr-{index}-id": str(kr.pk),
            f"kr-{index}-objective": str(vba_objective.pk),
            f"kr-{index}-title": kr.title,
            f"kr-{index}-metric": kr.metric,
            f"kr-{index}-start_value": str(kr.start_value),
            f"kr-{index}-target_value": str(kr.target_value),
            f"kr-{index}-current_value": str(kr.current_value),
        }
    data |= {"kr-2-title": "Appeals closed", "kr-2-metric": "number", "kr-2-start_value": "0"}
    data |= {"kr-2-target_value": "500", "kr-2-current_value": "0"}
    client.force_login(director)
    response = client.post(reverse("goals:objective-edit", args=[vba_objective.pk]), data)
    assert response.status_code == 302, response.content.decode()
    vba_objective.refresh_from_db()
    assert vba_objective.title == "Clear the backlog sooner"
    assert vba_objective.key_results.count() == 3
    assert CheckIn.objects.filter(key_result=first).count() == 1


def test_a_check_in_from_the_page_updates_the_key_result(client, director, vba_objective):
    claims = vba_objective.key_results.get(position=1)
    client.force_login(director)
    response = client.post(
        reverse("goals:check-in", args=[claims.pk]),
        {
            f"kr{claims.pk}-value": "30000",
            f"kr{claims.pk}-confidence": "8",
            f"kr{claims.pk}-comment": "On pace",
        },
    )
    assert response.status_code == 302
    claims.refresh_from_db()
    assert claims.current_value == 30_000 and claims.check_ins.get().comment == "On pace"


def test_a_bad_check_in_says_why_and_records_nothing(client, director, vba_objective):
    tool = vba_objective.key_results.get(position=2)
    client.force_login(director)
    response = client.post(
        reverse("goals:check-in", args=[tool.pk]),
        {f"kr{tool.pk}-value": "4", f"kr{tool.pk}-confidence": "8"},
        follow=True,
    )
    assert "0 (no) or 1 (yes)" in response.content.decode()
    assert not tool.check_ins.exists()


def test_an_employee_cannot_check_in_on_a_key_result_they_do_not_own(client, processor, vba_objective):
    claims = vba_objective.key_results.get(position=1)
    client.force_login(processor)
    response = client.post(reverse("goals:check-in", args=[claims.pk]), {f"kr{claims.pk}-value": "1"})
    assert response.status_code == 403


def test_closing_scores_the_objective(client, director, vba_objective):
    client.force_login(director)
    client.post(reverse("goals:score", args=[vba_objective.pk]))
    vba_objective.refresh_from_db()
    assert vba_objective.status == "closed" and vba_objective.score is not None


def test_scores_given_by_hand_replace_the_final_progress(client, director, vba_objective):
    claims, tool = vba_objective.key_results.order_by("position")
    client.force_login(director)
    client.post(reverse("goals:score", args=[vba_objective.pk]), {f"score-{tool.pk}": "0.5"})
    claims.refresh_from_db()
    tool.refresh_from_db()
    assert (float(claims.score), float(tool.score)) == (0.2, 0.5)  # 10,000 of 50,000 decided → 0.2


def test_an_impossible_score_closes_nothing(client, director, vba_objective):
    tool = vba_objective.key_results.get(position=2)
    client.force_login(director)
    client.post(reverse("goals:score", args=[vba_objective.pk]), {f"score-{tool.pk}": "1.7"})
    vba_objective.refresh_from_db()
    assert vba_objective.status != "closed"
    assert not vba_objective.key_results.filter(score__isnull=False).exists()
