"""The catalogue is edited here; incidents, tasks and visits are read here, scoped like
everything else. Steps are taken through the pages and the API, never by editing a row, so
the timeline stays the whole story."""

from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from grids.admin import ScopedAdmin
from incidents.models import Category, Incident, IncidentEvent, Task, Visit, WhistleClass


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "department", "escalate_when_overdue", "active")
    list_filter = ("active", "escalate_when_overdue")
    search_fields = ("code", "name")


@admin.register(WhistleClass)
class WhistleClassAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "acknowledge_hours", "report_back_hours")


class EventInline(admin.TabularInline):
    model = IncidentEvent
    fields = ("at", "action", "from_status", "to_status", "level", "department", "actor", "comment")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnlyScopedAdmin(LeafletGeoAdmin, ScopedAdmin):
    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "id",
        "title",
        "category",
        "status",
        "level",
        "department",
        "grid",
        "reported_at",
        "step_overdue",
    )
    list_filter = ("status", "level", "priority", "source", "step_overdue")
    search_fields = ("title",)
    list_select_related = ("category", "department", "grid")
    date_hierarchy = "reported_at"
    inlines = [EventInline]
    show_full_result_count = False


@admin.register(Task)
class TaskAdmin(ScopedAdmin):
    list_display = ("title", "kind", "grid", "assignee", "due_on", "done_at")
    list_filter = ("kind",)
    list_select_related = ("grid", "assignee")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Visit)
class VisitAdmin(ReadOnlyScopedAdmin):
    list_display = ("household", "worker", "visited_at", "distance_m", "flagged")
    list_filter = ("flagged",)
    list_select_related = ("household", "worker")
