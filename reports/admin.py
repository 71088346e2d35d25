"""The shared indicators, rules and templates are edited here as well as through the API;
ledger values are read here (they change only through the ledger, which keeps revisions)."""

from django.contrib import admin

from reports.models import (
    Indicator,
    IndicatorGroup,
    LedgerEntry,
    LedgerRevision,
    ReportRun,
    ReportTemplate,
    TemplateColumn,
    ValidationRule,
)


@admin.register(IndicatorGroup)
class IndicatorGroupAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "order")


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "unit",
        "group",
        "source",
        "value_type",
        "aggregation",
        "level",
        "period_type",
        "retired_on",
    )
    list_filter = ("source", "group", "level", "period_type", "value_type")
    search_fields = ("code", "name")
    list_select_related = ("group",)


@admin.register(ValidationRule)
class ValidationRuleAdmin(admin.ModelAdmin):
    list_display = ("code", "left", "operator", "right", "factor", "constant", "severity")
    list_select_related = ("left", "right")


class ColumnInline(admin.TabularInline):
    model = TemplateColumn
    fields = ("order", "indicator", "heading")
    autocomplete_fields = ("indicator",)
    extra = 0


@admin.register(ReportTemplate)
class ReportTemplateAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "owner", "row_level", "period_type", "due_day", "active")
    list_filter = ("active", "period_type", "row_level", "owner")
    search_fields = ("code", "title")
    inlines = [ColumnInline]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).select_related("owner")


class RevisionInline(admin.TabularInline):
    model = LedgerRevision
    fields = ("version", "number", "text", "previous_number", "previous_text", "by", "at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ("indicator", "grid", "region", "period_start", "number", "text", "version")
    list_filter = ("period_start", "indicator__group")
    list_select_related = ("indicator", "grid", "region")
    inlines = [RevisionInline]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = (
        "template",
        "period_start",
        "region",
        "format",
        "rows",
        "milliseconds",
        "by",
        "at",
    )
    list_select_related = ("template", "region", "by")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
