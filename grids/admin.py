"""Django admin, scoped by the same rule as the API (grids.scoping), with Leaflet map widgets.

Boundaries are never edited in place: a changed boundary on a region or grid form goes
through the versioning service, which closes the old version, checks the tree and re-keys
households. Personal data are masked for roles that do not need them, and unmasked views are
audited.
"""

from __future__ import annotations

import copy

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.gis.forms import GeometryField
from django.contrib.gis.geos import MultiPolygon
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.forms.models import construct_instance
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin, LeafletGeoAdminMixin

from grids import scoping
from grids.admin_maps import BoundaryMapWidget, readonly_map
from grids.admin_residents import WRITERS, ResidentInline
from grids.admin_site import PermissionLabels
from grids.changes import data_changed_since
from grids.models import (
    Address,
    AuditLog,
    Building,
    Department,
    Grid,
    GridBoundary,
    Household,
    Region,
    RegionBoundary,
    Unit,
    User,
)
from grids.problems import ProblemsError
from grids.services import audit, boundaries, households


class ScopedAdmin(admin.ModelAdmin):
    """Every list and object goes through the model's visible_to(user); rights come from the
    role, not from Django's per-model permission tables."""

    writer_roles: frozenset[str] = frozenset()

    def scope(self, request, queryset):
        return queryset.visible_to(request.user)

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    def _staff(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and (user.is_superuser or user.role))

    def has_module_permission(self, request):
        return self._staff(request)

    def has_view_permission(self, request, obj=None):
        return self._staff(request)

    def has_change_permission(self, request, obj=None):
        user = request.user
        return self._staff(request) and (user.is_superuser or user.role in self.writer_roles)

    def has_add_permission(self, request):
        return self.has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # nothing in the tree is deleted; households are closed with removed_on

    # Choices in forms follow the same rule as lists: nobody can pick (or type the id of) a
    # region, grid or colleague outside their jurisdiction.
    def _scoped_choices(self, model, request):
        if model in (Region, Grid, Building, Address, Unit):
            return model.objects.visible_to(request.user)
        if model is User:
            if scoping.sees_everything(request.user):
                return User.objects.all()
            return User.objects.filter(
                Q(grid__in=Grid.objects.visible_to(request.user))
                | Q(region__in=Region.objects.visible_to(request.user))
            )
        return None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = self._scoped_choices(db_field.related_model, request)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        queryset = self._scoped_choices(db_field.related_model, request)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class _DryRun(Exception):
    pass


def dry_run(apply, *args) -> None:
    """Run a service in a transaction that is always rolled back, turning its problems into
    form errors: admin forms must refuse bad input before save_model, which cannot."""
    try:
        with transaction.atomic():
            apply(*args)
            raise _DryRun
    except _DryRun:
        pass
    except ProblemsError as exc:
        raise ValidationError([str(p) for p in exc.problems]) from exc


class BoundaryForm(forms.ModelForm):
    """A region or grid form with its current boundary on a map; a changed drawing becomes
    a new boundary version."""

    # Any geometry is accepted here so that a drawn Polygon becomes a MultiPolygon and
    # anything else gets the service's own reason, not a bare "invalid geometry type".
    boundary = GeometryField(
        label=_("boundary"), widget=BoundaryMapWidget(attrs={"geom_type": "MULTIPOLYGON"})
    )
    change_reason = forms.CharField(label=_("reason for a boundary change"), required=False)
    # The grid's version when the form was opened: a redraw saved meanwhile makes this one
    # fail clearly instead of overwriting it (decision 7).
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    apply = None  # the admin's service call, set in get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["boundary"].initial = self.instance.boundary_on()
            self.fields["expected_version"].initial = getattr(self.instance, "version", None)

    def clean_boundary(self):
        geom = self.cleaned_data["boundary"]
        if geom is not None and geom.geom_type == "Polygon":
            geom = MultiPolygon(geom, srid=geom.srid)
        return geom

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            obj = construct_instance(self, copy.copy(self.instance))
            dry_run(type(self).apply, obj, cleaned, self.instance.pk is not None)
        return cleaned


