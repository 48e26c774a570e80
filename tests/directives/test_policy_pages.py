"""The agency policy page: an agency administrator sees the decisions in force and previews a new one
before saving it; no one else gets in."""

import datetime as dt
import re

import pytest
from django.contrib.messages import get_messages

from lastweek.access.models import Role, Scope
from lastweek.audit.models import AuditEvent
from lastweek.directives.actions import open_cycle, set_policy
from lastweek.directives.models import Assignment, ContentSetting, Directive, Mode, Policy
from tests.factories import DirectiveFactory, EmployeeFactory, RoleGrantFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def units(agency):
    """VA: Health Administration > Boston (3 people) and > Denver (2 people), Benefits (1 person)."""
    health = UnitFactory(agency=agency, name="Health Administration")
    boston = UnitFactory(agency=agency, parent=health, name="Boston")
    denver = UnitFactory(agency=agency, parent=health, name="Denver")
    benefits = UnitFactory(agency=agency, name="Benefits")
    EmployeeFactory.create_batch(3, unit=boston)
    EmployeeFactory.create_batch(2, unit=denver)
    EmployeeFactory(unit=benefits)
    return {"health": health, "boston": boston, "denver": denver, "benefits": benefits}


@pytest.fixture
def directive(db):
    return DirectiveFactory(title="Weekly accomplishments")


@pytest.fixture
def dhs_admin(other_agency):
    user = UserFactory(username="dhs-admin")
    RoleGrantFactory(user=user, role=Role.AGENCY_ADMIN, scope=Scope.AGENCY, agency=other_agency)
    return user


def page(client, user, code="VA"):
    client.force_login(user)
    return client.get(f"/policy/{code}/")


