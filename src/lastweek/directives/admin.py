"""Admin pages for directives and their history. Policies, content settings and exemptions are added
through the same actions as everywhere else (so they are audited and reach the open cycle), never edited;
cycles, assignments and request mail are records, shown read-only."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from lastweek.admin_pagination import EstimatedCountPaginator
from lastweek.directives import actions as directive_actions
from lastweek.directives.forms import ContentSettingAdminForm, PolicyAdminForm
from lastweek.directives.models import (
    Assignment,
    ContentSetting,
    Cycle,
    Directive,
    Exemption,
    Policy,
    RequestMail,
    StockAnswer,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records to look at: no adding, changing or deleting from the admin."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class AddOnlyAdmin(admin.ModelAdmin):
    """Versioned decisions: a change is a new row, so rows are added and viewed, never edited."""

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @staticmethod
    def _take_over(obj, saved) -> None:
        """Make the admin's unsaved instance the row the action wrote, for the log and the redirect."""
        for model_field in saved._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(saved, model_field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db


class StockAnswerInline(admin.TabularInline):
    model = StockAnswer
    extra = 0


@admin.register(Directive)
class DirectiveAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "owner_agency", "default_mode", "whole_organization"]
    list_filter = ["status"]
    search_fields = ["title"]
    inlines = [StockAnswerInline]
    filter_horizontal = ["audience_agencies"]
    # An agency can have tens of thousands of units: ids, not a select of every one.
    raw_id_fields = ["audience_units"]
    readonly_fields = ["created_at"]


@admin.register(Cycle)
class CycleAdmin(ReadOnlyAdmin):
    list_display = ["directive", "week", "state", "opens_at", "deadline", "assignment_count"]
    list_filter = ["state", "directive"]
    list_select_related = ["directive"]
    search_fields = ["week"]
    ordering = ["directive", "-week_start"]


@admin.register(Policy)
class PolicyAdmin(AddOnlyAdmin):
    form = PolicyAdminForm
    list_display = ["directive", "target_label", "mode", "effective_from", "decided_by", "decided_at"]
    list_filter = ["mode", "directive"]
    list_select_related = ["directive", "agency", "unit", "decided_by"]
    raw_id_fields = ["unit", "decided_by", "supersedes"]
    readonly_fields = ["decided_by", "decided_at", "supersedes", "applied_at"]

    def get_fields(self, request: HttpRequest, obj: Policy | None = None) -> list[str]:
        if obj is None:
            return list(PolicyAdminForm.Meta.fields)
        return [*PolicyAdminForm.Meta.fields, *self.readonly_fields]

    @admin.display(description="Applies to")
    def target_label(self, policy: Policy) -> str:
        return policy.target_label

    def save_model(self, request: HttpRequest, obj: Policy, form, change: bool) -> None:
        """A new version through `set_policy`: audited, superseding the previous one, applied to the
        open cycle."""
        saved = directive_actions.set_policy(
            obj.directive,
            agency=obj.agency,
            unit=obj.unit,
            mode=obj.mode,
            reason=obj.reason,
            actor=request.user,
            effective_from=form.cleaned_data.get("effective_from"),
        )
        self._take_over(obj, saved)


@admin.register(ContentSetting)
class ContentSettingAdmin(AddOnlyAdmin):
    form = ContentSettingAdminForm
    list_display = ["agency", "shares_text", "decided_by", "decided_at"]
    list_filter = ["shares_text"]
    list_select_related = ["agency", "decided_by"]
    readonly_fields = ["decided_by", "decided_at"]

    def get_fields(self, request: HttpRequest, obj: ContentSetting | None = None) -> list[str]:
        if obj is None:
            return list(ContentSettingAdminForm.Meta.fields)
        return [*ContentSettingAdminForm.Meta.fields, *self.readonly_fields]

    def save_model(self, request: HttpRequest, obj: ContentSetting, form, change: bool) -> None:
        saved = directive_actions.set_content_setting(
            obj.agency, shares_text=obj.shares_text, reason=obj.reason, actor=request.user
        )
        self._take_over(obj, saved)


@admin.register(Exemption)
class ExemptionAdmin(AddOnlyAdmin):
    """Granted through `grant_exemption`, ended through the revoke action; never edited."""

    list_display = ["employee", "category", "directive", "starts_on", "ends_on", "revoked_at"]
    list_filter = ["category", "directive"]
    list_select_related = ["employee", "directive"]
    raw_id_fields = ["employee", "decided_by"]
    readonly_fields = ["decided_by", "decided_at", "revoked_at"]
    fields = ["employee", "directive", "category", "starts_on", "ends_on", "reason"]
    actions = ["revoke"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_fields(self, request: HttpRequest, obj: Exemption | None = None) -> list[str]:
        return self.fields if obj is None else [*self.fields, *self.readonly_fields]

    def save_model(self, request: HttpRequest, obj: Exemption, form, change: bool) -> None:
        saved = directive_actions.grant_exemption(
            obj.employee,
            category=obj.category,
            starts_on=obj.starts_on,
            ends_on=obj.ends_on,
            reason=obj.reason,
            directive=obj.directive,
            actor=request.user,
        )
        self._take_over(obj, saved)

    @admin.action(description="Revoke the selected exemptions", permissions=["add"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Exemption]) -> None:
        revoked = 0
        for exemption in queryset.filter(revoked_at=None).select_related("employee"):
            directive_actions.revoke_exemption(exemption, actor=request.user)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} exemption(s).", messages.SUCCESS)


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    """Millions of rows per cycle: filters on indexed columns, no full count, ids instead of selects."""

    list_display = ["employee", "cycle", "agency", "mode", "source", "on_leave", "due_at", "changed_at"]
    list_filter = ["mode", "source", "on_leave"]
    list_select_related = ["employee", "cycle__directive", "agency"]
    raw_id_fields = ["cycle", "employee", "agency", "unit", "manager", "policy", "exemption"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(RequestMail)
class RequestMailAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "cycle", "state", "attempts", "claimed_at", "sent_at"]
    list_filter = ["state"]
    list_select_related = ["cycle__directive"]
    raw_id_fields = ["assignment", "cycle"]
    search_fields = ["=message_id", "=verify_code"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
