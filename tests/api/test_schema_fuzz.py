"""The API keeps its contract: schemathesis, every phase and every check, over every operation of
/api/openapi.json, once for each role and once signed out. An operation added to the API is fuzzed here
without anyone writing a test for it. Run with `-s` to see each role's summary."""

import logging

import pytest
from django.core.signals import request_started

from lastweek.access.models import Role
from lastweek.api.api import api
from tests.api.fuzzing import fuzz
from tests.api.world import ANONYMOUS, build_world, tokens

# Sequences reset: every role meets the same identifiers, so the same seed makes the same requests.
pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)


@pytest.fixture(autouse=True)
def quiet_server(caplog):
    """Thousands of refusals are the point here, not news: Django logs each one as a warning."""
    caplog.set_level(logging.ERROR, logger="django.request")
    caplog.set_level(logging.ERROR, logger="django.security.csrf")


class Served:
    """Counts the requests the server receives (one at a time: the fuzzer runs on one worker)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, **kwargs) -> None:
        self.count += 1


@pytest.fixture
def served():
    counter = Served()
    request_started.connect(counter, weak=False)
    yield counter
    request_started.disconnect(counter)


def operations() -> set[str]:
    paths = api.get_openapi_schema()["paths"]
    return {f"{method.upper()} {path}" for path, methods in paths.items() for method in methods}


@pytest.mark.parametrize("role", [ANONYMOUS, *Role.values])
def test_every_operation_keeps_the_contract(role, live_server, served):
    tally = fuzz(live_server.url, tokens(build_world())[role])
    print(f"\n{role}: {served.count} requests, {tally.cases} test cases, scenarios {dict(tally.scenarios)}")
    print(f"  statuses: {dict(sorted(tally.statuses.items()))}")
    print("\n".join(f"  {line}" for line in tally.lines()))
    assert tally.operations == operations(), "some operations were not fuzzed"
    assert not tally.failed, "\n".join(tally.messages[:40])