def decide(client, user, directive, *, action="preview", code="VA", **fields):
    client.force_login(user)
    data = {"form": "policy", "action": action, "directive": directive.pk, "target": "agency"}
    data |= {"mode": Mode.PAUSED, "reason": "Agency review under way"} | fields
    return client.post(f"/policy/{code}/", data)


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of the 'Save this decision' form, as the browser would post them back."""
    form = html[: html.index("Save this decision")]
    form = form[form.rindex("<form") :]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


# Who gets in


def test_the_agency_list_shows_the_agencies_you_administer(client, va_admin, other_agency):
    client.force_login(va_admin)
    listing = client.get("/policy/")
    assert [agency.code for agency in listing.context["agencies"]] == ["VA"]
    assert b"/policy/VA/" in listing.content


def test_an_organization_wide_admin_may_pick_any_agency(client, agency, other_agency):
    head = UserFactory(username="org-admin")
    RoleGrantFactory(user=head, role=Role.AGENCY_ADMIN, scope=Scope.ORGANIZATION)
    client.force_login(head)
    assert [a.code for a in client.get("/policy/").context["agencies"]] == ["DHS", "VA"]
    assert page(client, head, "DHS").status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, agency):
    response = client.get("/policy/VA/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_admin_of_another_agency_is_refused(client, dhs_admin, agency, directive):
    assert page(client, dhs_admin, "VA").status_code == 403
    assert decide(client, dhs_admin, directive, action="save").status_code == 403
    assert not Policy.objects.exists()


def test_an_employee_is_refused(client, units, directive):
    employee = EmployeeFactory(unit=units["benefits"], user=UserFactory(username="employee"))
    assert page(client, employee.user).status_code == 403
    assert decide(client, employee.user, directive, action="save").status_code == 403
    client.force_login(employee.user)
    assert client.get("/policy/").status_code == 403


def test_a_manager_is_refused(client, units, directive):
    manager = EmployeeFactory(unit=units["boston"], user=UserFactory(username="manager"))
    EmployeeFactory(unit=units["boston"], manager=manager)
    assert page(client, manager.user).status_code == 403
    assert decide(client, manager.user, directive, action="save").status_code == 403


def test_an_outsider_is_refused(client, agency):
    outsider = UserFactory(username="outsider")
    client.force_login(outsider)
    assert client.get("/policy/").status_code == 403
    assert page(client, outsider).status_code == 403


def test_an_unknown_agency_is_not_found(client, va_admin):
    assert page(client, va_admin, "NOPE").status_code == 404


# What the page shows


def test_decisions_in_force_are_shown_with_their_earlier_versions(client, va_admin, agency, units, directive):
    hr = UserFactory(username="hr-officer")
    set_policy(directive, agency=agency, mode=Mode.PAUSED, reason="First look", actor=hr)
    set_policy(directive, agency=agency, mode=Mode.VOLUNTARY, reason="Voluntary for now", actor=va_admin)
    set_policy(directive, unit=units["boston"], mode=Mode.EXEMPT, reason="Clinic go-live", actor=hr)
    response = page(client, va_admin)
    [section] = response.context["sections"]
    agency_decision, boston_decision = section.decisions
    assert (agency_decision.policy.reason, [p.reason for p in agency_decision.earlier]) == (
        "Voluntary for now",
        ["First look"],
    )
    assert boston_decision.target == "Health Administration › Boston"
    html = response.content.decode()
    assert "Voluntary for now" in html and "va-admin" in html and "<details>" in html


def test_a_decision_effective_later_is_listed_as_scheduled(client, va_admin, agency, directive):
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    set_policy(
        directive, agency=agency, mode=Mode.PAUSED, reason="From 2030", actor=va_admin, effective_from=later
    )
    [section] = page(client, va_admin).context["sections"]
    assert section.decisions == [] and [d.policy.reason for d in section.scheduled] == ["From 2030"]


def test_only_active_and_draft_directives_that_reach_the_agency_are_listed(client, va_admin, other_agency):
    DirectiveFactory(title="Active")
    DirectiveFactory(title="Draft", status=Directive.Status.DRAFT)
    DirectiveFactory(title="Retired", status=Directive.Status.RETIRED)
    DirectiveFactory(title="Elsewhere", whole_organization=False).audience_agencies.add(other_agency)
    titles = [s.directive.title for s in page(client, va_admin).context["sections"]]
    assert titles == ["Active", "Draft"]


def test_the_content_setting_defaults_to_staying_inside_the_agency(client, va_admin, directive):
    assert b"stays inside the agency</strong>: that is the default" in page(client, va_admin).content


def test_units_are_offered_with_their_full_path(client, va_admin, units, directive):
    choices = dict(page(client, va_admin).context["policy_form"].fields["target"].choices)
    assert choices[f"unit:{units['denver'].pk}"] == "Health Administration › Denver"


# Preview, then save


def test_preview_shows_who_would_change_and_saves_nothing(client, va_admin, units, directive):
    response = decide(client, va_admin, directive, mode=Mode.PAUSED)
    preview = response.context["preview"]
    assert preview.employees == 6
    assert preview.changes == [("Required", "Paused", 6)]
    assert dict(preview.units) == {
        "Health Administration › Boston": 3,
        "Health Administration › Denver": 2,
        "Benefits": 1,
    }
    assert b"Save this decision" in response.content
    assert not Policy.objects.exists() and not AuditEvent.objects.filter(action="policy.set").exists()


def test_preview_names_nearer_unit_decisions_that_keep_winning(client, va_admin, units, directive):
    set_policy(directive, unit=units["denver"], mode=Mode.VOLUNTARY, reason="Denver pilot", actor=va_admin)
    preview = decide(client, va_admin, directive, mode=Mode.PAUSED).context["preview"]
    assert [(label, p.reason) for label, p in preview.overridden_below] == [
        ("Health Administration › Denver", "Denver pilot")
    ]
    assert preview.employees == 4


def test_saving_the_previewed_decision_records_it_and_applies_it(client, va_admin, agency, units, directive):
    cycle = open_cycle(directive, "2026-W48")
    preview = decide(
        client, va_admin, directive, target=f"unit:{units['health'].pk}", mode=Mode.EXEMPT, reason="Go-live"
    )
    saved = client.post("/policy/VA/", hidden_fields(preview.content.decode()) | {"action": "save"})
    assert saved.status_code == 302 and saved["Location"] == "/policy/VA/"
    policy = Policy.objects.get()
    assert (policy.unit, policy.mode, policy.reason, policy.decided_by) == (
        units["health"],
        Mode.EXEMPT,
        "Go-live",
        va_admin,
    )
    assert AuditEvent.objects.filter(action="policy.set", actor=va_admin).exists()
    assert Assignment.objects.filter(cycle=cycle, mode=Mode.EXEMPT).count() == 5
    [message] = get_messages(saved.wsgi_request)
    assert "exempt for unit Health Administration" in str(message)


def test_a_unit_number_of_another_agency_is_refused(client, va_admin, other_agency, directive):
    foreign = UnitFactory(agency=other_agency)
    response = decide(client, va_admin, directive, unit=foreign.pk, action="save")
    assert response.status_code == 200
    assert f"Unit {foreign.pk} is not a unit of VA." in response.content.decode()
    assert not Policy.objects.exists()


def test_a_deep_unit_can_be_named_by_its_number(client, va_admin, units, directive):
    decide(client, va_admin, directive, unit=units["boston"].pk, action="save")
    assert Policy.objects.get().unit == units["boston"]


def test_a_reason_is_required(client, va_admin, directive):
    response = decide(client, va_admin, directive, reason="   ", action="save")
    assert "reason" in response.context["policy_form"].errors
    assert not Policy.objects.exists()


def test_a_start_in_the_past_is_refused(client, va_admin, directive):
    response = decide(client, va_admin, directive, effective_from="2020-01-01T09:00")
    assert "effective_from" in response.context["policy_form"].errors


# The content setting


def test_the_content_setting_is_saved_with_its_reason_and_audited(client, va_admin, agency, directive):
    client.force_login(va_admin)
    response = client.post(
        "/policy/VA/", {"form": "content", "shares_text": "true", "reason": "Owner reviews samples"}
    )
    assert response.status_code == 302
    setting = ContentSetting.objects.get()
    assert (setting.agency, setting.shares_text, setting.decided_by) == (agency, True, va_admin)
    assert AuditEvent.objects.filter(action="content.set", actor=va_admin).exists()
    assert b"is shared with the directive owner" in client.get("/policy/VA/").content


def test_the_content_setting_needs_a_reason(client, va_admin, directive):
    client.force_login(va_admin)
    response = client.post("/policy/VA/", {"form": "content", "shares_text": "true", "reason": ""})
    assert "reason" in response.context["content_form"].errors
    assert not ContentSetting.objects.exists()
