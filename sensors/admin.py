"""Sensors in the admin, scoped like the API. Devices and types are written through the
registry services (the grid, role and coverage are computed, the schemas checked), so a
form refuses what the API would refuse. Alerts, broadcasts and coverage figures are read
here, never edited. Readings (a partitioned table with a composite key) have no admin."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from grids import scoping
from grids.admin import ScopedAdmin, dry_run, readonly_map
from sensors.models import (
    Broadcast,
    Delivery,
    Gateway,
    GridCoverage,
    Sensor,
    SensorAlert,
    SensorType,
    sensor_q,
)
from sensors.services import registry, types

SENSOR_WRITERS = frozenset(
    {"district_centre", "street_centre", "community_staff", "department", "administrator"}
)
DISTRICT_ROLES = frozenset({"district_centre", "administrator"})


def pretty_json(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


class PrettyJSONField(forms.JSONField):
    """JSON shown indented, so a schema can be read and edited by a person."""

    widget = forms.Textarea(attrs={"rows": 16, "cols": 80, "style": "font-family: monospace"})

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


# --- types ---------------------------------------------------------------------------------


class SensorTypeForm(forms.ModelForm):
    properties_schema = PrettyJSONField(label=_("properties schema (JSON Schema)"))
    readings_schema = PrettyJSONField(label=_("readings schema (JSON Schema)"))
    user = None

    class Meta:
        model = SensorType
        fields = ["code", *types.EDITABLE]

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            dry_run(apply_type, self.instance, cleaned, self.user)
        return cleaned


def apply_type(instance: SensorType, cleaned: dict, user) -> SensorType:
    fields = {name: cleaned[name] for name in types.EDITABLE if name in cleaned}
    if instance.pk is None:
        return types.create_type(code=cleaned["code"], user=user, **fields)
    return types.update_type(instance, user=user, **fields)


@admin.register(SensorType)
class SensorTypeAdmin(ScopedAdmin):
    form = SensorTypeForm
    list_display = ["code", "name", "role", "district", "builtin", "active"]
    list_filter = ["role", "builtin", "active"]
    search_fields = ["code", "name"]
    writer_roles = DISTRICT_ROLES

    def scope(self, request, queryset):
        user = request.user
        if scoping.sees_everything(user):
            return queryset
        return queryset.filter(pk__in=registry.types_for_district(scoping.user_district(user)))

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or types.may_change(obj, request.user))

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request, obj, form, change):
        saved = apply_type(obj, form.cleaned_data, request.user)
        obj.pk = saved.pk


# --- devices -------------------------------------------------------------------------------


class SensorForm(forms.ModelForm):
    properties = PrettyJSONField(label=_("properties"), required=False)
    user = None

    class Meta:
        model = Sensor
        fields = [
            "code",
            "type",
            "name",
            "location",
            "properties",
            "department",
            "gateway",
            "installed_on",
            "status",
        ]

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            dry_run(apply_sensor, self.instance, cleaned, self.user)
        return cleaned


def apply_sensor(instance: Sensor, cleaned: dict, user) -> Sensor:
    """Create or change a device through the registry; the fields it does not take (the
    department, gateway and install date of an existing device) are saved beside it."""
    if instance.pk is None:
        department = cleaned.get("department")
        sensor = registry.create_sensor(
            registry.SensorSpec(
                code=cleaned["code"],
                type=cleaned["type"].code,
                location=cleaned["location"],
                name=cleaned.get("name") or "",
                properties=cleaned.get("properties") or {},
                department=department.code if department else None,
                installed_on=cleaned.get("installed_on"),
                status=cleaned.get("status"),
            ),
            user=user,
        )
    else:
        sensor = registry.update_sensor(
            instance,
            location=cleaned.get("location"),
            properties=cleaned.get("properties") or {},
            name=cleaned.get("name") or "",
            status=cleaned.get("status"),
            user=user,
        )
        sensor.department = cleaned.get("department")
        sensor.installed_on = cleaned.get("installed_on")
    sensor.gateway = cleaned.get("gateway")
    sensor.save(update_fields=["department", "gateway", "installed_on", "updated_at"])
    return sensor


@admin.register(Sensor)
class SensorAdmin(LeafletGeoAdmin, ScopedAdmin):
    form = SensorForm
    list_display = ["code", "name", "type", "role", "status", "grid", "department", "last_seen_at"]
    list_filter = ["type", "status", "role"]
    search_fields = ["code", "name"]
    list_select_related = ["type", "grid", "department"]
    writer_roles = SENSOR_WRITERS
    computed = [
        "role",
        "grid",
        "district",
        "last_seen_at",
        "latest_json",
        "latest_at",
        "coverage_map",
        "created_at",
        "updated_at",
    ]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        user = request.user
        # A department keeps the devices it owns, not all it can see.
        if allowed and obj is not None and not user.is_superuser and user.role == "department":
            return obj.department_id == user.department_id
        return allowed

    def get_fields(self, request, obj=None):
        fields = list(SensorForm.Meta.fields)
        if obj is not None and not self.has_change_permission(request, obj):
            fields = [f if f != "location" else "location_map" for f in fields]
        return [*fields, *(self.computed if obj is not None else [])]

    def get_readonly_fields(self, request, obj=None):
        locked = ["code", "type"] if obj is not None else []
        return [*locked, "location_map", *self.computed]

    @admin.display(description=_("location"))
    def location_map(self, obj):
        return readonly_map(f"location_{obj.pk}", obj.location)

    @admin.display(description=_("coverage"))
    def coverage_map(self, obj):
        return readonly_map(f"coverage_{obj.pk}", obj.coverage) if obj.coverage else "—"

    @admin.display(description=_("latest reading"))
    def latest_json(self, obj):
        return pretty_json(obj.latest)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request, obj, form, change):
        saved = apply_sensor(obj, form.cleaned_data, request.user)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # through the API, which refuses devices with history


# --- gateways ------------------------------------------------------------------------------


@admin.register(Gateway)
class GatewayAdmin(ScopedAdmin):
    list_display = ["code", "name", "district", "department", "active", "last_seen_at"]
    list_filter = ["active"]
    search_fields = ["code", "name"]
    readonly_fields = ["token_hash", "last_seen_at", "created_at"]
    writer_roles = DISTRICT_ROLES
    actions = ["issue_tokens"]

    def scope(self, request, queryset):
        user = request.user
        if scoping.sees_everything(user):
            return queryset
        return queryset.filter(district=scoping.user_district(user))

    @admin.action(description=_("Issue a new token (shown once; the old one stops working)"))
    def issue_tokens(self, request, queryset):
        if not self.has_change_permission(request):
            return
        for gateway in queryset:
            token = registry.issue_token(gateway)
            self.message_user(
                request,
                _("Token for %(gateway)s (copy it now, it is not shown again): %(token)s")
                % {"gateway": gateway.code, "token": token},
                messages.WARNING,
            )


# --- read-only records ---------------------------------------------------------------------


class ReadOnly(ScopedAdmin):
    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(SensorAlert)
class SensorAlertAdmin(ReadOnly):
    list_display = ["started_at", "kind", "sensor", "count", "last_at", "ended_at", "incident"]
    list_filter = ["kind"]
    search_fields = ["sensor__code", "external_id"]
    list_select_related = ["sensor", "incident"]
    readonly_fields = ["details_json"]
    exclude = ["details"]

    def scope(self, request, queryset):
        return queryset.filter(sensor_q(request.user, "sensor__"))

    @admin.display(description=_("details"))
    def details_json(self, obj):
        return pretty_json(obj.details)


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ["pole", "state", "attempts", "next_attempt_at", "sent_at", "acknowledged_at"]
    readonly_fields = [*fields, "last_error"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Broadcast)
class BroadcastAdmin(ReadOnly):
    list_display = ["created_at", "message", "adapter", "created_by", "incident"]
    list_select_related = ["created_by", "incident"]
    inlines = [DeliveryInline]

    def scope(self, request, queryset):
        poles = Delivery.objects.filter(broadcast=OuterRef("pk")).filter(
            sensor_q(request.user, "pole__")
        )
        return queryset.filter(Exists(poles))


@admin.register(GridCoverage)
class GridCoverageAdmin(ReadOnly):
    list_display = ["grid", "share", "cameras", "area_m2", "covered_m2", "stale", "computed_at"]
    list_filter = ["stale"]
    list_select_related = ["grid"]

    def scope(self, request, queryset):
        return queryset.filter(scoping.grid_q(request.user, "grid__"))
