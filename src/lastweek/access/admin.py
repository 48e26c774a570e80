"""Admin pages for role grants and personal API tokens (revoke only)."""

from django.contrib import admin
from django.http import HttpRequest

from lastweek import audit
from lastweek.access.models import ApiToken, RoleGrant
from lastweek.access.tokens import revoke_token


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "scope", "agency", "unit", "granted_at", "revoked_at"]
    list_filter = ["role", "scope", "agency"]
    raw_id_fields = ["user", "unit", "granted_by"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = ["granted_at"]

    def save_model(self, request: HttpRequest, obj: RoleGrant, form, change: bool) -> None:
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)
        audit.record(
            request.user,
            "role.change" if change else "role.grant",
            target=obj,
            scope=obj.scope_label,
            detail={"user": obj.user.get_username(), "role": obj.role, "revoked": obj.revoked_at is not None},
        )

    def has_delete_permission(self, request: HttpRequest, obj: RoleGrant | None = None) -> bool:
        return False  # revoke instead, so the history of who could see what stays


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Operators see and revoke tokens; they never see a token itself (only its hash is kept) and cannot
    create one for someone else."""

    list_display = ["prefix", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["=user__username", "=prefix"]
    raw_id_fields = ["user"]
    readonly_fields = [
        "user",
        "name",
        "key_hash",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # revoke instead: the audit log keeps speaking of the token

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset) -> None:
        revoked = sum(revoke_token(token, request.user) for token in queryset)
        self.message_user(request, f"Revoked {revoked} token{'s' if revoked != 1 else ''}.")
