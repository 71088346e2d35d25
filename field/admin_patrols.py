"""The admin's read-only views of what the phones pushed (issue #18): patrols with their
track on the map, and the outbox receipts (who sent what, when by the phone's clock and by
the server's). Scoped by the same rules as the API; nothing is changed or deleted here."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from field.models import OutboxReceipt, Patrol, PatrolIncident
from field.services import patrols
from grids.admin import ScopedAdmin


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PatrolIncidentInline(ReadOnly, admin.TabularInline):
    model = PatrolIncident
    fields = ("incident",)
    readonly_fields = ("incident",)
    extra = 0


@admin.register(Patrol)
class PatrolAdmin(ReadOnly, LeafletGeoAdmin, ScopedAdmin):
    list_display = ("worker", "grid", "started_at", "ended_at", "km", "hours")
    list_select_related = ("worker", "grid")
    date_hierarchy = "started_at"
    search_fields = ("worker__username", "worker__first_name", "worker__last_name")
    exclude = ("points",)
    inlines = [PatrolIncidentInline]
    show_full_result_count = False

    def scope(self, request, queryset):
        return queryset.filter(patrols.scope_q(request.user))

    @admin.display(description=_("km"), ordering="distance_m")
    def km(self, patrol):
        return round(patrol.distance_m / 1000, 2)

    @admin.display(description=_("hours"), ordering="duration_s")
    def hours(self, patrol):
        return round(patrol.duration_s / 3600, 2)


@admin.register(OutboxReceipt)
class OutboxReceiptAdmin(ReadOnly, ScopedAdmin):
    list_display = (
        "kind",
        "user",
        "device",
        "status_code",
        "target_id",
        "client_time",
        "received_at",
    )
    list_filter = ("kind", "status_code")
    list_select_related = ("user", "device")
    date_hierarchy = "received_at"
    search_fields = ("client_key", "user__username")
    show_full_result_count = False
    # The stored answer may hold a resident's record: not shown here, so the admin's reads of
    # personal data stay where they are audited (the residents' own pages).
    exclude = ("result",)

    def scope(self, request, queryset):
        # The receipts of the workers of the grids the staff member oversees.
        return queryset.filter(patrols.scope_q(request.user, "user__"))