class BoundaryAdmin(LeafletGeoAdminMixin, ScopedAdmin):
    form = BoundaryForm
    writer_roles = frozenset({"administrator"})

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if self.has_change_permission(request, obj):
            return [f for f in fields if f != "boundary_map"]
        return [f for f in fields if f not in ("boundary", "change_reason", "expected_version")] + [
            "boundary_map"
        ]

    # What places a node in the tree and its lifetime change only through the versioning
    # services (redraw, split, merge), never by editing a field.
    locked_on_change: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        return ["boundary_map", *(self.locked_on_change if obj is not None else ())]

    @admin.display(description=_("boundary"))
    def boundary_map(self, obj):
        return readonly_map(f"boundary_{obj.pk}", obj.boundary_on())

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.apply = staticmethod(self.apply)
        return form

    def apply(self, obj, cleaned, change: bool) -> None:
        geom = cleaned["boundary"]
        if not change:
            obj.pk = self.create(obj, geom).pk
            return
        # Only the fields of the form: a version raised by someone else's redraw meanwhile
        # must not be written back.
        columns = {f.name for f in obj._meta.concrete_fields} - {"version"}
        fields = [name for name in cleaned if name in columns]
        if fields:
            obj.save(update_fields=fields)
        if not geom.equals_exact(obj.boundary_on(), tolerance=1e-9):
            boundaries.change_boundary(
                obj,
                geom,
                reason=cleaned.get("change_reason", ""),
                expected_version=cleaned.get("expected_version"),
            )

    def save_model(self, request, obj, form, change):
        self.apply(obj, form.cleaned_data, change)
        if not change:
            obj.refresh_from_db()


