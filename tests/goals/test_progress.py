"""Progress per metric kind, objective progress, scores and periods: the pure rules of goals.progress."""

import datetime as dt
from decimal import Decimal

import pytest

from lastweek.goals import progress


@pytest.mark.parametrize(
    ("start", "target", "current", "expected"),
    [(0, 100, 0, 0.0), (0, 100, 25, 0.25), (0, 100, 100, 1.0), (0, 100, 130, 1.0), (10, 20, 5, 0.0)],
)
def test_number_progress_is_the_share_of_the_distance_covered(start, target, current, expected):
    assert progress.kr_progress("number", start, target, current) == pytest.approx(expected)


def test_a_decreasing_target_counts_reductions_as_progress():
    assert progress.kr_progress("number", 40_000, 25_000, 31_000) == pytest.approx(0.6)
    assert progress.kr_progress("number", 40_000, 25_000, 45_000) == 0.0
    assert progress.kr_progress("number", 40_000, 25_000, 20_000) == 1.0


def test_percentage_progress_is_measured_from_the_start_not_from_zero():
    assert progress.kr_progress("percentage", 70, 90, 75) == pytest.approx(0.25)


def test_decimal_values_are_accepted():
    assert progress.kr_progress("number", Decimal("0"), Decimal("8"), Decimal("2")) == 0.25


def test_a_hold_the_line_target_is_met_while_current_stays_at_or_beyond_it():
    assert progress.kr_progress("percentage", 99, 99, 99.5) == 1.0
    assert progress.kr_progress("percentage", 99, 99, 98) == 0.0


def test_yes_no_is_zero_until_done():
    assert progress.kr_progress("yes_no", 0, 1, 0) == 0.0
    assert progress.kr_progress("yes_no", 0, 1, 1) == 1.0


def test_milestone_progress_is_milestones_reached_over_planned():
    assert progress.kr_progress("milestone", 0, 4, 1) == 0.25
    assert progress.kr_progress("milestone", 1, 5, 3) == 0.5
    assert progress.kr_progress("milestone", 0, 4, 6) == 1.0


def test_an_unknown_metric_is_refused():
    with pytest.raises(ValueError, match="unknown metric"):
        progress.kr_progress("vibes", 0, 1, 1)


def test_objective_progress_is_the_mean_of_its_key_results():
    assert progress.objective_progress([1.0, 0.5, 0.0]) == pytest.approx(0.5)
    assert progress.objective_progress([]) is None


@pytest.mark.parametrize(
    ("value", "score", "band"),
    [(0.0, 0.0, "fell short"), (0.34, 0.3, "fell short"), (0.55, 0.6, "progress"), (0.72, 0.7, "delivered")],
)
def test_scores_round_to_one_decimal_with_google_style_bands(value, score, band):
    assert progress.score(value) == score
    assert progress.score_band(progress.score(value)) == band


def test_an_unscored_result_has_no_band():
    assert progress.score_band(None) == ""


def test_periods_are_calendar_quarters_or_years():
    assert progress.period_bounds("2026-Q4") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert progress.period_bounds("2026-Q1") == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert progress.period_bounds("2026") == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert progress.period_of(dt.date(2026, 11, 23)) == "2026-Q4"
    with pytest.raises(ValueError, match="YYYY-Qn"):
        progress.period_bounds("2026-Q5")


def test_expected_progress_follows_the_calendar():
    assert progress.expected_progress("2026-Q4", dt.date(2026, 12, 31)) == 1.0
    assert 0.5 < progress.expected_progress("2026-Q4", dt.date(2026, 11, 20)) < 0.6
