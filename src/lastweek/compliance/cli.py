"""What the compliance commands share: finding the cycle they were given."""

from __future__ import annotations

from django.core.management.base import CommandError

from lastweek.directives.models import Cycle


def cycle_or_error(cycle_id: int) -> Cycle:
    cycle = Cycle.objects.select_related("directive").filter(pk=cycle_id).first()
    if cycle is None:
        raise CommandError(f"No cycle {cycle_id}; `lastweek cycle list` shows them.")
    return cycle