@admin.register(Region)
class RegionAdmin(BoundaryAdmin):
    list_display = ["code", "name", "level", "parent", "valid_from", "valid_to"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    fields = [
        "level",
        "code",
        "name",
        "parent",
        "valid_from",
        "valid_to",
        "boundary",
        "change_reason",
        "expected_version",
    ]
    raw_id_fields = ["parent"]
    locked_on_change = ("level", "code", "parent", "valid_from", "valid_to")

    def create(self, obj, geom):
        return boundaries.create_region(
            level=obj.level,
            code=obj.code,
            name=obj.name,
            parent=obj.parent,
            geom=geom,
            valid_from=obj.valid_from,
        )


@admin.register(Grid)
class GridAdmin(BoundaryAdmin):
    list_display = ["code", "name", "community", "theme", "colour", "leader", "valid_to"]
    list_filter = ["theme", "colour"]
    search_fields = ["code", "name"]
    fields = [
        "code",
        "name",
        "community",
        "theme",
        "colour",
        "leader",
        "workers",
        "valid_from",
        "valid_to",
        "boundary",
        "change_reason",
        "expected_version",
    ]
    raw_id_fields = ["community", "leader"]
    locked_on_change = ("code", "community", "theme", "valid_from", "valid_to")
    filter_horizontal = ["workers"]
    writer_roles = frozenset({"administrator", "community_staff", "street_centre"})

    def create(self, obj, geom):
        return boundaries.create_grid(
            code=obj.code,
            name=obj.name,
            community=obj.community,
            theme=obj.theme,
            colour=obj.colour,
            leader=obj.leader,
            geom=geom,
            valid_from=obj.valid_from,
        )


class VersionAdmin(LeafletGeoAdmin, ScopedAdmin):
    """Boundary versions are history: shown on a map, never edited here."""

    list_display = ["__str__", "valid_from", "valid_to", "reason"]
    readonly_fields = ["valid_from", "valid_to", "reason", "created_at", "boundary_map"]

    def get_fields(self, request, obj=None):
        return [
            *self.owner_fields,
            "valid_from",
            "valid_to",
            "reason",
            "created_at",
            "boundary_map",
        ]

    @admin.display(description=_("boundary"))
    def boundary_map(self, obj):
        return readonly_map(f"version_{obj.pk}", obj.geom)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(RegionBoundary)
class RegionBoundaryAdmin(VersionAdmin):
    list_display = ["region", "valid_from", "valid_to", "reason"]
    owner_fields = ["region"]

    def scope(self, request, queryset):
        return queryset.filter(region__in=Region.objects.visible_to(request.user))


@admin.register(GridBoundary)
class GridBoundaryAdmin(VersionAdmin):
    list_display = ["grid", "valid_from", "valid_to", "reason"]
    owner_fields = ["grid"]

    def scope(self, request, queryset):
        return queryset.filter(grid__in=Grid.objects.visible_to(request.user))


class HouseholdForm(forms.ModelForm):
    user = None  # set in get_form

    def clean(self):
        cleaned = super().clean()
        location = cleaned.get("location")
        if location is not None and "location" in self.changed_data:
            try:
                households.check_in_jurisdiction(self.user, households.grid_for_point(location))
            except ProblemsError as exc:
                raise ValidationError({"location": [p.message for p in exc.problems]}) from exc
        return cleaned


@admin.register(Household)
class HouseholdAdmin(LeafletGeoAdmin, ScopedAdmin):
    form = HouseholdForm
    list_display = ["address", "grid", "member_count", "registered_on", "removed_on"]
    list_filter = [("grid", admin.EmptyFieldListFilter)]
    search_fields = ["address", "client_key"]
    readonly_fields = ["grid", "member_count", "client_key"]
    fields = [
        "address",
        "location",
        "grid",
        "building",
        "standard_address",
        "client_key",
        "member_count",
        "registered_on",
        "removed_on",
    ]
    raw_id_fields = ["building", "standard_address"]
    inlines = [ResidentInline]
    writer_roles = frozenset(WRITERS)
    list_select_related = ["grid"]

    def get_fields(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return self.fields
        return [f if f != "location" else "location_map" for f in self.fields]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "location_map"]

    @admin.display(description=_("location"))
    def location_map(self, obj):
        return readonly_map(f"location_{obj.pk}", obj.location)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user
        return form

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and scoping.sees_personal_data(request.user):
            household = self.get_object(request, object_id)
            if household is not None:
                audit.log_personal_read(
                    request.user,
                    "resident",
                    household.residents.values_list("pk", flat=True),
                    channel="admin",
                    path=request.get_full_path(),
                )
        return response

    def save_model(self, request, obj, form, change):
        # The grid is read-only on the form: its value before a move, from the row.
        grid_before = (
            type(obj).objects.filter(pk=obj.pk).values_list("grid_id", flat=True).first()
            if change
            else None
        )
        if "location" in form.changed_data or not change:
            obj.grid = households.grid_for_point(obj.location)
        super().save_model(request, obj, form, change)
        # Registered or closed (removed_on) as of a past day, or either date moved: the
        # figures kept for the days since the earlier date change (sent on commit). Closing
        # a household as of a past day is the ordinary way to close one.
        days = []
        for name in ("registered_on", "removed_on"):
            before, after = (form.initial.get(name) if change else None), getattr(obj, name)
            if before != after:
                days += [day for day in (before, after) if day is not None]
        if days:
            grids = {obj.grid_id, grid_before} if change else {obj.grid_id}
            data_changed_since("households", min(days), grids=grids)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        households.refresh_member_counts([form.instance.pk])


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "district"]


@admin.register(User)
class UserAdmin(PermissionLabels, BaseUserAdmin):
    list_display = ["username", "first_name", "role", "region", "grid", "department", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    raw_id_fields = ["region", "grid", "department"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Role and jurisdiction"), {"fields": ["role", "region", "grid", "department", "phone"]}),
    ]


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "action", "model", "channel", "path"]
    list_filter = ["action", "channel"]
    readonly_fields = [f.name for f in AuditLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# People's API tokens have an admin module of their own (issue #15), and so have the rest of
# 一标三实 and their catalogues (issue #17).
from grids import admin_basedata, admin_tokens  # noqa: E402, F401
