"""The catalogue of service kinds is edited here; needs, providers and dispatches are read
here, scoped like everything else. Steps are taken through the board, the inbox and the API
(needs.services), never by editing a row, so each need's history stays the whole story.
Contacts and volunteers' names and phones are masked for roles without personal data."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from grids import scoping
from grids.admin import ScopedAdmin
from needs.models import Dispatch, Need, NeedEvent, Provider, ServiceKind, ServiceOffer


@admin.register(ServiceKind)
class ServiceKindAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "days_to_fulfil", "order", "active")
    list_editable = ("days_to_fulfil", "order", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")


class ReadOnlyScopedAdmin(LeafletGeoAdmin, ScopedAdmin):
    # (field, mask) shown masked to a user without personal data, in place of the field.
    masked: tuple[tuple[str, str], ...] = ()

    def has_change_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if scoping.sees_personal_data(request.user):
            return fields
        names = {name for name, _ in self.masked}
        return [f for f in fields if f not in names] + [f"masked_{n}" for n, _ in self.masked]

    def get_readonly_fields(self, request, obj=None):
        return [
            *super().get_readonly_fields(request, obj),
            *(f"masked_{n}" for n, _ in self.masked),
        ]


def _masked(name: str, mask: str, label, *, people_only: bool = False):
    """A read-only field showing `name` masked (a unit's name is no personal data)."""

    def show(self, obj):
        value = getattr(obj, name)
        if people_only and not obj.is_person:
            return value
        return scoping.MASKS[mask](value) if value else ""

    show.short_description = label
    return show


class EventInline(admin.TabularInline):
    model = NeedEvent
    fields = ("at", "action", "from_status", "to_status", "actor", "provider", "version", "comment")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class DispatchInline(admin.TabularInline):
    model = Dispatch
    fields = ("provider", "status", "dispatched_at", "respond_by", "reported_at", "hours")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Need)
class NeedAdmin(ReadOnlyScopedAdmin):
    list_display = ("number", "title", "kind", "status", "urgency", "grid", "raised_at", "overdue")
    list_filter = ("status", "kind", "urgency", "source", "overdue")
    search_fields = ("number", "title")
    list_select_related = ("kind", "grid")
    date_hierarchy = "raised_at"
    exclude = ("submitter",)
    inlines = [DispatchInline, EventInline]
    show_full_result_count = False
    masked = (("contact_name", "name"), ("contact_phone", "phone"))
    masked_contact_name = _masked("contact_name", "name", _("contact name"))
    masked_contact_phone = _masked("contact_phone", "phone", _("contact phone"))


class OfferInline(admin.TabularInline):
    model = ServiceOffer
    fields = ("kind", "description", "capacity", "radius_m", "availability", "active")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Provider)
class ProviderAdmin(ReadOnlyScopedAdmin):
    list_display = ("id", "kind", "community", "grid", "status", "registered_at")
    list_filter = ("status", "kind")
    list_select_related = ("community", "grid")
    exclude = ("submitter", "users")
    inlines = [OfferInline]
    masked = (("name", "name"), ("phone", "phone"))
    masked_name = _masked("name", "name", _("name"), people_only=True)
    masked_phone = _masked("phone", "phone", _("phone"))


@admin.register(Dispatch)
class DispatchAdmin(ReadOnlyScopedAdmin):
    list_display = ("need", "provider", "status", "dispatched_at", "respond_by", "hours")
    list_filter = ("status", "reminded")
    list_select_related = ("need", "provider")
