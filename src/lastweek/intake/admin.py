"""Received messages in the admin: the record of what arrived and what became of it, read-only.

The raw bytes are not shown (they hold report content, which is read through `access`, audited);
size and hash identify them. "Process again" re-runs parsing and attribution on the selected messages.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from lastweek.admin_pagination import EstimatedCountPaginator
from lastweek.intake.actions import process_stored
from lastweek.intake.models import InboundMessage


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "received_at", "source", "state", "reason", "kind", "attributed_by", "size"]
    list_filter = ["state", "source", "kind", "reason"]
    search_fields = ["=message_id", "=sha256"]
    date_hierarchy = "received_at"
    ordering = ["-id"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    exclude = ["raw"]
    readonly_fields = [
        "message_id",
        "sha256",
        "size",
        "source",
        "source_ref",
        "envelope_from",
        "envelope_to",
        "received_at",
        "state",
        "reason",
        "detail",
        "kind",
        "attributed_by",
        "assignment",
        "report",
        "processed_at",
    ]
    actions = ["process_again"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description="Process again (parse and attribute the stored bytes)")
    def process_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        tally = process_stored(ids=list(queryset.values_list("pk", flat=True)))
        counts = tally.counts
        self.message_user(
            request,
            f"Processed {counts['processed']}: {counts[InboundMessage.State.ATTRIBUTED]} attributed, "
            f"{counts[InboundMessage.State.QUARANTINED]} quarantined, {counts[InboundMessage.State.REFUSED]} "
            f"refused, {counts[InboundMessage.State.DUPLICATE]} duplicates.",
            messages.SUCCESS,
        )
