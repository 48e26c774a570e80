"""reports.rules: what submit() and submit_many() both decide, as pure functions over plain facts (no
database): whether the week takes the answer, the bullets, on time or late, stock answers, which answer
counts, and receipts."""

import dataclasses
import datetime as dt
import subprocess
import sys
from functools import reduce
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from lastweek.reports.rules import (
    Receipt,
    SubmissionError,
    answer_texts,
    asked,
    check_limits,
    check_open,
    is_on_time,
    stock_answer,
    stored_receipt,
    takes_over,
)
from lastweek.reports.stock import stock_table

WEEK = "2026-W48"
# Due Monday 30 November 2026, 23:59 Eastern; the week takes answers until Friday.
DUE = dt.datetime(2026, 12, 1, 4, 59, tzinfo=dt.UTC)
CLOSES = DUE + dt.timedelta(days=4)
HOUR = dt.timedelta(hours=1)
STOCK = "All of my activities are sensitive."


def refusal(call, *args) -> SubmissionError:
    with pytest.raises(SubmissionError) as error:
        call(*args)
    return error.value


# Whether the week takes the answer.


def test_an_open_week_takes_an_answer():
    check_open(WEEK, False, CLOSES, DUE)


def test_a_week_marked_closed_takes_no_answer():
    error = refusal(check_open, WEEK, True, CLOSES, DUE)
    assert error.code == "closed"
    assert error.message == "Week 2026-W48 is closed; answers are no longer taken."


def test_past_its_closing_time_a_week_takes_no_answer_before_it_is_marked_closed():
    check_open(WEEK, False, CLOSES, CLOSES)
    assert refusal(check_open, WEEK, False, CLOSES, CLOSES + dt.timedelta(microseconds=1)).code == "closed"


def test_a_paused_or_exempt_person_is_not_asked_but_may_answer():
    # check_open has no say on the person's mode: only the week's state refuses.
    check_open(WEEK, False, CLOSES, DUE)
    assert not asked("paused") and not asked("exempt")
    assert asked("required") and asked("voluntary")


def test_the_receipt_of_an_answer_not_asked_for_says_it_never_counts():
    receipt = stored_receipt(stored(), 2)
    voluntary = dataclasses.replace(receipt, asked=False)
    assert "never counts for or against you" in voluntary.message
    assert "never counts" not in receipt.message


# The bullets.


def test_bullets_are_stripped_and_blank_ones_left_out_in_their_order():
    assert answer_texts(["  Closed 14 claims ", "", "   ", "\tTrained two staff\n"]) == [
        "Closed 14 claims",
        "Trained two staff",
    ]


@pytest.mark.parametrize("bullets", [[], ["", "   "], ["\n"]])
def test_an_answer_without_a_written_bullet_is_refused_as_empty(bullets):
    error = refusal(answer_texts, bullets)
    assert (error.code, error.field) == ("empty", "bullets")


def test_strict_refuses_more_bullets_than_the_directive_allows():
    error = refusal(check_limits, ["a", "b", "c", "d"], 3, 80, True)
    assert error.code == "too_many_bullets"
    assert error.message == "4 bullets: at most 3. Combine or remove some."


def test_strict_refuses_an_over_long_bullet_and_names_its_position():
    error = refusal(check_limits, ["ok", "x" * 81], 3, 80, True)
    assert (error.code, error.field) == ("bullet_too_long", "bullets.2")
    assert error.message == "Bullet 2 has 81 characters: at most 80. Shorten it."


def test_strict_counts_the_bullets_before_measuring_them():
    assert refusal(check_limits, ["x" * 81] * 4, 3, 80, True).code == "too_many_bullets"


def test_an_answer_at_the_limits_is_taken_and_not_flagged():
    assert check_limits(["x" * 80] * 3, 3, 80, True) is False


def test_lenient_keeps_more_bullets_than_allowed_and_flags_them():
    assert check_limits(["a", "b", "c", "d"], 3, 80, False) is True


def test_lenient_keeps_an_over_long_bullet_without_a_flag():
    assert check_limits(["x" * 500], 3, 80, False) is False


# On time or late.


def test_an_answer_received_by_the_due_time_is_on_time():
    assert is_on_time(DUE - HOUR, DUE) and is_on_time(DUE, DUE)


def test_an_answer_received_after_the_due_time_is_late():
    assert not is_on_time(DUE + dt.timedelta(microseconds=1), DUE)


def test_someone_on_leave_without_a_return_date_is_on_time_whenever_they_answer():
    assert is_on_time(CLOSES, None)


def test_the_due_time_is_one_instant_whatever_the_zone_an_answer_is_dated_in():
    honolulu = ZoneInfo("Pacific/Honolulu")  # 23:59 Eastern is 18:59 there
    assert is_on_time(dt.datetime(2026, 11, 30, 18, 59, tzinfo=honolulu), DUE)
    assert not is_on_time(dt.datetime(2026, 11, 30, 19, 0, tzinfo=honolulu), DUE)


