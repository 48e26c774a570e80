"""Reports in the admin: read-only, and every opening of someone else's report content is audited."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from lastweek import audit
from lastweek.admin_pagination import EstimatedCountPaginator
from lastweek.reports.models import Bullet, Report
from lastweek.reports.reading import report_filter


class BulletInline(admin.TabularInline):
    model = Bullet
    fields = ["position", "text"]
    readonly_fields = ["position", "text"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """The list shows no content; the bullets appear on a report's own page, which is audited."""

    list_display = ["receipt_code", "employee", "cycle", "channel", "received_at", "on_time", "is_current"]
    list_filter = ["channel", "on_time", "is_current"]
    list_select_related = ["employee", "cycle__directive"]
    raw_id_fields = ["assignment", "cycle", "employee", "submitted_by", "stock_answer"]
    search_fields = ["=receipt_code"]
    inlines = [BulletInline]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_queryset(self, request: HttpRequest):
        """Only reports within the user's scope: running the site is not a licence to read people's work."""
        return super().get_queryset(request).filter(report_filter(request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:  # shown; a missing report redirects instead
            self._record_read(request, object_id)
        return response

    def _record_read(self, request: HttpRequest, object_id: str) -> None:
        """Audit the reading of a report's content, unless it is the reader's own."""
        report = Report.objects.select_related("employee__agency").get(pk=object_id)
        if report.employee.user_id == request.user.pk:
            return
        audit.record(
            request.user,
            "report.read",
            target=report,
            scope=f"agency:{report.employee.agency.code}",
            purpose="admin",
            detail={"employee": report.employee_id, "cycle": report.cycle_id},
        )
