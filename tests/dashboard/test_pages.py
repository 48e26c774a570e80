"""The compliance dashboard: who sees which figures, drill-down, decisions beside the figures, the trend,
filters, downloads, and the number of queries each page makes."""

import csv
import io
import json

import pytest
from django.contrib.auth import get_user_model

from lastweek.audit.models import AuditEvent
from tests.dashboard.conftest import signed_in

pytestmark = pytest.mark.django_db


def user(username):
    return get_user_model().objects.get(username=username)


def test_a_manager_is_taken_to_the_dashboard_of_their_unit(client, answered, vba):
    response = signed_in(client, user("director")).get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/unit/{vba.pk}/"


def test_a_managers_unit_page_shows_its_rate_and_drills_down_to_the_units_below(
    client, answered, vba, compensation, now_after_deadline
):
    page = signed_in(client, user("director")).get(f"/dashboard/unit/{vba.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    # VBA and below: 7 due (director, analyst, chief, processor, clerk, courier, typist), 4 answered
    assert page.context["overall"].due == 7
    assert 'data-figure="compliance-rate">57.1 %' in html
    assert f'href="/dashboard/unit/{compensation.pk}/?' in html


def test_a_manager_cannot_see_a_unit_outside_their_own(client, answered, vha):
    assert signed_in(client, user("director")).get(f"/dashboard/unit/{vha.pk}/").status_code == 403


def test_a_manager_cannot_see_the_whole_agency(client, answered, agency):
    assert signed_in(client, user("chief")).get(f"/dashboard/agency/{agency.code}/").status_code == 403


def test_a_manager_lower_down_cannot_see_the_unit_above(client, answered, vba):
    assert signed_in(client, user("chief")).get(f"/dashboard/unit/{vba.pk}/").status_code == 403


def test_an_outsider_from_another_agency_is_refused(client, answered, outsider, agency, vba):
    signed_in(client, outsider)
    assert client.get(f"/dashboard/agency/{agency.code}/").status_code == 403
    assert client.get(f"/dashboard/unit/{vba.pk}/").status_code == 403


def test_a_user_without_any_role_is_refused(client, answered, nobody):
    assert signed_in(client, nobody).get("/dashboard/").status_code == 403


def test_the_dashboard_asks_a_visitor_to_sign_in(client, answered):
    assert client.get("/dashboard/").status_code == 302


def test_the_agency_page_shows_the_pause_and_its_reason_beside_the_paused_unit(
    client, answered, va_admin, vha
):
    html = signed_in(client, va_admin).get("/dashboard/agency/VA/").content.decode()
    row = html.split(f"/dashboard/unit/{vha.pk}/")[1].split("</tr>")[0]
    assert "Paused</strong>: Paused pending a legal review." in row


def test_the_agency_page_counts_each_status(client, answered, va_admin, now_after_deadline):
    counts = dict(signed_in(client, va_admin).get("/dashboard/agency/VA/").context["status_counts"])
    assert {status.value: n for status, n in counts.items() if n} == {
        "on_time": 3, "late": 1, "missing": 1, "auto_reply": 1, "bounced": 1, "on_leave": 1,
        "exempt": 1, "paused": 1, "voluntary_answered": 1, "voluntary_not_answered": 1,
    }  # fmt: skip


def test_an_auditor_sees_every_agency(client, answered, auditor, other_agency):
    page = signed_in(client, auditor).get("/dashboard/")
    assert page.status_code == 200
    assert [row.target.code for row in page.context["rows"]] == ["DHS", "VA"]


def test_an_agency_administrator_goes_straight_to_their_agency(client, answered, va_admin):
    assert signed_in(client, va_admin).get("/dashboard/")["Location"] == "/dashboard/agency/VA/"


def test_the_trend_has_one_point_per_week(client, history, answered, va_admin, now_after_deadline):
    chart = signed_in(client, va_admin).get("/dashboard/agency/VA/").context["chart"]
    assert chart["labels"] == ["2026-W46", "2026-W47", "2026-W48"]
    assert chart["rate"] == [100.0, pytest.approx(14.3), pytest.approx(57.1)]


def test_the_trend_data_is_embedded_for_the_chart_with_a_table_beside_it(
    client, history, va_admin, now_after_deadline
):
    html = signed_in(client, va_admin).get("/dashboard/agency/VA/").content.decode()
    data = json.loads(html.split('<script id="trend-data" type="application/json">')[1].split("</script>")[0])
    assert data["labels"][-1] == "2026-W48"
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert '<th scope="row">2026-W46</th>' in html


def test_the_week_filter_shows_an_earlier_week(client, history, va_admin, now_after_deadline):
    page = signed_in(client, va_admin).get("/dashboard/agency/VA/", {"week": "2026-W47"})
    assert page.context["overall"].answered_due == 1


def test_the_status_filter_lists_only_people_with_that_status(
    client, answered, compensation, now_after_deadline, boston
):
    page = signed_in(client, user("director")).get(f"/dashboard/unit/{boston.pk}/", {"status": "bounced"})
    assert [row.first_name for row in page.context["people"]] == ["Typist"]


def test_the_people_list_shows_only_people_the_user_may_see(client, answered, boston, va_admin):
    from lastweek.access.models import Role, RoleGrant, Scope

    RoleGrant.objects.create(user=user("processor"), role=Role.MANAGER, scope=Scope.UNIT, unit=boston)
    page = signed_in(client, user("processor")).get(f"/dashboard/unit/{boston.pk}/")
    # A unit grant shows the unit's figures and the people in it.
    assert len(page.context["people"]) == 5


@pytest.mark.parametrize(("path", "most"), [("/dashboard/agency/VA/", 13), ("unit", 15), ("/dashboard/", 11)])
def test_the_pages_make_a_fixed_number_of_queries(
    client, history, va_admin, auditor, vba, django_assert_max_num_queries, path, most
):
    viewer = auditor if path == "/dashboard/" else va_admin
    signed_in(client, viewer)
    url = f"/dashboard/unit/{vba.pk}/" if path == "unit" else path
    client.get(url)  # the first read may build counts
    with django_assert_max_num_queries(most):
        assert client.get(url).status_code == 200


def test_a_unit_download_has_the_people_the_manager_may_see(
    client, answered, compensation, now_after_deadline
):
    response = signed_in(client, user("director")).get(
        "/dashboard/download/", {"scope": f"unit:{compensation.pk}"}
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row["first_name"] for row in rows} == {
        "Chief",
        "Processor",
        "Clerk",
        "Trainee",
        "Courier",
        "Typist",
    }


def test_a_download_of_others_report_text_is_audited(client, answered, va_admin):
    response = signed_in(client, va_admin).get("/dashboard/download/", {"scope": "agency:VA"})
    b"".join(response.streaming_content)
    assert AuditEvent.objects.filter(action="report.export", actor_name="va-admin").count() == 1


def test_a_download_outside_the_scope_is_refused(client, answered, vha):
    response = signed_in(client, user("director")).get("/dashboard/download/", {"scope": f"unit:{vha.pk}"})
    assert response.status_code == 403


def test_a_parquet_download_is_a_parquet_file(client, answered, va_admin):
    response = signed_in(client, va_admin).get(
        "/dashboard/download/", {"scope": "agency:VA", "format": "parquet"}
    )
    assert b"".join(response.streaming_content)[:4] == b"PAR1"


def test_the_team_page_lists_a_managers_direct_reports(client, answered, now_after_deadline):
    page = signed_in(client, user("chief")).get("/dashboard/team/")
    names = {row.first_name for row in page.context["people"]}
    assert names == {"Clerk", "Courier", "Processor", "Trainee", "Typist"}


def test_an_employee_downloads_their_own_year_with_their_bullets(client, answered):
    response = signed_in(client, user("processor")).get("/dashboard/my-year/", {"year": "2026"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["first_name"], row["week"]) for row in rows] == [("Processor", "2026-W48")]
    assert rows[0]["bullets"].startswith("'=cmd")


def test_the_year_page_offers_the_years_the_employee_was_asked(client, answered):
    page = signed_in(client, user("processor")).get("/dashboard/my-year/")
    assert page.context["years"] == [2026]


def test_a_manager_sees_the_figures_of_their_unit_but_only_the_names_in_their_line(
    client, cycle, directive, vba, now_after_deadline
):
    from lastweek.directives.actions import open_cycle
    from tests.factories import EmployeeFactory

    EmployeeFactory(unit=vba, first_name="Liaison")  # in the director's unit, reporting to no one
    open_cycle(directive, "2026-W47")
    page = signed_in(client, user("director")).get(f"/dashboard/unit/{vba.pk}/", {"week": "2026-W47"})
    assert page.context["overall"].total == 10
    assert "Liaison" not in {row.first_name for row in page.context["people"]}


def test_the_team_download_has_the_managers_whole_reporting_line(client, answered, now_after_deadline):
    response = signed_in(client, user("director")).get("/dashboard/download/", {"scope": "mine"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    names = {row["first_name"] for row in rows}
    assert names == {"Analyst", "Chief", "Planner", "Processor", "Clerk", "Trainee", "Courier", "Typist"}
