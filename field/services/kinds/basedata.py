"""一标三实 from the phone: households, residents, buildings and units created or edited in
the worker's grid. Each item is checked by the main API's own serializer (the phone's flat
`lon`/`lat` and `<name>_id` made into what the API reads) and written by the grids services
the API calls, so every rule is theirs: the point keyed to its grid under the tree lock, the
jurisdiction, tags, codes, masks.

Edits lock in the order a boundary change takes them (the shared tree lock, then the row),
compare the item's base_version with the locked row's version (409 with the current record
when someone changed it since the phone's sync), then write."""

from __future__ import annotations

from django.utils.translation import gettext as _

from field.services import versions
from field.services.kinds import records
from field.services.kinds.base import (
    Applied,
    Context,
    check_version,
    kind,
    locked,
    not_found,
    refused,
    target_id,
    validated,
    whole_number,
)
from grids import scoping, sql
from grids.api.basedata_serializers import BuildingSerializer, UnitSerializer
from grids.api.serializers import HouseholdSerializer, ResidentSerializer
from grids.changes import data_changed_since
from grids.models import Building, Household, Resident, Unit
from grids.services import basedata, households
from grids.services.basedata import TagCatalogue
from grids.services.imports.people import check_id_number
from grids.signals import announce

# What the phone may send for each kind: the API's field names, and the `<name>_id` the
# working set's records use for a related row.
HOUSEHOLD_FIELDS = {"address", "registered_on", "building", "standard_address"}
BUILDING_FIELDS = {"code", "name", "floors", "use", "built_year", "address"}
UNIT_FIELDS = {
    "name",
    "type",
    "credit_code",
    "legal_person",
    "contact_phone",
    "employees",
    "address",
    "building",
    "standard_address",
}
RESIDENT_FIELDS = {
    "name",
    "id_number",
    "phone",
    "birth_date",
    "sex",
    "registration",
    "residence_since",
    "origin",
    "relation",
    "tags",
    "tag_levels",
}
POINT = {"lon", "lat"}


def _fields(data: dict, allowed: set[str], *, point: bool) -> dict:
    """The item's data under the API's names; a member the API would not take is refused by
    name (the API's serializer would drop it silently, and the worker's edit with it)."""
    fields, unknown = {}, []
    for name, value in data.items():
        api_name = name[:-3] if name.endswith("_id") and name[:-3] in allowed else name
        if api_name in allowed or (point and name in POINT):
            fields[api_name] = value
        else:
            unknown.append(name)
    if unknown:
        raise refused(
            "unknown_field",
            _("this record has no field %(name)s that the phone may change") % {"name": unknown[0]},
            unknown[0],
        )
    return fields


def _feature(fields: dict) -> dict:
    """A GeoJSON Feature as the places' API reads it: the point from lon/lat."""
    lon, lat = fields.pop("lon", None), fields.pop("lat", None)
    feature = {"type": "Feature", "properties": fields}
    if lon is not None or lat is not None:
        feature["geometry"] = {"type": "Point", "coordinates": [lon, lat]}
    return feature


def _serializer_context(ctx: Context) -> dict:
    return {"request": ctx.request}


def _record(set_name: str, pk: int, ctx: Context) -> dict:
    return records.one(set_name, pk, ctx.user)


# --- households ------------------------------------------------------------------------------


def _current(ctx: Context, queryset, pk: int, what: str, set_name: str):
    """The record to update, locked, at the version the phone edited (else the 409 with the
    server's record that the phone shows beside its own)."""
    record = locked(queryset, pk, what)
    check_version(
        ctx,
        versions.record_version(set_name, record),
        lambda: _record(set_name, pk, ctx),
        set_name,
    )
    return record


@kind("household.create")
def household_create(ctx: Context) -> Applied:
    fields = _fields(ctx.data, HOUSEHOLD_FIELDS, point=True)
    checked = validated(HouseholdSerializer, fields, context=_serializer_context(ctx))
    household, created = households.create_household(
        address=checked["address"],
        location=checked["location"],
        client_key=str(ctx.client_key),
        registered_on=checked.get("registered_on"),
        user=ctx.user,
    )
    links = {k: checked[k] for k in ("building", "standard_address") if k in checked}
    if created and links:
        basedata.link_household(household, **links)
    return Applied(_record("households", household.pk, ctx), "households", household.pk)


@kind("household.update")
def household_update(ctx: Context) -> Applied:
    pk = target_id(ctx)
    fields = _fields(ctx.data, HOUSEHOLD_FIELDS, point=True)
    sql.lock_tree(shared=True)
    household = _current(
        ctx, Household.objects.visible_to(ctx.user).existing_on(None), pk, "household", "households"
    )
    serializer = HouseholdSerializer(
        household, data=fields, partial=True, context=_serializer_context(ctx)
    )
    serializer.is_valid(raise_exception=True)
    location = serializer.validated_data.pop("location", None)
    if location is not None:
        # Refused before anything is saved, as the API's update does.
        households.check_in_jurisdiction(ctx.user, households.grid_for_point(location))
    registered_before = household.registered_on
    household = serializer.save()
    if household.registered_on != registered_before:
        data_changed_since("households", min(registered_before, household.registered_on))
    if location is not None:
        households.move_household(household, location, user=ctx.user)
    return Applied(_record("households", pk, ctx), "households", pk)


