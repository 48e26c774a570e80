"""Admin pages for the roster, usable at millions of rows: no full counts, exact-match search on the
indexed columns, raw id widgets instead of 2-million-option selects."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from lastweek.admin_pagination import EstimatedCountPaginator
from lastweek.org.models import Agency, Employee, Unit


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "agency", "depth", "path"]
    list_filter = ["agency"]
    raw_id_fields = ["parent"]
    search_fields = ["name"]
    readonly_fields = ["path", "depth"]
    list_select_related = ["agency"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ["employee_number", "last_name", "first_name", "email", "agency", "unit", "status"]
    list_filter = ["status", "agency"]
    list_select_related = ["agency", "unit"]
    raw_id_fields = ["unit", "manager", "user"]
    readonly_fields = ["created_at", "updated_at"]
    search_fields = ["employee_number", "email"]
    search_help_text = "Exact employee number or email address."
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Employee], search_term: str
    ) -> tuple[QuerySet[Employee], bool]:
        """Exact matches on the unique indexes; a LIKE '%…%' over millions of rows would time out."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if "@" in term:
            return queryset.filter(email=term.lower()), False
        return queryset.filter(employee_number=term), False
