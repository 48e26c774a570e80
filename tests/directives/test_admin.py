"""The directives and reports admin: decisions are added through the same actions as the pages (audited,
never edited), records are read-only, and reading a report's content there is audited."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lastweek.access.models import Role, Scope
from lastweek.audit.models import AuditEvent
from lastweek.directives.actions import open_cycle, set_policy
from lastweek.directives.models import Assignment, ContentSetting, Exemption, Mode, Policy
from lastweek.reports.models import Bullet, Channel, Report
from tests.factories import DirectiveFactory, EmployeeFactory, RoleGrantFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    return UserFactory(username="operator", is_staff=True, is_superuser=True)


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def directive(db):
    return DirectiveFactory()


@pytest.fixture
def cycle(directive, agency):
    unit = UnitFactory(agency=agency)
    EmployeeFactory.create_batch(3, unit=unit)
    return open_cycle(directive, "2026-W48")


def add_policy(client, directive, **fields):
    data = {"directive": directive.pk, "mode": Mode.PAUSED, "reason": "Agency review"} | fields
    return client.post("/admin/directives/policy/add/", data)


# Policies and content settings: add-only, through the actions


def test_adding_a_policy_goes_through_set_policy(operator_client, operator, directive, agency, cycle):
    response = add_policy(operator_client, directive, agency=agency.pk)
    assert response.status_code == 302
    policy = Policy.objects.get()
    assert (policy.agency, policy.mode, policy.decided_by) == (agency, Mode.PAUSED, operator)
    assert policy.applied_at is not None
    assert AuditEvent.objects.filter(action="policy.set", actor=operator, object_id=str(policy.pk)).exists()
    assert set(Assignment.objects.filter(cycle=cycle).values_list("mode", flat=True)) == {Mode.PAUSED}


def test_a_second_policy_supersedes_the_first(operator_client, directive, agency):
    add_policy(operator_client, directive, agency=agency.pk)
    add_policy(operator_client, directive, agency=agency.pk, mode=Mode.VOLUNTARY, reason="Resume")
    first, second = Policy.objects.order_by("id")
    assert second.supersedes == first


def test_a_policy_needs_exactly_one_target(operator_client, directive, agency):
    unit = UnitFactory(agency=agency)
    assert b"either an agency or a unit" in add_policy(operator_client, directive).content
    both = add_policy(operator_client, directive, agency=agency.pk, unit=unit.pk)
    assert b"either an agency or a unit" in both.content
    assert not Policy.objects.exists()


def test_a_policy_cannot_be_changed_or_deleted(operator_client, directive, agency):
    policy = set_policy(directive, agency=agency, mode=Mode.PAUSED, reason="Pause", actor=None)
    view = operator_client.get(f"/admin/directives/policy/{policy.pk}/change/")
    assert view.status_code == 200 and b'name="_save"' not in view.content
    changed = operator_client.post(
        f"/admin/directives/policy/{policy.pk}/change/",
        {"directive": directive.pk, "agency": agency.pk, "mode": Mode.REQUIRED, "reason": "Edited"},
    )
    assert changed.status_code == 403
    assert operator_client.get(f"/admin/directives/policy/{policy.pk}/delete/").status_code == 403
    assert Policy.objects.get().reason == "Pause"


def test_adding_a_content_setting_goes_through_the_action(operator_client, operator, agency):
    response = operator_client.post(
        "/admin/directives/contentsetting/add/",
        {"agency": agency.pk, "shares_text": "on", "reason": "Shared for the pilot"},
    )
    assert response.status_code == 302
    setting = ContentSetting.objects.get()
    assert (setting.shares_text, setting.decided_by) == (True, operator)
    assert AuditEvent.objects.filter(action="content.set", actor=operator).exists()


def test_adding_an_exemption_goes_through_grant_exemption(operator_client, operator, agency):
    person = EmployeeFactory(unit=UnitFactory(agency=agency))
    response = operator_client.post(
        "/admin/directives/exemption/add/",
        {"employee": person.pk, "category": "classified", "starts_on": "2026-01-01", "reason": "SCIF"},
    )
    assert response.status_code == 302
    assert Exemption.objects.get().decided_by == operator
    assert AuditEvent.objects.filter(action="exemption.grant", actor=operator).exists()


def test_exemptions_are_revoked_with_the_list_action(operator_client, operator, agency):
    person = EmployeeFactory(unit=UnitFactory(agency=agency))
    exemption = Exemption.objects.create(
        employee=person, category="other", starts_on=dt.date(2026, 1, 1), reason="x"
    )
    operator_client.post(
        "/admin/directives/exemption/", {"action": "revoke", "_selected_action": [exemption.pk]}
    )
    exemption.refresh_from_db()
    assert exemption.revoked_at is not None
    assert AuditEvent.objects.filter(action="exemption.revoke", actor=operator).exists()


# Assignments: a read-only list at any size


def test_the_assignment_list_is_read_only(operator_client, cycle):
    listing = operator_client.get("/admin/directives/assignment/")
    assert listing.status_code == 200
    assert len(listing.context["cl"].result_list) == 3
    assert b"/admin/directives/assignment/add/" not in listing.content
    assert b"delete_selected" not in listing.content
    assert operator_client.get("/admin/directives/assignment/add/").status_code == 403
    one = Assignment.objects.first()
    view = operator_client.get(f"/admin/directives/assignment/{one.pk}/change/")
    assert view.status_code == 200 and b'name="_save"' not in view.content
    assert operator_client.post(f"/admin/directives/assignment/{one.pk}/delete/").status_code == 403


def test_the_assignment_list_shows_no_full_count(operator_client, cycle):
    listing = operator_client.get("/admin/directives/assignment/", {"mode": Mode.REQUIRED})
    assert listing.context["cl"].show_full_result_count is False


def test_the_assignment_list_costs_the_same_queries_for_more_rows(operator_client, directive, agency):
    EmployeeFactory.create_batch(3, unit=UnitFactory(agency=agency))
    open_cycle(directive, "2026-W47")
    with CaptureQueriesContext(connection) as few:
        operator_client.get("/admin/directives/assignment/")
    EmployeeFactory.create_batch(20, unit=UnitFactory(agency=agency))
    open_cycle(directive, "2026-W48")
    with CaptureQueriesContext(connection) as many:
        assert operator_client.get("/admin/directives/assignment/").status_code == 200
    assert len(many) == len(few)


def test_cycles_and_request_mail_are_read_only(operator_client, cycle):
    assert operator_client.get("/admin/directives/cycle/").status_code == 200
    assert operator_client.get("/admin/directives/cycle/add/").status_code == 403
    assert operator_client.get("/admin/directives/requestmail/").status_code == 200
    assert operator_client.get("/admin/directives/requestmail/add/").status_code == 403


def test_a_directive_page_has_its_stock_answers_inline(operator_client, directive):
    page = operator_client.get(f"/admin/directives/directive/{directive.pk}/change/")
    assert page.status_code == 200 and b"stock_answers-TOTAL_FORMS" in page.content


# Reports: reading content in the admin is audited


@pytest.fixture
def report(cycle):
    assignment = Assignment.objects.select_related("employee").first()
    answer = Report.objects.create(
        assignment=assignment,
        cycle=cycle,
        employee=assignment.employee,
        channel=Channel.WEB,
        received_at=dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC),
        on_time=True,
        is_current=True,
        receipt_code="R-TEST-1",
    )
    Bullet.objects.create(report=answer, position=1, text="Closed 40 benefit claims")
    return answer


def test_a_superuser_without_a_grant_cannot_open_someones_report(operator_client, report):
    page = operator_client.get(f"/admin/reports/report/{report.pk}/change/")
    assert page.status_code == 302 and b"Closed 40" not in page.content
    assert not AuditEvent.objects.filter(action="report.read").exists()


def test_reading_a_report_in_the_admin_is_audited(operator_client, operator, report, agency):
    RoleGrantFactory(user=operator, role=Role.AGENCY_ADMIN, scope=Scope.AGENCY, agency=agency)
    page = operator_client.get(f"/admin/reports/report/{report.pk}/change/")
    assert page.status_code == 200 and b"Closed 40 benefit claims" in page.content
    event = AuditEvent.objects.get(action="report.read")
    assert (event.actor, event.object_id, event.scope) == (operator, str(report.pk), f"agency:{agency.code}")


def test_the_report_list_shows_no_content_and_is_not_audited(operator_client, report):
    listing = operator_client.get("/admin/reports/report/")
    assert listing.status_code == 200 and b"Closed 40 benefit claims" not in listing.content
    assert not AuditEvent.objects.filter(action="report.read").exists()


def test_reading_your_own_report_is_not_audited(client, report):
    author = UserFactory(username="author", is_staff=True, is_superuser=True)
    report.employee.user = author
    report.employee.save()
    client.force_login(author)
    assert client.get(f"/admin/reports/report/{report.pk}/change/").status_code == 200
    assert not AuditEvent.objects.filter(action="report.read").exists()


def test_reports_cannot_be_added_changed_or_deleted_in_the_admin(operator_client, report):
    assert operator_client.get("/admin/reports/report/add/").status_code == 403
    assert operator_client.post(f"/admin/reports/report/{report.pk}/delete/").status_code == 403
    assert operator_client.post(f"/admin/reports/report/{report.pk}/change/", {}).status_code == 403
