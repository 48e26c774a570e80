"""Admin pages: the agencies' escalation settings (set here), and the notices sent, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from lastweek.compliance.models import EscalationPolicy, Notice


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ("agency", "enabled", "grace_hours", "max_levels", "updated_at")
    list_filter = ("enabled",)
    search_fields = ("agency__code", "agency__name")
    autocomplete_fields = ("agency",)

    def save_model(self, request: HttpRequest, obj: EscalationPolicy, form, change: bool) -> None:
        from lastweek.access import audit

        super().save_model(request, obj, form, change)
        audit.record(
            request.user,
            "escalation.set",
            target=obj,
            scope=f"agency:{obj.agency.code}",
            detail={"enabled": obj.enabled, "grace_hours": obj.grace_hours, "max_levels": obj.max_levels},
        )


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("kind", "cycle", "recipient_id", "level", "state", "sent_at")
    list_filter = ("kind", "state")
    readonly_fields = [field.name for field in Notice._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
