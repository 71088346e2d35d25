"""Change sets in the admin, scoped like the API (ChangeSet.objects.visible_to). They are read
here, never edited: every edit, approval and apply goes through the change-set services, which
keep the lock, the undo history, the approval trail and the grid versions straight."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from boundaries.api.serializers import RETIRING, item_action
from boundaries.models import ChangeSet, ChangeSetEvent, ChangeSetItem, ChangeSetStep
from grids.admin import ScopedAdmin


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ItemInline(ReadOnlyInline):
    model = ChangeSetItem
    fields = ["code", "name", "action", "grid", "community", "base_version"]
    verbose_name_plural = _("proposed grids")

    def get_queryset(self, request):
        # The boundaries are not shown in a table: only whether an item retires its grid.
        return (
            super()
            .get_queryset(request)
            .select_related("grid", "community")
            .defer("geom")
            .annotate(retiring=RETIRING)
        )

    @admin.display(description=_("action"))
    def action(self, item):
        return item_action(item)


class StepInline(ReadOnlyInline):
    model = ChangeSetStep
    fields = ["number", "operation", "summary", "by", "at"]
    verbose_name_plural = _("edits (undo history)")

    def get_queryset(self, request):
        # The before/after snapshots hold whole boundaries: not read for a list of edits.
        return super().get_queryset(request).select_related("by").defer("before", "after")


class EventInline(ReadOnlyInline):
    model = ChangeSetEvent
    fields = ["at", "action", "by", "comment"]
    verbose_name_plural = _("approval trail")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


@admin.register(ChangeSet)
class ChangeSetAdmin(ScopedAdmin):
    list_display = [
        "id",
        "title",
        "region",
        "kind",
        "status",
        "author",
        "lock_expires_at",
        "created_at",
        "applied_at",
    ]
    list_filter = ["status", "kind", ("region", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "region__code", "region__name", "author__username"]
    list_select_related = ["region", "author"]
    date_hierarchy = "created_at"
    fields = [
        "title",
        "region",
        "kind",
        "status",
        "author",
        "lock_expires_at",
        "valid_from",
        "position",
        "version",
        "comment",
        "reviewed_by",
        "reviewed_at",
        "submitted_at",
        "applied_by",
        "applied_at",
        "applied_summary",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [ItemInline, StepInline, EventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
