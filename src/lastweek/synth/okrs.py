"""Deterministic, mission-derived OKRs for every agency in the database and its top-level units.

The records are in the import format (goals.okr_files), so `lastweek synth okrs` either imports them or
writes them as a file. Same seed and organization, same OKRs: numbers come from a Random seeded with the
seed and the agency's code.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from lastweek.goals import progress
from lastweek.goals.actions import check_in, initials
from lastweek.goals.models import KeyResult, Objective
from lastweek.goals.okr_files import import_records
from lastweek.org.models import Agency, Unit

# (family, words in the agency's or unit's name that select it)
FAMILIES = [
    ("benefits", ("veterans", "social security", "retirement", "benefits", "pension", "railroad")),
    ("health", ("health", "medical", "medicine", "disease", "drug", "food")),
    ("inspections", ("safety", "enforcement", "regulat", "inspect", "examination", "supervision", "trade")),
    ("grants", ("grants", "housing", "development", "education", "humanities", "arts", "americorps")),
    ("research", ("research", "science", "standards", "space", "geolog", "statistics", "census")),
    ("readiness", ("army", "navy", "air force", "defense", "marine", "command", "guard")),
    ("infrastructure", ("transportation", "aviation", "engineers", "energy", "power", "park", "land")),
]
# (objective title, [(kr title, metric, start, target, unit of measure)]); numbers are scaled by the RNG.
TEMPLATES: dict[str, list[tuple[str, list[tuple[str, str, float, float, str]]]]] = {
    "benefits": [
        (
            "Decide claims faster",
            [
                ("Pending claims older than 125 days", "number", 40_000, 25_000, "claims"),
                ("Average days to a decision", "number", 140, 100, "days"),
            ],
        ),
        (
            "Pay people accurately",
            [
                ("Payment accuracy", "percentage", 94, 98, "%"),
                ("Online claim filing launched", "yes_no", 0, 1, ""),
            ],
        ),
    ],
    "health": [
        (
            "Shorten waits for care",
            [
                ("New-patient wait over 20 days", "percentage", 30, 15, "%"),
                ("Telehealth visits per week", "number", 8_000, 12_000, "visits"),
            ],
        ),
        (
            "Improve patient safety",
            [
                ("Safety reviews finished", "milestone", 0, 4, "reviews"),
                ("Patients who trust us", "percentage", 78, 85, "%"),
            ],
        ),
    ],
    "inspections": [
        (
            "Inspect where the risk is",
            [
                ("High-risk inspections completed", "number", 0, 1_200, "inspections"),
                ("Findings closed on time", "percentage", 70, 90, "%"),
            ],
        ),
        (
            "Resolve cases sooner",
            [
                ("Open cases older than a year", "number", 900, 500, "cases"),
                ("Case tracking system live", "yes_no", 0, 1, ""),
            ],
        ),
    ],
    "grants": [
        (
            "Get funds to communities on time",
            [
                ("Awards made by plan date", "percentage", 60, 90, "%"),
                ("Grants awarded", "number", 0, 2_400, "grants"),
            ],
        ),
        (
            "Simplify applying",
            [
                ("Application steps removed", "milestone", 0, 5, "steps"),
                ("Applicants satisfied", "percentage", 65, 80, "%"),
            ],
        ),
    ],
    "research": [
        (
            "Deliver research that is used",
            [
                ("Peer-reviewed publications", "number", 0, 300, "papers"),
                ("Data sets published openly", "number", 0, 40, "data sets"),
            ],
        ),
        (
            "Modernize research infrastructure",
            [
                ("Computing upgrade milestones", "milestone", 0, 4, ""),
                ("Lab downtime", "percentage", 12, 5, "%"),
            ],
        ),
    ],
    "readiness": [
        (
            "Keep equipment mission-ready",
            [
                ("Equipment readiness rate", "percentage", 72, 85, "%"),
                ("Depot maintenance backlog", "number", 1_800, 1_100, "items"),
            ],
        ),
        (
            "Support service members and families",
            [
                ("Housing work orders older than 30 days", "number", 2_500, 1_000, "orders"),
                ("Child care spaces added", "number", 0, 600, "spaces"),
            ],
        ),
    ],
    "infrastructure": [
        (
            "Build and maintain safely",
            [
                ("Projects finished on schedule", "percentage", 68, 85, "%"),
                ("Deferred maintenance backlog", "number", 5_000, 4_200, "$M"),
            ],
        ),
        (
            "Serve the public better",
            [
                ("Permits decided within 90 days", "percentage", 55, 80, "%"),
                ("Visitor information system live", "yes_no", 0, 1, ""),
            ],
        ),
    ],
    "general": [
        (
            "Run a modern, accountable agency",
            [
                ("Legacy systems retired", "milestone", 0, 3, "systems"),
                ("Audit findings closed", "percentage", 40, 80, "%"),
            ],
        ),
        (
            "Hire and keep the people the mission needs",
            [("Days to hire", "number", 101, 80, "days"), ("Positions filled", "number", 0, 250, "hires")],
        ),
    ],
}


def family_of(name: str) -> str:
    lowered = name.lower()
    for family, words in FAMILIES:
        if any(word in lowered for word in words):
            return family
    return "general"


def okr_records(seed: int = 42, period: str | None = None) -> list[dict[str, Any]]:
    """The import records for every agency in the database and its top-level units."""
    period = period or progress.period_of(timezone.localdate())
    records: list[dict[str, Any]] = []
    for agency in Agency.objects.order_by("code"):
        rng = random.Random(f"{seed}:{agency.code}:{period}")
        family = family_of(agency.name)
        if family == "general":
            family = family_of(
                " ".join(Unit.objects.filter(agency=agency, parent=None).values_list("name", flat=True))
            )
        agency_objectives = _objectives(
            rng, TEMPLATES[family], agency.code, "", period, agency.code, "Head of agency"
        )
        records.extend(agency_objectives)
        parents = [f"{record['code']}.{n}" for record in agency_objectives for n in (1, 2)]
        used = {agency.code}
        for unit in Unit.objects.filter(agency=agency, parent=None).order_by("name"):
            templates = TEMPLATES[family_of(unit.name)]
            prefix = _free_prefix(initials(unit.name), used)
            unit_records = _objectives(
                rng,
                templates[: rng.randint(1, 2)],
                prefix,
                unit.name,
                period,
                agency.code,
                "Director",
            )
            for record in unit_records:
                record["supports"] = [rng.choice(parents)]
            records.extend(unit_records)
    return records


def _free_prefix(prefix: str, used: set[str]) -> str:
    """Two units with the same initials get distinct codes: OGC, OGC2."""
    candidate, number = prefix, 1
    while candidate in used:
        number += 1
        candidate = f"{prefix}{number}"
    used.add(candidate)
    return candidate


def _objectives(rng, templates, prefix, unit, period, agency_code, owner) -> list[dict[str, Any]]:
    made = []
    for number, (title, key_results) in enumerate(templates, start=1):
        made.append(
            {
                "agency": agency_code,
                "unit": unit,
                "period": period,
                "code": f"{prefix}-{number}",
                "title": title,
                "owner_role": owner,
                "status": "active",
                "supports": [],
                "key_results": [_key_result(rng, *kr) for kr in key_results],
            }
        )
    return made


def _key_result(rng: random.Random, title: str, metric: str, start: float, target: float, unit: str):
    if metric in ("number",):
        scale = rng.choice((0.5, 0.75, 1, 1.25, 1.5))
        start, target = round(start * scale), round(target * scale)
    elif metric == "percentage":
        shift = rng.randint(-3, 3)
        start, target = max(0, start + shift), min(100, target + shift)
    return {
        "title": title,
        "metric": metric,
        "start": start,
        "target": target,
        "current": start,
        "unit_of_measure": unit,
    }


def create_okrs(seed: int = 42, period: str | None = None) -> int:
    """Import the synthetic OKRs into the database (again: updated in place); return how many objectives."""
    return len(import_records(okr_records(seed, period)).codes)


def add_check_ins(seed: int = 42, weeks: int = 4, period: str | None = None) -> int:
    """A few weeks of weekly check-ins on every key result of the period that has none yet."""
    period = period or progress.period_of(timezone.localdate())
    now = timezone.now()
    made = 0
    for key_result in (
        KeyResult.objects.filter(objective__period=period, check_ins__isnull=True)
        .select_related("objective")
        .order_by("pk")
    ):
        rng = random.Random(f"{seed}:{key_result.reference}:{period}")
        share = rng.uniform(0.1, 0.9)
        for week in range(weeks, 0, -1):
            done = share * (weeks - week + 1) / weeks
            value = _value_at(key_result, done)
            check_in(
                key_result,
                value,
                confidence=rng.randint(4, 9),
                actor=None,
                at=now - dt.timedelta(weeks=week - 1, hours=rng.randint(1, 48)),
                comment=rng.choice(("", "On track", "Slower than planned", "Staffing gap this week")),
            )
            made += 1
    return made


def _value_at(key_result: KeyResult, done: float) -> Decimal:
    start, target = float(key_result.start_value), float(key_result.target_value)
    if key_result.metric == "yes_no":
        return Decimal(1 if done > 0.8 else 0)
    if key_result.metric == "milestone":
        return Decimal(int(start + (target - start) * done))
    return Decimal(str(round(start + (target - start) * done, 2 if key_result.metric == "percentage" else 0)))


def demo_okrs(say=print) -> None:
    """OKRs and four weeks of check-ins for the demo, once."""
    period = progress.period_of(timezone.localdate())
    if not Objective.objects.filter(period=period).exists():
        say(f"Created {create_okrs(period=period)} objectives for {period}.")
    made = add_check_ins(period=period)
    if made:
        say(f"Recorded {made} check-ins.")
