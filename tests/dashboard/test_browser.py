"""In Chromium (Debian's, through Playwright): a manager signs in, sees their unit's dashboard with the
trend chart drawn, and drills down to a unit below. Screenshots go to test-artifacts/."""

import os

import pytest

from tests.goals.test_browser import ARTIFACTS, sign_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_sees_their_units_dashboard_with_the_chart_and_drills_down(
    page, live_server, history, vba, compensation
):
    sign_in(page, live_server, "director")
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("h1:has-text('Compliance: Veterans Benefits Administration')")
    # The chart is revealed only once the vendored Chart.js has drawn it.
    page.wait_for_selector(".dashboard-chart:not([hidden]) canvas[data-drawn=true]")
    assert page.locator("#figures-heading").inner_text().startswith("Week 2026-W48")
    page.screenshot(path=str(ARTIFACTS / "dashboard-manager-unit.png"), full_page=True)
    page.click(f"a[href^='/dashboard/unit/{compensation.pk}/']")
    page.wait_for_selector("h1:has-text('Compliance: Compensation Service')")
    assert page.locator(".dashboard-people th[scope=row]").count() == 1  # the chief, in their own unit
    page.screenshot(path=str(ARTIFACTS / "dashboard-manager-drill-down.png"), full_page=True)
