"""The large sets of a grid worker's working set (issue #18): households, residents,
buildings and units of the worker's one grid (一标三实), as the phone stores them.

Each set answers three questions with one query each: the version of every current record
(`versions`), the records among them changed since a time (`records(..., since=)`), and all
records (`records(...)`). Sizes: a full-scale grid has about 1,000 households and 2,500
residents, so every query is a scan of one grid's rows by an indexed key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace

from django.db.models import F, FloatField, Func, Q, Subquery

from field.services import versions
from grids import scoping
from grids.api.basedata_serializers import UNIT_MASKS
from grids.models import Building, Household, Resident, Unit

# Six decimals of a degree: about 0.1 m, finer than any phone's fix; fewer bytes per record.
DECIMALS = 6

LON = Func("location", function="ST_X", output_field=FloatField())
LAT = Func("location", function="ST_Y", output_field=FloatField())


def _point(row: dict) -> None:
    row["lon"] = round(row["lon"], DECIMALS) if row["lon"] is not None else None
    row["lat"] = round(row["lat"], DECIMALS) if row["lat"] is not None else None


def _changed_q(since: dt.datetime | None, max_id: int | None) -> Q:
    """Rows saved since the time, or made after the largest id the phone had (rows a bulk
    path wrote without a save time are new rows)."""
    q = Q(updated_at__gt=since) if since else Q()
    if since and max_id is not None:
        q |= Q(pk__gt=max_id)
    return q


@dataclass(frozen=True)
class Scope:
    user: object
    grid_id: int


# ---- households ------------------------------------------------------------------------


def _by_ids(queryset, ids):
    """Existing rows, or the rows with these ids whatever their lifetime (the outbox answers
    the record it just wrote, even one it removed)."""
    return queryset.existing_on() if ids is None else queryset.filter(pk__in=list(ids))


def _households(scope: Scope, ids=None):
    households = Household.objects.visible_to(scope.user).filter(grid=scope.grid_id)
    return _by_ids(households, ids).order_by("pk")


def _household_version(row: dict) -> str:
    return versions.household(
        SimpleNamespace(
            pk=row["id"],
            updated_at=row["updated_at"],
            grid_id=row["grid_id"],
            member_count=row["member_count"],
            removed_on=row["removed_on"],
        )
    )


HOUSEHOLD_VERSION_FIELDS = ("id", "updated_at", "grid_id", "member_count", "removed_on")


def household_versions(scope: Scope) -> dict[int, str]:
    rows = _households(scope).values(*HOUSEHOLD_VERSION_FIELDS)
    return {row["id"]: _household_version(row) for row in rows}


def household_records(scope: Scope, since=None, max_id=None, ids=None) -> list[dict]:
    households = _households(scope, ids)
    if since:
        # A resident's save recounts its household's members without saving the household.
        members = Resident.objects.filter(updated_at__gt=since).values("household_id")
        households = households.filter(_changed_q(since, max_id) | Q(pk__in=Subquery(members)))
    rows = households.values(
        *HOUSEHOLD_VERSION_FIELDS, "address", "building_id", "registered_on", lon=LON, lat=LAT
    )
    records = []
    for row in rows:
        _point(row)
        records.append(
            {
                "id": row["id"],
                "version": _household_version(row),
                "address": row["address"],
                "lon": row["lon"],
                "lat": row["lat"],
                "building_id": row["building_id"],
                "member_count": row["member_count"],
                "registered_on": row["registered_on"],
            }
        )
    return records


# ---- residents -------------------------------------------------------------------------

RESIDENT_FIELDS = (
    "id",
    "household_id",
    "name",
    "id_number",
    "phone",
    "birth_date",
    "sex",
    "registration",
    "relation",
    "residence_since",
    "origin",
    "tags",
    "tag_levels",
)


def _residents(scope: Scope, ids=None):
    residents = Resident.objects.visible_to(scope.user).filter(household__grid=scope.grid_id)
    if ids is not None:
        return residents.filter(pk__in=list(ids)).order_by("pk")
    return residents.filter(household__in=_households(scope).values("pk")).order_by("pk")


def resident_versions(scope: Scope) -> dict[int, str]:
    return {
        pk: versions.time_version(at)
        for pk, at in _residents(scope).values_list("id", "updated_at")
    }


def resident_records(scope: Scope, since=None, max_id=None, ids=None) -> list[dict]:
    residents = _residents(scope, ids)
    if since:
        residents = residents.filter(_changed_q(since, max_id))
    masked = not scoping.sees_personal_data(scope.user)
    records = []
    for row in residents.values(*RESIDENT_FIELDS, "updated_at"):
        at = row.pop("updated_at")
        if masked:
            # The masks of the residents API (grids.api.serializers.ResidentSerializer).
            for name, mask in scoping.MASKS.items():
                if row.get(name):
                    row[name] = mask(row[name])
        records.append({"id": row["id"], "version": versions.time_version(at), **row})
    return records


# ---- buildings and units ---------------------------------------------------------------


def _buildings(scope: Scope, ids=None):
    buildings = Building.objects.visible_to(scope.user).filter(grid=scope.grid_id)
    return _by_ids(buildings, ids).order_by("pk")


def _units(scope: Scope, ids=None):
    units = Unit.objects.visible_to(scope.user).filter(grid=scope.grid_id)
    return _by_ids(units, ids).order_by("pk")


def building_versions(scope: Scope) -> dict[int, str]:
    return {
        pk: versions.time_version(at)
        for pk, at in _buildings(scope).values_list("id", "updated_at")
    }


def unit_versions(scope: Scope) -> dict[int, str]:
    return {
        pk: versions.time_version(at) for pk, at in _units(scope).values_list("id", "updated_at")
    }


def building_records(scope: Scope, since=None, max_id=None, ids=None) -> list[dict]:
    buildings = _buildings(scope, ids)
    if since:
        buildings = buildings.filter(_changed_q(since, max_id))
    records = []
    for row in buildings.values(
        "id",
        "updated_at",
        "code",
        "name",
        "floors",
        "use",
        "built_year",
        "address",
        lon=LON,
        lat=LAT,
    ):
        _point(row)
        at = row.pop("updated_at")
        records.append({"id": row["id"], "version": versions.time_version(at), **row})
    return records


def unit_records(scope: Scope, since=None, max_id=None, ids=None) -> list[dict]:
    units = _units(scope, ids)
    if since:
        units = units.filter(_changed_q(since, max_id))
    masked = not scoping.sees_personal_data(scope.user)
    records = []
    for row in units.values(
        "id",
        "updated_at",
        "name",
        "credit_code",
        "legal_person",
        "contact_phone",
        "employees",
        "address",
        "building_id",
        type_code=F("type__code"),
        type_name=F("type__name"),
        lon=LON,
        lat=LAT,
    ):
        _point(row)
        at = row.pop("updated_at")
        row["type"] = row.pop("type_code")
        if masked:
            # The masks of the units API (grids.api.basedata_serializers.UnitSerializer).
            for name, mask in UNIT_MASKS.items():
                if row.get(name):
                    row[name] = mask(row[name])
        records.append({"id": row["id"], "version": versions.time_version(at), **row})
    return records
