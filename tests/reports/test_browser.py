"""In Chromium (Debian's, through Playwright): an employee signs in, submits and edits before the deadline;
after it the answer cannot be edited and a late answer is marked late. Screenshots go to test-artifacts/."""

import datetime as dt
import os

import pytest
from django.utils import timezone

from lastweek.reports.models import Report
from tests.goals.test_browser import ARTIFACTS, page, sign_in  # noqa: F401  (the page fixture)
from tests.reports.conftest import move_deadline

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_employee_submits_and_edits_before_the_deadline(page, live_server, casey, cycle):  # noqa: F811
    sign_in(page, live_server, "casey")
    page.goto(f"{live_server.url}/report/")
    page.click("text=Answer")
    page.fill("#id_bullet_1", "Decided 40 compensation claims")
    page.fill("#id_bullet_2", "Trained a new colleague")
    page.click("text=Submit answer")
    page.wait_for_selector("text=received on time")
    page.screenshot(path=str(ARTIFACTS / "reports-submitted.png"), full_page=True)
    assert page.input_value("#id_bullet_1") == "Decided 40 compensation claims"
    page.fill("#id_bullet_2", "Trained two new colleagues")
    page.click("text=Save changes")
    page.wait_for_selector("text=Trained two new colleagues")
    current = Report.objects.get(employee=casey, is_current=True)
    assert [b.text for b in current.bullets.all()] == [
        "Decided 40 compensation claims",
        "Trained two new colleagues",
    ]
    assert Report.objects.filter(employee=casey).count() == 2


def test_after_the_deadline_the_answer_is_read_only_and_a_late_one_is_marked_late(
    page,  # noqa: F811
    live_server,
    casey,
    cycle,
):
    sign_in(page, live_server, "casey")
    page.goto(f"{live_server.url}/report/{cycle.pk}/")
    page.fill("#id_bullet_1", "Decided 40 compensation claims")
    page.click("text=Submit answer")
    page.wait_for_selector("text=received on time")
    move_deadline(cycle, timezone.now() - dt.timedelta(minutes=5))
    page.goto(f"{live_server.url}/report/{cycle.pk}/")
    page.wait_for_selector("text=can no longer be changed")
    assert page.locator("text=Save changes").count() == 0
    assert page.input_value("#id_bullet_1") == ""  # the on-time answer is not offered for editing
    page.fill("#id_bullet_1", "Filed the quarterly summary")
    page.click("text=Send late answer")
    page.wait_for_selector("text=received late")
    page.screenshot(path=str(ARTIFACTS / "reports-late.png"), full_page=True)
    late = Report.objects.get(employee=casey, on_time=False)
    assert not late.is_current
    assert page.locator(f"[data-receipt='{late.receipt_code}'] >> text=Late").count() == 1
