"""Objectives, key results and check-ins: alignment up the unit tree, validation, check-ins and scores."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from lastweek.audit.models import AuditEvent
from lastweek.goals import actions
from lastweek.goals.actions import OkrError, check_in, parent_chain, score_objective
from lastweek.goals.models import Metric
from tests.factories import AgencyFactory, UnitFactory
from tests.goals.conftest import key_result, objective

pytestmark = pytest.mark.django_db


def test_the_parent_chain_runs_from_a_unit_up_to_the_agency(
    compensation_objective, vba_objective, va_objective
):
    chain = parent_chain(compensation_objective)
    assert chain == [[vba_objective], [va_objective]]


def test_an_objective_may_support_key_results_of_several_higher_levels(
    compensation, vba_objective, va_objective
):
    both = [vba_objective.key_results.get(position=1), va_objective.key_results.get(position=2)]
    made = objective(compensation, title="Two parents", supports=both)
    assert set(made.supports.all()) == set(both)
    assert parent_chain(made) == [[vba_objective, va_objective]]


def test_an_objective_supporting_nothing_has_an_empty_chain(vha):
    assert parent_chain(objective(vha, title="Alone")) == []


def test_a_unit_may_skip_a_level_and_support_the_agency_directly(boston, va_objective):
    made = objective(boston, title="Skip", supports=[va_objective.key_results.first()])
    assert parent_chain(made) == [[va_objective]]


def test_supporting_a_lower_units_key_result_is_refused(vba, compensation_objective):
    with pytest.raises(OkrError, match="not above") as error:
        objective(vba, title="Upside down", supports=[compensation_objective.key_results.first()])
    assert error.value.field == "supports"


def test_supporting_a_sibling_units_key_result_is_refused(vha, vba_objective):
    with pytest.raises(OkrError, match="not above"):
        objective(vha, title="Sideways", supports=[vba_objective.key_results.first()])


def test_supporting_a_key_result_of_the_same_unit_is_refused(vba, vba_objective):
    with pytest.raises(OkrError, match="not above"):
        objective(vba, title="Level", supports=[vba_objective.key_results.first()])


def test_alignment_cannot_loop(vba_objective, compensation_objective):
    """VBA-1 is supported by CS-1; making VBA-1 support CS-1's result would close a circle."""
    with pytest.raises(OkrError):
        actions.save_objective(
            vba_objective,
            list(vba_objective.key_results.all()),
            [compensation_objective.key_results.first()],
            actor=None,
        )


def test_an_objective_cannot_support_its_own_key_result(vba_objective):
    with pytest.raises(OkrError, match="own key results"):
        actions.save_objective(
            vba_objective,
            list(vba_objective.key_results.all()),
            [vba_objective.key_results.first()],
            actor=None,
        )


def test_supporting_another_agencys_key_result_is_refused(vba):
    elsewhere = objective(agency=AgencyFactory(code="DOL"), title="Theirs")
    with pytest.raises(OkrError, match="another agency"):
        objective(vba, title="Mine", supports=[elsewhere.key_results.first()])


def test_an_agency_wide_objective_supports_nothing(agency, va_objective):
    with pytest.raises(OkrError, match="no higher level"):
        objective(agency=agency, title="Top", supports=[va_objective.key_results.first()])


def test_codes_come_from_the_unit_initials_and_count_up(vba, agency):
    first = objective(vba, title="One")
    second = objective(vba, title="Two")
    agency_wide = objective(agency=agency, title="Three")
    assert (first.code, second.code, agency_wide.code) == ("VBA-1", "VBA-2", "VA-1")


def test_a_code_is_used_once_per_agency_and_period(vba):
    objective(vba, title="One", code="X-1")
    with pytest.raises(OkrError, match="already used") as error:
        objective(vba, title="Two", code="X-1")
    assert error.value.field == "code"
    assert objective(vba, title="Next quarter", code="X-1", period="2027-Q1").code == "X-1"


def test_an_objective_needs_a_key_result(vba):
    from lastweek.goals.models import Objective

    with pytest.raises(OkrError, match="at least one key result"):
        actions.save_objective(Objective(unit=vba, period="2026-Q4", title="Empty"), [], actor=None)


def test_a_badly_written_period_is_refused(vba):
    with pytest.raises(OkrError, match="YYYY-Qn") as error:
        objective(vba, title="When?", period="Q4 2026")
    assert error.value.field == "period"


