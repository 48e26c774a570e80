"""The employee page: the week's question, answering, editing until the deadline, late answers after it,
past weeks with receipts, and nobody else's answers."""

import datetime as dt

import pytest
from django.utils import timezone

from lastweek.directives.actions import close_cycle, grant_exemption, open_cycle
from lastweek.reports import submit
from lastweek.reports.models import Report
from tests.reports.conftest import STOCK, assignment, move_deadline

pytestmark = pytest.mark.django_db


def answer_form(client, cycle, *bullets, **extra):
    data = {f"bullet_{n}": text for n, text in enumerate(bullets, start=1)} | extra
    return client.post(f"/report/{cycle.pk}/", data)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/report/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_page_shows_the_weeks_question_and_the_persons_due_time(client, casey, cycle):
    client.force_login(casey.user)
    page = client.get("/report/").content.decode()
    assert cycle.directive.question in page and "Due by" in page
    assert f"/report/{cycle.pk}/" in page


def test_the_form_offers_the_directives_maximum_of_bullets_and_its_stock_answer(client, casey, cycle):
    client.force_login(casey.user)
    page = client.get(f"/report/{cycle.pk}/")
    fields = [name for name in page.context["form"].fields if name.startswith("bullet_")]
    assert fields == ["bullet_1", "bullet_2", "bullet_3"]
    assert STOCK in page.content.decode()


def test_an_employee_submits_and_gets_a_receipt(client, casey, cycle):
    client.force_login(casey.user)
    response = answer_form(client, cycle, "Decided 40 claims", "", "Trained a new colleague")
    assert response.status_code == 302
    report = Report.objects.get(employee=casey)
    assert [b.text for b in report.bullets.all()] == ["Decided 40 claims", "Trained a new colleague"]
    assert report.channel == "web" and report.on_time and report.submitted_by == casey.user
    page = client.get(response["Location"]).content.decode()
    assert report.receipt_code in page and "received on time" in page


def test_editing_before_the_deadline_sends_a_new_answer_that_counts(client, casey, cycle):
    client.force_login(casey.user)
    answer_form(client, cycle, "Draft")
    page = client.get(f"/report/{cycle.pk}/")
    assert page.context["form"]["bullet_1"].value() == "Draft"  # prefilled with the current answer
    answer_form(client, cycle, "Final")
    reports = Report.objects.filter(employee=casey).order_by("received_at", "id")
    assert [(r.bullets.get().text, r.is_current) for r in reports] == [("Draft", False), ("Final", True)]


def test_the_same_form_posted_twice_is_stored_once(client, casey, cycle):
    client.force_login(casey.user)
    key = "0b7f3c1e-8c4a-4d7e-9a61-2f5d3b9e6c10"
    answer_form(client, cycle, "Decided 40 claims", submission_key=key)
    answer_form(client, cycle, "Decided 40 claims", submission_key=key)
    assert Report.objects.filter(employee=casey).count() == 1


def test_an_over_long_bullet_is_refused_next_to_its_box_and_nothing_is_stored(client, casey, cycle):
    client.force_login(casey.user)
    response = answer_form(client, cycle, "", "Fine", "x" * 81)
    assert response.status_code == 400
    form = response.context["form"]
    # The third box was the second filled one: submit() called it bullets.2.
    assert "at most 80" in form.errors["bullet_3"][0] and "bullet_2" not in form.errors
    assert form["bullet_2"].value() == "Fine"  # nothing typed is lost
    assert not Report.objects.exists()


def test_an_empty_answer_is_refused_above_the_form(client, casey, cycle):
    client.force_login(casey.user)
    response = answer_form(client, cycle, "  ", "")
    assert response.status_code == 400
    assert "write at least one bullet" in response.context["form"].non_field_errors()[0]


def test_a_stock_answer_is_one_click(client, casey, cycle):
    client.force_login(casey.user)
    stock = cycle.directive.stock_answers.get()
    answer_form(client, cycle, "ignored text", stock_answer=str(stock.pk))
    report = Report.objects.get(employee=casey)
    assert report.stock_answer == stock and report.bullets.get().text == STOCK


def test_after_the_deadline_the_on_time_answer_is_read_only_and_a_late_one_is_marked_late(
    client, casey, cycle
):
    client.force_login(casey.user)
    answer_form(client, cycle, "On time")
    move_deadline(cycle, timezone.now() - dt.timedelta(minutes=1))
    page = client.get(f"/report/{cycle.pk}/")
    assert page.context["week"].can_answer_late and not page.context["week"].can_edit
    assert page.context["form"]["bullet_1"].value() in (None, "")  # not prefilled: a new, late answer
    assert "can no longer be changed" in page.content.decode()
    answer_form(client, cycle, "Afterthought")
    late = Report.objects.get(employee=casey, on_time=False)
    assert not late.is_current and Report.objects.get(employee=casey, is_current=True).on_time
    assert "Late" in client.get(f"/report/{cycle.pk}/").content.decode()


