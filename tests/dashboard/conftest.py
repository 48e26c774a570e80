"""The compliance tests' week and people (tests/compliance/conftest.py) on the shared VA tree, with the
shared personas of tests/conftest.py (the VA agency administrator, an organization-wide auditor, an
outsider from DHS who manages someone there, and a signed-in user with no role at all)."""

import datetime as dt

import pytest

from lastweek.compliance.summaries import refresh_cycle
from lastweek.directives.actions import open_cycle
from tests.compliance.conftest import (  # noqa: F401  (fixtures)
    WEEK,
    after_deadline,
    answer,
    answered,
    cycle,
    directive,
    people,
)
from tests.goals.test_browser import page  # noqa: F401  (Chromium through Playwright)


@pytest.fixture
def history(answered, directive, people):  # noqa: F811  (fixtures imported above)
    """Two earlier weeks: in W46 everyone required answered on time; in W47 only the director did."""
    earlier = []
    for week, who in (
        ("2026-W46", ["director", "analyst", "chief", "processor", "clerk", "courier", "typist"]),
        ("2026-W47", ["director"]),
    ):
        past = open_cycle(directive, week)
        for key in who:
            answer(past, people[key])
        earlier.append(past)
    for past in [*earlier, answered]:
        refresh_cycle(past)
    return earlier


@pytest.fixture
def now_after_deadline(answered, monkeypatch):  # noqa: F811
    """The clock two hours after the week's deadline, for the pages."""
    moment = answered.deadline + dt.timedelta(hours=2)
    monkeypatch.setattr("django.utils.timezone.now", lambda: moment)
    return moment


def signed_in(client, user):
    client.force_login(user)
    return client


__all__ = ["WEEK", "signed_in"]
