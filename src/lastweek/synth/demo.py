"""Building the demo world: a synthetic organization in the embedded database and logins to explore it.

Idempotent: a second run keeps the database and prints the same logins.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count

from lastweek.access.models import Role, RoleGrant, Scope
from lastweek.directives.models import ASKED_MODES
from lastweek.org.models import Agency, Employee
from lastweek.org.roster_import import import_roster
from lastweek.synth.demo_answers import answer_a_past_week
from lastweek.synth.demo_directive import build_demo_directive
from lastweek.synth.demo_history import demo_history
from lastweek.synth.demo_replies import demo_replies
from lastweek.synth.okrs import demo_okrs
from lastweek.synth.workforce import write_roster_csv

DEMO_EMPLOYEES = 2_000
DEMO_SEED = 42


@dataclass(frozen=True)
class Login:
    username: str
    role: str
    sees: str


def build_demo(employees: int = DEMO_EMPLOYEES, seed: int = DEMO_SEED, say=print) -> tuple[list[Login], str]:
    """Create (or reuse) the demo database; return the logins and their shared password."""
    call_command("migrate", interactive=False, verbosity=0)
    if not Employee.objects.exists():
        roster = Path(settings.DATA_DIR) / "demo-roster.csv"
        say(f"Generating a {employees:,}-person synthetic organization …")
        write_roster_csv(roster, employees, seed=seed)
        result = import_roster(roster)
        say(f"Imported {result.created:,} employees in {result.agencies_created} agencies.")
    cycle = build_demo_directive(say)
    demo_okrs(say)
    demo_history(cycle.directive, seed=seed, say=say)
    password = _demo_password()
    with transaction.atomic():
        logins = _demo_logins(password, cycle)
    employee = Employee.objects.filter(user__username="employee").first()
    if employee is not None:
        answer_a_past_week(employee, cycle, say)
    demo_replies(cycle, say)
    return logins, password


def _demo_password() -> str:
    """Generated once per data directory and kept beside the database (mode 600)."""
    path = Path(settings.DATA_DIR) / "demo-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def _user(username: str, password: str, **fields) -> object:
    user, _ = get_user_model().objects.get_or_create(username=username, defaults=fields)
    user.set_password(password)
    user.save()
    return user


def _grant(user, role: str, scope: str, agency: Agency | None = None) -> None:
    RoleGrant.objects.get_or_create(
        user=user, role=role, scope=scope, agency=agency, defaults={"reason": "demo"}
    )


def _demo_logins(password: str, cycle=None) -> list[Login]:
    largest = Agency.objects.annotate(size=Count("employees")).order_by("-size").first()
    admin = _user("admin", password, is_staff=True, is_superuser=True, email="admin@example.gov")
    _grant(admin, Role.AUDITOR, Scope.ORGANIZATION)
    agency_admin = _user("agency-admin", password, email="agency-admin@example.gov")
    _grant(agency_admin, Role.AGENCY_ADMIN, Scope.AGENCY, largest)
    owner = _user("directive-owner", password, email="directive-owner@example.gov")
    _grant(owner, Role.DIRECTIVE_OWNER, Scope.ORGANIZATION)
    manager = _link_manager(largest, password)
    # The employee is asked in the open week, so the demo shows the answer form at /report/.
    asked = {"assignments__cycle": cycle, "assignments__mode__in": ASKED_MODES} if cycle else {}
    report = (
        Employee.objects.filter(user__username="employee").first()
        or Employee.objects.reporting_to(manager.employee)
        .filter(user=None, direct_reports__isnull=True, **asked)
        .order_by("employee_number")
        .first()
    )
    employee = _link(report, "employee", password) if report else None
    logins = [
        Login("admin", "site administrator, organization-wide auditor", "everyone; the admin site"),
        Login("agency-admin", f"agency administrator of {largest.code}", f"everyone in {largest.code}"),
        Login(
            "directive-owner",
            "owner of the weekly directive (an office, not a person)",
            "compliance figures and exclusions; text only where an agency shares it",
        ),
        Login("manager", f"{manager.employee.title}, {manager.employee.unit}", "their reporting line"),
    ]
    if employee:
        logins.append(
            Login(
                "employee",
                f"{report.title}, in the manager's reporting line",
                "only themselves; answers at /report/",
            )
        )
    return logins


def _link_manager(agency: Agency, password: str):
    """A mid-level supervisor: two levels of people below, two levels of managers above."""
    existing = Employee.objects.filter(user__username="manager").first()
    if existing:
        return _link(existing, "manager", password)
    candidate = (
        Employee.objects.filter(
            agency=agency, manager__manager__isnull=False, direct_reports__direct_reports__isnull=False
        )
        .order_by("employee_number")
        .first()
    )
    return _link(candidate, "manager", password)


def _link(employee: Employee, username: str, password: str):
    user = _user(username, password, email=employee.email)
    if employee.user_id != user.pk:
        employee.user = user
        employee.save(update_fields=["user"])
    return user
