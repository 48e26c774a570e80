"""The audit log, on the ground floor so that every app (the roster import included) can write to it.

Every policy change and every read of someone else's report content calls `record()`; there is
deliberately no function to change or remove an event. The events themselves: `audit.models.AuditEvent`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the package itself is imported while the app registry loads
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db import models

SYSTEM = "system"


def acting_user(actor: AbstractBaseUser | AnonymousUser | None) -> AbstractBaseUser | None:
    """The signed-in user behind `actor`; None for the system (a schedule, a CLI run) or anonymous."""
    return actor if actor is not None and actor.is_authenticated else None


def record(
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    *,
    target: models.Model | None = None,
    scope: str = "",
    purpose: str = "",
    detail: dict[str, Any] | None = None,
) -> models.Model:
    """Append one event (an `AuditEvent`). `actor` None means the system itself (a scheduled job, a
    CLI run)."""
    from lastweek.audit.models import AuditEvent  # the package is imported before the app registry

    user = acting_user(actor)
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user else SYSTEM,
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        scope=scope,
        purpose=purpose,
        detail=detail or {},
    )
