"""Filters for OKR pages: progress as a whole percentage, and values without needless decimals."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def percent(value: float | None) -> int:
    """0.423 -> 42; None (no key results) -> 0."""
    return round(value * 100) if value is not None else 0


@register.filter
def figure(value: Decimal | float | None) -> str:
    """12500.00 -> "12,500"; 97.50 -> "97.5"."""
    if value is None:
        return ""
    number = Decimal(value)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number.normalize():,f}"