def test_a_closed_week_takes_no_answer_from_the_page(client, casey, cycle):
    close_cycle(cycle)
    client.force_login(casey.user)
    response = answer_form(client, cycle, "Too late")
    assert response.status_code == 302 and not Report.objects.exists()
    assert "is closed" in client.get(response["Location"]).content.decode()


def test_a_paused_employee_sees_why_and_that_an_answer_would_be_voluntary(client, pat, cycle):
    client.force_login(pat.user)
    page = client.get(f"/report/{cycle.pk}/").content.decode()
    assert "paused this request" in page and "Pending a legal review." in page
    assert "never counts for or against you" in page and "Submit answer" in page


def test_a_paused_employees_answer_is_kept_as_a_voluntary_one_as_by_the_api(client, pat, cycle):
    client.force_login(pat.user)
    response = answer_form(client, cycle, "Work")
    assert response.status_code == 302 and Report.objects.filter(employee=pat).count() == 1
    assert "never counts for or against you" in client.get(response["Location"]).content.decode()


def test_an_exempt_employee_sees_the_exemptions_reason(client, directive, casey, morgan):
    grant_exemption(
        casey,
        category="classified",
        starts_on=dt.date(2026, 1, 1),
        ends_on=None,
        reason="Assigned to classified duties",
        actor=None,
    )
    exempt_week = open_cycle(directive, "2026-W49")
    client.force_login(casey.user)
    page = client.get(f"/report/{exempt_week.pk}/").content.decode()
    assert "You are excused this week" in page and "Assigned to classified duties" in page


def test_someone_back_from_leave_sees_their_own_due_time(client, directive, casey, morgan):
    grant_exemption(
        casey,
        category="leave",
        starts_on=dt.date(2026, 11, 20),
        ends_on=dt.date(2026, 12, 2),
        reason="Annual leave",
        actor=None,
    )
    week = open_cycle(directive, "2026-W48")
    client.force_login(casey.user)
    page = client.get(f"/report/{week.pk}/").content.decode()
    assert "your own due time, after your leave" in page


def test_past_weeks_list_every_receipt(client, casey, cycle):
    sent = submit(assignment(cycle, casey), ["Decided 40 claims"], channel="email", source_id="<m@x>")
    close_cycle(cycle)
    client.force_login(casey.user)
    page = client.get("/report/")
    assert [week.cycle for week in page.context["past_weeks"]] == [cycle]
    assert sent.receipt_code in page.content.decode()


def test_the_page_links_to_the_key_result_linking_page(client, casey, cycle):
    client.force_login(casey.user)
    assert "/report/bullets/" in client.get("/report/").content.decode()


def test_a_manager_sees_only_their_own_answers_not_their_reports(client, casey, morgan, cycle):
    theirs = submit(assignment(cycle, casey), ["Casey's private work"], channel="web")
    client.force_login(morgan.user)
    page = client.get("/report/").content.decode() + client.get(f"/report/{cycle.pk}/").content.decode()
    assert "Casey's private work" not in page and theirs.receipt_code not in page


def test_an_outsider_cannot_open_a_week_they_are_not_in(client, outsider, cycle, directive):
    other = open_cycle(directive, "2026-W47")
    client.force_login(outsider.user)
    other.assignments.filter(employee=outsider).delete()
    assert client.get(f"/report/{other.pk}/").status_code == 404


def test_an_account_without_a_roster_entry_is_told_so(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("operator"))
    assert "not linked to anyone on the roster" in client.get("/report/").content.decode()


def test_the_page_is_read_in_a_fixed_number_of_queries(
    client, casey, cycle, directive, django_assert_max_num_queries
):
    for week in ("2026-W45", "2026-W46", "2026-W47"):
        past = open_cycle(directive, week)
        for text in ("First", "Second"):
            answered = past.deadline - dt.timedelta(hours=1)
            submit(assignment(past, casey), [text, "More"], channel="web", received_at=answered)
        close_cycle(past)
    submit(assignment(cycle, casey), ["Now"], channel="web")
    client.force_login(casey.user)
    # Session, user, roster entry, the access checks (grants, employee, owner offices), assignments,
    # stock answers, reports, bullets: the same for one week or twenty-six.
    with django_assert_max_num_queries(10):
        assert client.get("/report/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/report/{cycle.pk}/").status_code == 200


def test_the_site_navigation_leads_to_the_page(client, casey, cycle):
    client.force_login(casey.user)
    navigation = client.get("/").content.decode().split('aria-label="Site"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/report/"' in navigation and 'href="/tokens/"' in navigation
