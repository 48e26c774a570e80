"""Formatting for the dashboard's figures."""

from django import template

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """0.8567 → "85.7 %"; a rate that does not exist yet (nothing due) → "—"."""
    return "—" if value is None else f"{100 * value:.1f} %"


@register.filter
def count(counts, status: str) -> int:
    return counts.by_status[status]
