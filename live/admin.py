from django.contrib import admin

from grids import scoping
from live.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The live event log, read-only, for administrators: what went out and when (an event
    carries objects of every jurisdiction, so only those who see everything see it)."""

    list_display = ("id", "kind", "at", "grid_id", "street_id", "district_id")
    list_filter = ("kind",)
    date_hierarchy = "at"
    show_full_result_count = False

    def has_module_permission(self, request):
        return scoping.sees_everything(request.user)

    def has_view_permission(self, request, obj=None):
        return scoping.sees_everything(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
