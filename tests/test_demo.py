"""`lastweek demo --no-serve` builds a working demo on an empty machine, and a second run reuses it."""

import os
import sqlite3
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    """A data directory with the demo built once (each test worker builds its own)."""
    data_dir = tmp_path_factory.mktemp("demo")
    first = run_demo(data_dir)
    (data_dir / "first-run.out").write_text(first.stdout)
    assert first.returncode == 0, first.stderr
    return data_dir


def run_demo(data_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "LASTWEEK_DATA_DIR": str(data_dir), "DATABASE_URL": "", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "lastweek", "demo", "--no-serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_the_demo_builds_an_organization_and_prints_logins(demo_dir):
    output = (demo_dir / "first-run.out").read_text()
    password = (demo_dir / "demo-password").read_text().strip()
    assert password in output and "Generating" in output
    for username in ("admin", "agency-admin", "directive-owner", "manager", "employee"):
        assert username in output
    database = sqlite3.connect(demo_dir / "lastweek.sqlite3")
    employees, agencies = database.execute(
        "SELECT count(*), count(DISTINCT agency_id) FROM org_employee"
    ).fetchone()
    assert employees == 2_000
    assert 8 <= agencies <= 12
    manager_reports = database.execute(
        "SELECT count(*) FROM org_employee e JOIN auth_user u ON e.manager_id = (SELECT id FROM org_employee"
        " WHERE user_id = u.id) WHERE u.username = 'manager'"
    ).fetchone()[0]
    assert manager_reports > 0


def test_a_second_run_reuses_the_database_and_the_password(demo_dir):
    first_password = (demo_dir / "demo-password").read_text()
    run = run_demo(demo_dir)
    assert run.returncode == 0, run.stderr
    assert "Generating" not in run.stdout
    assert (demo_dir / "demo-password").read_text() == first_password


def test_the_demo_has_an_open_weekly_cycle_with_agency_decisions(demo_dir):
    database = sqlite3.connect(demo_dir / "lastweek.sqlite3")
    state, count = database.execute("SELECT state, assignment_count FROM directives_cycle").fetchone()
    assert state == "open" and count > 1_500
    modes = dict(
        database.execute("SELECT mode, count(*) FROM directives_assignment GROUP BY mode").fetchall()
    )
    assert {"required", "voluntary", "paused", "exempt"} <= set(modes)
    reasons = {row[0] for row in database.execute("SELECT reason FROM directives_policy")}
    assert any("pause" in reason for reason in reasons)


def test_the_demo_employee_is_asked_this_week_and_answered_a_past_week(demo_dir):
    database = sqlite3.connect(demo_dir / "lastweek.sqlite3")
    rows = database.execute(
        "SELECT c.state, a.mode, (SELECT count(*) FROM reports_report r WHERE r.assignment_id = a.id)"
        " FROM directives_assignment a JOIN directives_cycle c ON c.id = a.cycle_id"
        " JOIN org_employee e ON e.id = a.employee_id JOIN auth_user u ON u.id = e.user_id"
        " WHERE u.username = 'employee' ORDER BY c.week_start"
    ).fetchall()
    assert rows[-1][:2] == ("open", "required")
    assert ("closed", "required", 1) in rows


def test_the_demo_replies_arrived_through_the_smtp_server_and_became_reports(demo_dir):
    output = (demo_dir / "first-run.out").read_text()
    assert "replies through the SMTP server" in output
    database = sqlite3.connect(demo_dir / "lastweek.sqlite3")
    sources = dict(
        database.execute("SELECT source, count(*) FROM intake_inboundmessage GROUP BY source").fetchall()
    )
    assert sources == {"smtp": 36}
    reports = database.execute(
        "SELECT count(*) FROM reports_report r JOIN intake_inboundmessage m ON m.report_id = r.id"
        " WHERE r.channel = 'email'"
    ).fetchone()[0]
    assert reports > 20