@pytest.mark.parametrize(
    ("metric", "start", "target", "reason"),
    [
        (Metric.PERCENTAGE, 0, 120, "between 0 and 100"),
        (Metric.YES_NO, 0, 5, "target is 1"),
        (Metric.MILESTONE, 0, 2.5, "number of milestones"),
    ],
)
def test_values_must_fit_the_metric(vba, metric, start, target, reason):
    with pytest.raises(OkrError, match=reason) as error:
        objective(vba, krs=[key_result("Bad", metric, start=start, target=target)])
    assert "key result 1" in error.value.message


def test_saving_again_reorders_and_removes_key_results(vba_objective):
    _first, second = vba_objective.key_results.all()
    third = key_result("Added")
    actions.save_objective(vba_objective, [second, third], actor=None)
    assert [(kr.position, kr.title) for kr in vba_objective.key_results.all()] == [
        (1, "New rating tool live"),
        (2, "Added"),
    ]


def test_saving_is_audited(vba):
    made = objective(vba, title="Audited")
    event = AuditEvent.objects.get(action="okr.create")
    assert event.object_id == str(made.pk) and event.detail["code"] == "VBA-1"


def test_a_check_in_moves_the_current_value_and_keeps_history(vba_objective, director):
    claims = vba_objective.key_results.get(position=1)
    check_in(claims, Decimal(20_000), confidence=7, comment="Overtime helped", actor=director)
    check_in(claims, Decimal(25_000), confidence=8, actor=director)
    claims.refresh_from_db()
    assert claims.current_value == 25_000
    assert claims.progress() == 0.5
    assert [entry.value for entry in claims.check_ins.all()] == [20_000, 25_000]
    assert AuditEvent.objects.filter(action="okr.check_in").count() == 2


def test_a_late_recorded_older_check_in_does_not_replace_the_current_value(vba_objective):
    claims = vba_objective.key_results.get(position=1)
    check_in(claims, Decimal(30_000), confidence=8, actor=None)
    check_in(claims, Decimal(5), confidence=8, actor=None, at=timezone.now() - dt.timedelta(days=7))
    claims.refresh_from_db()
    assert claims.current_value == 30_000


def test_a_check_in_value_must_fit_the_metric(vba_objective):
    tool = vba_objective.key_results.get(position=2)
    with pytest.raises(OkrError, match="0 \\(no\\) or 1") as error:
        check_in(tool, Decimal(3), confidence=5, actor=None)
    assert error.value.field == "value"


def test_confidence_is_one_to_ten(vba_objective):
    with pytest.raises(OkrError, match="Confidence"):
        check_in(vba_objective.key_results.first(), Decimal(1), confidence=11, actor=None)


def test_scoring_closes_the_objective_with_the_mean_of_rounded_key_result_scores(vba_objective):
    claims, tool = vba_objective.key_results.all()
    check_in(claims, Decimal(36_000), confidence=6, actor=None)  # 0.72 -> 0.7
    score_objective(vba_objective, actor=None)
    claims.refresh_from_db()
    tool.refresh_from_db()
    assert (claims.score, tool.score) == (Decimal("0.70"), Decimal("0.00"))
    assert vba_objective.score == Decimal("0.35")
    assert vba_objective.status == "closed"


def test_scores_can_be_given_by_hand_within_zero_to_one(vba_objective):
    claims, tool = vba_objective.key_results.all()
    score_objective(vba_objective, actor=None, scores={claims.pk: 0.9, tool.pk: 1.0})
    assert vba_objective.score == Decimal("0.95")
    with pytest.raises(OkrError, match=r"between 0\.0 and 1\.0"):
        score_objective(vba_objective, actor=None, scores={claims.pk: 1.5})


def test_objective_progress_is_the_mean_of_its_key_results(vba_objective, compensation_objective):
    assert vba_objective.progress() == pytest.approx((0.2 + 0.0) / 2)
    assert compensation_objective.progress() == 0.25


def test_the_agency_follows_the_unit_and_a_mismatch_fails_validation(vba):
    from django.core.exceptions import ValidationError

    from lastweek.goals.models import Objective

    foreign = UnitFactory(agency=AgencyFactory(code="DOL"))
    made = Objective(agency=vba.agency, unit=foreign, period="2026-Q4", title="Mismatch")
    with pytest.raises(ValidationError, match="another agency"):
        made.clean()
    saved = actions.save_objective(made, [key_result("R")], actor=None)
    assert saved.agency.code == "DOL"
