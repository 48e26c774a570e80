"""Who may see what: role grants with a scope, and personal API tokens. (What was done is in the
append-only audit log, `lastweek.audit`, on the floor below.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from lastweek.org.models import Agency, Unit


class Role(models.TextChoices):
    EMPLOYEE = "employee", "Employee"
    MANAGER = "manager", "Manager"
    AGENCY_ADMIN = "agency_admin", "Agency administrator"
    DIRECTIVE_OWNER = "directive_owner", "Directive owner"
    REVIEWER = "reviewer", "Reviewer"
    AUDITOR = "auditor", "Auditor"


class Scope(models.TextChoices):
    ORGANIZATION = "organization", "Whole organization"
    AGENCY = "agency", "One agency"
    UNIT = "unit", "One unit and everything below it"


class RoleGrantQuerySet(models.QuerySet["RoleGrant"]):
    def in_force(self) -> RoleGrantQuerySet:
        return self.filter(revoked_at__isnull=True)


class RoleGrant(models.Model):
    """A user holds a role over a scope. Grants are revoked, never deleted, so history stays readable."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="role_grants")
    role = models.CharField(max_length=32, choices=Role.choices)
    scope = models.CharField(max_length=16, choices=Scope.choices)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT)
    reason = models.CharField(max_length=300, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = RoleGrantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope=Scope.ORGANIZATION, agency=None, unit=None)
                    | Q(scope=Scope.AGENCY, agency__isnull=False, unit=None)
                    | Q(scope=Scope.UNIT, agency=None, unit__isnull=False)
                ),
                name="rolegrant_scope_matches_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} over {self.scope_label}"

    @property
    def scope_label(self) -> str:
        """'organization', 'agency:VA' or 'unit:123': the form audit events and the CLI use."""
        if self.scope == Scope.AGENCY:
            return f"agency:{self.agency.code}"
        if self.scope == Scope.UNIT:
            return f"unit:{self.unit_id}"
        return "organization"


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self, now) -> ApiTokenQuerySet:
        """Tokens that still sign in: not revoked and not expired at `now`."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class ApiToken(models.Model):
    """A personal API token (`Authorization: Bearer …`). Only a SHA-256 hash of the token is stored: the
    token itself is shown once, when it is created. Tokens expire and are revoked, never deleted."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'weekly script'.")
    # The token is 256 random bits, so an unsalted hash is as strong as the token; it is also what the
    # lookup on every request uses, through the unique index.
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to recognise it.")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="apitoken_user_idx")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def state(self) -> str:
        """'revoked', 'expired' or 'active', as of now."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= timezone.now() else "active"
