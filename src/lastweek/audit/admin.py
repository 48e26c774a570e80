"""A read-only view of the audit log in the admin."""

from django.contrib import admin
from django.http import HttpRequest

from lastweek.admin_pagination import EstimatedCountPaginator
from lastweek.audit.models import AuditEvent


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
