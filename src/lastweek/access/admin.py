"""Admin pages for role grants and a read-only view of the audit log."""

from django.contrib import admin
from django.http import HttpRequest

from lastweek.access import audit
from lastweek.access.models import AuditEvent, RoleGrant
from lastweek.admin_pagination import EstimatedCountPaginator


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


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_name", "action", "object_type", "object_id", "scope", "purpose"]
    list_filter = ["action"]
    search_fields = ["=actor_name", "=object_id"]
    date_hierarchy = "at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