# Stock answers.


@pytest.fixture
def table() -> dict:
    return stock_table([(7, STOCK), (8, "On leave this week.")], key=lambda answer: answer[1])


def test_a_stock_answer_is_recognised_however_it_is_typed(table):
    assert stock_answer(["  - ALL of my\u00a0activities   are sensitive!"], table) == (7, STOCK)


def test_a_stock_answer_spread_over_bullets_is_recognised(table):
    assert stock_answer(["All of my", "activities are sensitive."], table) == (7, STOCK)


def test_an_answer_that_only_begins_like_a_stock_answer_is_not_one(table):
    assert stock_answer(["All of my activities are sensitive, mostly"], table) is None


def test_under_a_directive_without_stock_answers_nothing_is_a_stock_answer():
    assert stock_answer([STOCK], {}) is None


# Which answer counts.

EARLY, LATER = DUE - 5 * HOUR, DUE - HOUR
LATE, LATER_LATE = DUE + HOUR, DUE + 5 * HOUR


def counted(*answers: tuple[bool, dt.datetime]) -> tuple[bool, dt.datetime]:
    """The answer that counts once `answers` are recorded in this order."""
    return reduce(lambda current, answer: answer if takes_over(answer, current) else current, answers, None)


def test_a_first_answer_counts():
    assert takes_over((False, LATE), None)


def test_a_later_on_time_answer_takes_over_from_an_earlier_one():
    assert takes_over((True, LATER), (True, EARLY))


def test_an_on_time_answer_recorded_after_a_newer_one_does_not_take_over():
    assert not takes_over((True, EARLY), (True, LATER))


def test_a_late_answer_never_takes_over_from_an_on_time_one():
    assert not takes_over((False, LATER_LATE), (True, EARLY))


def test_an_on_time_answer_recorded_after_a_late_one_takes_over():
    assert takes_over((True, EARLY), (False, LATE))


def test_a_late_answer_takes_over_from_an_earlier_late_one():
    assert takes_over((False, LATER_LATE), (False, LATE))


def test_of_two_answers_received_at_the_same_instant_the_one_recorded_last_counts():
    assert takes_over((True, LATER), (True, LATER))


def test_the_latest_on_time_answer_counts_whatever_the_order_they_are_recorded_in():
    answers = [(False, LATER_LATE), (True, LATER), (False, LATE), (True, EARLY)]
    assert counted(*answers) == counted(*reversed(answers)) == (True, LATER)


def test_with_no_on_time_answer_the_latest_late_one_counts():
    assert counted((False, LATER_LATE), (False, LATE)) == (False, LATER_LATE)


# Receipts.


def stored(**changes) -> SimpleNamespace:
    """A stored answer as a receipt reads it: Casey's, on time, counting, no stock answer."""
    facts = {
        "pk": 41,
        "receipt_code": "7QK2M9XR4T",
        "cycle_id": 3,
        "cycle": SimpleNamespace(week=WEEK),
        "received_at": EARLY,
        "on_time": True,
        "is_current": True,
        "stock_answer_id": None,
        "stock_answer": None,
        "exceeds_max_bullets": False,
    }
    return SimpleNamespace(**{**facts, **changes})


def test_a_stored_answers_receipt_carries_what_was_recorded():
    assert stored_receipt(stored(), 2) == Receipt(
        report_id=41,
        receipt_code="7QK2M9XR4T",
        cycle_id=3,
        week=WEEK,
        received_at=EARLY,
        on_time=True,
        is_current=True,
        bullets=2,
        stock_answer=None,
        exceeds_max_bullets=False,
    )


def test_a_receipt_handed_out_again_for_the_same_message_is_marked_duplicate():
    assert stored_receipt(stored(), 2, duplicate=True).duplicate


def test_a_receipt_names_the_stock_answer_by_its_text():
    answer = stored(stock_answer_id=7, stock_answer=SimpleNamespace(text=STOCK))
    assert stored_receipt(answer, 1).stock_answer == STOCK


def test_a_receipt_says_when_the_answer_was_on_time_and_counts():
    receipt = stored_receipt(stored(), 1)
    assert receipt.message == "Answer for 2026-W48 received on time; receipt 7QK2M9XR4T."


def test_a_late_receipt_says_an_earlier_on_time_answer_still_counts():
    receipt = stored_receipt(stored(on_time=False, is_current=False, received_at=LATE), 1)
    assert receipt.message == (
        "Answer for 2026-W48 received late; receipt 7QK2M9XR4T. An earlier on-time answer still counts."
    )


def test_the_rules_load_without_django():
    code = "import sys, lastweek.reports.rules; sys.exit('django' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
