"""The admin of the rest of 一标三实 (issue #17): buildings, units and standard addresses on
map widgets, keyed to their grid on save as every other write path keys them; the
catalogues they refer to (resident tag kinds, unit types), which administrators extend; and
residents' new fields (grids.admin_residents). A unit's legal person and
phone are masked like residents' personal data, and unmasked views are audited."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from grids import scoping
from grids.admin import ScopedAdmin
from grids.admin_maps import readonly_map
from grids.admin_residents import WRITERS, raise_problems
from grids.models import Address, Building, ResidentTagKind, Unit, UnitType
from grids.problems import ProblemsError
from grids.services import audit, households
from grids.services.basedata import check_building, check_unit, key_point
from grids.services.basedata.keying import announce_dates

LIFETIME = ("registered_on", "removed_on")

BUILDING_FIELDS = [
    "code",
    "name",
    "use",
    "floors",
    "built_year",
    "address",
    "footprint",
    "location",
    "grid",
    "client_key",
    "registered_on",
    "removed_on",
    "updated_at",
]


UNIT_FIELDS = [
    "name",
    "type",
    "credit_code",
    "legal_person",
    "contact_phone",
    "employees",
    "address",
    "standard_address",
    "building",
    "location",
    "grid",
    "client_key",
    "registered_on",
    "removed_on",
    "updated_at",
]


ADDRESS_FIELDS = [
    "text",
    "community",
    "road",
    "number",
    "building_no",
    "unit_no",
    "room",
    "location",
    "grid",
    "building",
    "created_at",
]


# Shown, never typed: the grid comes from the point, the key from the sender.
READONLY = ("grid", "client_key", "updated_at", "created_at")


def editable(fields: list[str]) -> list[str]:
    return [name for name in fields if name not in READONLY]


class KeyedForm(forms.ModelForm):
    """A place's form: its fields checked by the service's check, and its point in the
    writer's jurisdiction (a moved point may not leave it)."""

    user = None  # set in get_form
    check = None  # the service's check(fields) -> (cleaned, problems)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        checked, problems = type(self).check(self.check_fields(cleaned))
        self.check_problems(problems)
        for name in ("location", "footprint"):
            if name in cleaned:
                cleaned[name] = checked.get(name)
        if cleaned["location"] is not None and (
            "location" in self.changed_data or "footprint" in self.changed_data
        ):
            try:
                grid = households.grid_for_point(cleaned["location"])
                households.check_in_jurisdiction(self.user, grid)
            except ProblemsError as exc:
                raise_problems(exc.problems)
        return cleaned

    def check_fields(self, cleaned) -> dict:
        return dict(cleaned)

    def check_problems(self, problems) -> None:
        # Problems of fields this form has no input for are about the others' values.
        known = set(self.fields)
        raise_problems(
            [p for p in problems if (p.field or "").split(".")[0] in known or not p.field]
        )


class KeyedAdmin(LeafletGeoAdmin, ScopedAdmin):
    writer_roles = frozenset(WRITERS)
    list_select_related = ["grid"]
    list_filter = [("grid", admin.EmptyFieldListFilter)]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user
        return form

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if self.has_change_permission(request, obj):
            return [f for f in fields if f != "location_map"]
        return [f if f != "location" else "location_map" for f in fields if f != "footprint"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "location_map"]

    @admin.display(description=_("location"))
    def location_map(self, obj):
        return readonly_map(f"location_{obj.pk}", obj.location)

    def save_model(self, request, obj, form, change):
        # Inside the admin's transaction, under the shared tree lock until it commits.
        if obj.location is not None and (
            not change or {"location", "footprint"} & set(form.changed_data)
        ):
            obj.grid = key_point(obj.location, request.user)
        super().save_model(request, obj, form, change)
        # Registered or removed as of a past day (or moved from one): the figures kept for
        # the days since change (grids.changes, sent on commit).
        before = form.initial if change else {}
        announce_dates(
            self.model._meta.model_name + "s",
            {name: before.get(name) for name in LIFETIME},
            {name: getattr(obj, name) for name in LIFETIME},
        )