# --- residents -------------------------------------------------------------------------------


def _may_write_residents(ctx: Context) -> None:
    # Grid workers see personal data; the check stands for any other role a token may have.
    if not scoping.sees_personal_data(ctx.user):
        raise refused(
            "personal_data_not_allowed",
            _("your role does not see residents' personal data, so it does not write them"),
            None,
            status=403,
        )


def _check_id_number(fields: dict) -> None:
    """The ID number's check digit and the birth date it holds (GB 11643), as the importers
    check them and the phone does before sending: the API's serializer checks the form only,
    and a phone of an older version may send what today's refuses."""
    if not fields.get("id_number"):
        return
    _found, problem = check_id_number(str(fields["id_number"]))
    if problem is not None:
        code, message = problem
        raise refused(code, message, "id_number")


@kind("resident.create")
def resident_create(ctx: Context) -> Applied:
    _may_write_residents(ctx)
    data = dict(ctx.data)
    household_id = whole_number(
        data.pop("household_id", data.pop("household", None)), "household_id"
    )
    fields = _fields(data, RESIDENT_FIELDS, point=False)
    _check_id_number(fields)
    household = (
        Household.objects.visible_to(ctx.user).existing_on(None).filter(pk=household_id).first()
    )
    if household is None:
        raise not_found("household", "household_id")
    checked = validated(ResidentSerializer, fields, context=_serializer_context(ctx))
    (resident,) = households.add_residents(household, [checked])
    return Applied(_record("residents", resident.pk, ctx), "residents", resident.pk)


@kind("resident.update")
def resident_update(ctx: Context) -> Applied:
    _may_write_residents(ctx)
    pk = target_id(ctx)
    fields = _fields(ctx.data, RESIDENT_FIELDS, point=False)
    _check_id_number(fields)
    resident = _current(
        ctx,
        Resident.objects.visible_to(ctx.user).filter(household__removed_on__isnull=True),
        pk,
        "resident",
        "residents",
    )
    serializer = ResidentSerializer(
        resident, data=fields, partial=True, context=_serializer_context(ctx)
    )
    serializer.is_valid(raise_exception=True)
    carried = list(resident.tags)
    for name, value in serializer.validated_data.items():
        setattr(resident, name, value)
    # The model's own checks (the ID number's form) and the catalogue's, as add_residents
    # applies them to a new resident.
    resident.full_clean(exclude=["household"])
    resident.tags, resident.tag_levels = TagCatalogue().clean(
        resident.tags, resident.tag_levels, carried=carried
    )
    resident.save()
    announce(Household)
    return Applied(_record("residents", pk, ctx), "residents", pk)


# --- buildings and units ---------------------------------------------------------------------


@kind("building.update")
def building_update(ctx: Context) -> Applied:
    pk = target_id(ctx)
    feature = _feature(_fields(ctx.data, BUILDING_FIELDS, point=True))
    sql.lock_tree(shared=True)
    building = _current(
        ctx, Building.objects.visible_to(ctx.user).existing_on(None), pk, "building", "buildings"
    )
    serializer = BuildingSerializer(
        building, data=feature, partial=True, context=_serializer_context(ctx)
    )
    serializer.is_valid(raise_exception=True)
    changes = dict(serializer.validated_data)
    changes.pop("client_key", None)
    basedata.update_building(building, user=ctx.user, **changes)
    return Applied(_record("buildings", pk, ctx), "buildings", pk)


@kind("unit.create")
def unit_create(ctx: Context) -> Applied:
    feature = _feature(_fields(ctx.data, UNIT_FIELDS, point=True))
    checked = validated(UnitSerializer, feature, context=_serializer_context(ctx))
    checked.pop("client_key", None)
    unit, _created = basedata.create_unit(client_key=str(ctx.client_key), user=ctx.user, **checked)
    return Applied(_record("units", unit.pk, ctx), "units", unit.pk)


@kind("unit.update")
def unit_update(ctx: Context) -> Applied:
    pk = target_id(ctx)
    feature = _feature(_fields(ctx.data, UNIT_FIELDS, point=True))
    sql.lock_tree(shared=True)
    unit = _current(ctx, Unit.objects.visible_to(ctx.user).existing_on(None), pk, "unit", "units")
    serializer = UnitSerializer(unit, data=feature, partial=True, context=_serializer_context(ctx))
    serializer.is_valid(raise_exception=True)
    changes = dict(serializer.validated_data)
    changes.pop("client_key", None)
    basedata.update_unit(unit, user=ctx.user, **changes)
    return Applied(_record("units", pk, ctx), "units", pk)
