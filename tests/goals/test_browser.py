"""In Chromium (Debian's, through Playwright): a manager creates an objective with two key results and
records a check-in; an employee links a bullet to a key result. Screenshots go to test-artifacts/."""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the fixtures make are safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def page(live_server):
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed, and CI must run the browser tests (make browser).")
        pytest.skip("needs Debian's chromium: `make browser` or `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        tab = browser.new_page()
        tab.set_default_timeout(15_000)
        yield tab
        browser.close()
        # ORM calls made while Playwright's sync API was running used their own connection (it runs
        # the test in a greenlet with its own context); close it, or it outlives the test database.
        from django.db import connections

        connections.close_all()


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")


def test_a_manager_creates_an_objective_with_two_key_results_and_checks_in(page, live_server, director, vba):
    sign_in(page, live_server, "director")
    page.goto(f"{live_server.url}/goals/units/{vba.pk}/")
    page.click("text=New objective")
    page.fill("#id_title", "Clear the compensation backlog")
    page.fill("#id_period", "2026-Q4")
    page.fill("#id_kr-0-title", "Claims decided")
    page.fill("#id_kr-0-target_value", "50000")
    page.fill("#id_kr-1-title", "Rating tool live")
    page.select_option("#id_kr-1-metric", "yes_no")
    page.fill("#id_kr-1-target_value", "1")
    page.click("text=Save objective")
    page.wait_for_selector("text=Saved VBA-1")
    value = page.locator("input[name$='-value']").first
    value.fill("12500")
    page.locator("textarea[name$='-comment']").first.fill("Overtime on weekends")
    page.locator("text=Record check-in").first.click()
    page.wait_for_selector("text=Checked in on VBA-1.1")
    assert page.locator("text=Overtime on weekends").count() == 1
    # The chart is revealed only once the vendored Chart.js has drawn it.
    assert page.locator(".goals-chart:not([hidden]) canvas").count() == 1
    page.screenshot(path=str(ARTIFACTS / "goals-manager-check-in.png"), full_page=True)


def test_an_employee_links_a_bullet_to_a_key_result(page, live_server, processor, vba_objective):
    from tests.goals.conftest import answer

    bullet = answer(processor.employee, ["Decided 40 claims"])[0]
    claims = vba_objective.key_results.get(position=1)
    sign_in(page, live_server, "processor")
    page.goto(f"{live_server.url}/report/bullets/")
    page.select_option(f"#bullet-{bullet.pk}", str(claims.pk))
    page.click("text=Save links")
    page.wait_for_selector("text=Saved 1 link")
    page.screenshot(path=str(ARTIFACTS / "goals-employee-link.png"), full_page=True)
    bullet.refresh_from_db()
    assert bullet.key_result_id == claims.pk