class BuildingForm(KeyedForm):
    check = staticmethod(check_building)

    class Meta:
        model = Building
        fields = editable(BUILDING_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "location" in self.fields:
            # Drawn footprint alone: the point is its point on surface.
            self.fields["location"].required = False
            self.fields["location"].help_text = _(
                "left empty: a point inside the footprint is taken"
            )

    def check_fields(self, cleaned) -> dict:
        fields = dict(cleaned)
        if (
            self.instance.pk
            and "footprint" in self.changed_data
            and "location" not in self.changed_data
        ):
            fields["location"] = None  # follows the new footprint
        return fields


@admin.register(Building)
class BuildingAdmin(KeyedAdmin):
    form = BuildingForm
    list_display = ["code", "name", "use", "floors", "built_year", "grid", "removed_on"]
    list_filter = [("grid", admin.EmptyFieldListFilter), "use"]
    search_fields = ["code", "name", "address", "client_key"]
    fields = BUILDING_FIELDS
    readonly_fields = ["grid", "client_key", "updated_at"]


class UnitForm(KeyedForm):
    check = staticmethod(check_unit)

    class Meta:
        model = Unit
        fields = editable(UNIT_FIELDS)

    def check_fields(self, cleaned) -> dict:
        # A retired type stays on a unit that has it.
        return dict(cleaned)


@admin.register(Unit)
class UnitAdmin(KeyedAdmin):
    form = UnitForm
    list_display = ["name", "type", "employees", "grid", "removed_on"]
    list_filter = [("grid", admin.EmptyFieldListFilter), "type"]
    search_fields = ["name", "credit_code", "address", "client_key"]
    fields = UNIT_FIELDS
    readonly_fields = ["grid", "client_key", "updated_at"]
    raw_id_fields = ["standard_address", "building"]
    list_select_related = ["grid", "type"]
    masked = {"legal_person": scoping.mask_name, "contact_phone": scoping.mask_phone}

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if scoping.sees_personal_data(request.user):
            return fields
        return [f"masked_{f}" if f in self.masked else f for f in fields]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if scoping.sees_personal_data(request.user):
            return readonly
        return [*readonly, *(f"masked_{f}" for f in self.masked)]

    @admin.display(description=_("legal person / person in charge"))
    def masked_legal_person(self, obj):
        return scoping.mask_name(obj.legal_person)

    @admin.display(description=_("contact phone"))
    def masked_contact_phone(self, obj):
        return scoping.mask_phone(obj.contact_phone)

    def has_change_permission(self, request, obj=None):
        # Writing means seeing what is written: only roles that see personal data.
        return super().has_change_permission(request, obj) and scoping.sees_personal_data(
            request.user
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and scoping.sees_personal_data(request.user):
            unit = self.get_object(request, object_id)
            if unit is not None and (unit.legal_person or unit.contact_phone):
                audit.log_personal_read(
                    request.user, "unit", [unit.pk], channel="admin", path=request.get_full_path()
                )
        return response


class AddressForm(KeyedForm):
    class Meta:
        model = Address
        fields = editable(ADDRESS_FIELDS)

    @staticmethod
    def check(fields):
        return fields, []


@admin.register(Address)
class AddressAdmin(KeyedAdmin):
    form = AddressForm
    list_display = ["text", "community", "grid"]
    search_fields = ["text"]
    fields = ADDRESS_FIELDS
    readonly_fields = ["grid", "created_at"]
    raw_id_fields = ["building"]
    list_select_related = ["grid", "community"]


class CatalogueAdmin(ScopedAdmin):
    """Read by every staff member, extended by administrators. Entries are never deleted:
    residents and units hold their codes; an entry is retired by clearing `active`."""

    writer_roles = frozenset({"administrator"})

    def scope(self, request, queryset):
        return queryset

    def get_readonly_fields(self, request, obj=None):
        # The code is what rows hold: fixed once the entry exists.
        return ["code"] if obj is not None else []


class ResidentTagKindForm(forms.ModelForm):
    class Meta:
        model = ResidentTagKind
        fields = ["code", "name", "group", "levels", "order", "active"]

    def clean_levels(self):
        levels = self.cleaned_data.get("levels") or []
        if not isinstance(levels, list) or not all(
            isinstance(level, str) and level.strip() for level in levels
        ):
            raise ValidationError(_('a list of level names, e.g. ["一级", "二级"]'))
        if len(set(levels)) != len(levels):
            raise ValidationError(_("a level name appears twice"))
        return [level.strip() for level in levels]


@admin.register(ResidentTagKind)
class ResidentTagKindAdmin(CatalogueAdmin):
    form = ResidentTagKindForm
    list_display = ["code", "name", "group", "levels", "order", "active"]
    list_filter = ["group", "active"]
    search_fields = ["code", "name"]


@admin.register(UnitType)
class UnitTypeAdmin(CatalogueAdmin):
    list_display = ["code", "name", "parent", "order", "active"]
    list_filter = ["active", ("parent", admin.EmptyFieldListFilter)]
    search_fields = ["code", "name"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            # Two levels: a 大类 and its 小类.
            kwargs["queryset"] = UnitType.objects.filter(parent__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
