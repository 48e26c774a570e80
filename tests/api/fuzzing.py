"""Running schemathesis against a live server, the way its command line does, and tallying what it did.

Every phase (examples, coverage, fuzzing, stateful) with every check schemathesis has, over every
operation of /api/openapi.json, with a fixed seed, deterministic generation and a bounded number of
examples per operation, on one worker: the same requests every run. Two checks of this API's own ride
along: every refusal carries a documented code, and a request the schema allows is refused with 400 only
by a rule about stored data.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from lastweek.api.errors import CODES, STORED_DATA_CODES

SEED = 21
MAX_EXAMPLES = 12
# schemathesis' own default, and 400: a request the schema allows may still break a rule about stored
# data, which the schema cannot know (a directive's limits, a key result's metric, an id that exists).
# `valid_data_refused_only_by_stored_data` below checks that those are the only 400s it meets.
VALID_DATA_STATUSES = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]


@schemathesis.check
def error_bodies_carry_a_documented_code(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every refusal of the API is {detail, field, code}, with a code of the table for its status."""
    if response.status_code < 400 or response.status_code >= 500:
        return None
    body = _json(response)
    assert isinstance(body, dict) and set(body) == {"detail", "field", "code"}, (
        f"{response.status_code} answered without the error body: {response.content[:200]!r}"
    )
    assert CODES.get(body["code"], (None,))[0] == response.status_code, (
        f"{response.status_code} answered with code {body['code']!r}, not in the table for that status"
    )
    return None


@schemathesis.check
def valid_data_refused_only_by_stored_data(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 400 to a request the schema allows names a rule about stored data: any other rule belongs in
    the schema."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 400:
        return None
    code = (_json(response) or {}).get("code")
    assert code in STORED_DATA_CODES, f"a request the schema allows was refused with 400 {code!r}"
    return None


@dataclass
class Tally:
    """What one run did: test cases, and for each check how often it ran and how often it failed."""

    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    runs: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    scenarios: Counter[str] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)

    def add(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        self.scenarios[event.phase.value] += 1
        if event.phase.value == "fuzzing" and event.status != Status.SKIP:
            self.operations.add(recorder.label)
        if event.status == Status.ERROR:
            self.failed["(errors)"] += 1
            self.messages.append(f"error: {event.phase.value} {recorder.label}")
        self.cases += len(recorder.cases)
        for interaction in recorder.interactions.values():
            if interaction.response is not None:
                self.statuses[interaction.response.status_code] += 1
        for case_id, checks in recorder.checks.items():
            for check in checks:
                self.runs[check.name] += 1
                if check.status == Status.FAILURE:
                    self.failed[check.name] += 1
                    self.messages.append(_describe(recorder, case_id, check))

    def lines(self) -> list[str]:
        return [f"{name}: {self.runs[name]} run, {self.failed[name]} failed" for name in sorted(self.runs)]


def fuzz(base_url: str, token: str | None) -> Tally:
    """Fuzz the API at `base_url` signed in with `token` (anonymously when None)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "workers": 1,
            # A new connection per request: on a kept-alive one, Django's test server answers each
            # request about 40 ms late (delayed acknowledgements), ten times the work itself.
            "headers": {"Connection": "close", **headers},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "checks": {"positive_data_acceptance": {"expected-statuses": VALID_DATA_STATUSES}},
            "output": {"sanitization": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json", config=config)
    tally = Tally()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            tally.add(event)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            tally.failed["(errors)"] += 1
            tally.messages.append(f"error: {getattr(event, 'info', None) or event}")
    return tally


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _describe(recorder: Any, case_id: str, check: Any) -> str:
    case = recorder.cases[case_id].value
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction else None
    status = response.status_code if response is not None else "-"
    body = (response.content or b"")[:300] if response is not None else b""
    failure = check.failure_info.failure if check.failure_info else None
    sent = {name: value for name, value in (case.headers or {}).items() if name != "Authorization"}
    return (
        f"{check.name}: {case.method} {case.formatted_path} query={case.query} body={case.body!r:.300}"
        f" headers={sent} -> {status} {body!r}\n    {getattr(failure, 'title', '')}: "
        f"{getattr(failure, 'message', '')}"
    )
