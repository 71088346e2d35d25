"""OGC API – Features collections of the 一标三实 places: buildings (实有房屋) and units
(实有单位), registered beside the core's collections (ogc/collections.py), whose time rules
they share with households.

Both read through `visible_to(user)` (a department sees its district's places), at their
stored points (the GiST index serves `bbox`), with their primary key as the feature id. With
`datetime`, the places existing then and the grid each was in then (its grid history, as for
households). Units carry no personal fields here (legal person, contact phone): a GIS desktop
has no masking and no audit, so those stay in the API.

Read-only: buildings and units are written through /api/buildings/ and /api/units/ (and the
importers), where the write services check their fields.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from grids.models import Building, BuildingUse, Unit, UnitType, today
from ogc.collections import grid_code_on, interval_dates
from ogc.registry import Collection, Interval, Property, register

WRITTEN_THROUGH = _("Written through the API and the importers, not through OGC API – Features.")


def living_places(model):
    """The queryset functions of a model with a lifetime and a grid history: all times, the
    current state, and the state within a `datetime`."""

    def every(user):
        return model.objects.visible_to(user)

    def current(user):
        return grid_code_on(every(user).existing_on(), today(), user)

    def temporal(queryset, interval: Interval, user):
        # The households' rule (ogc.collections.household_temporal): alive on an instant's
        # day; for an interval, alive at some time within it, with the grid at its end.
        start, end = interval_dates(interval)
        if interval.instant:
            return grid_code_on(queryset.existing_on(start), start, user)
        rows = queryset
        if end is not None:
            rows = rows.filter(registered_on__lte=end)
        if start is not None:
            rows = rows.exclude(removed_on__lte=start)
        return grid_code_on(rows, end or today(), user)

    return every, current, temporal


def lifetime_properties() -> tuple[Property, ...]:
    return (
        Property("grid", "grid_code", "string", _("grid")),
        Property("registered_on", "registered_on", "date", _("registered on"), nullable=False),
        Property("removed_on", "removed_on", "date", _("removed on")),
        Property("client_key", "client_key", "string", _("client key"), nullable=False),
        Property("updated_at", "updated_at", "date-time", _("updated at"), nullable=False),
    )


def unit_type_codes(_user) -> list[str]:
    return list(UnitType.objects.order_by("order", "code").values_list("code", flat=True))


def buildings_collection() -> Collection:
    every, current, temporal = living_places(Building)
    return Collection(
        id="buildings",
        title=_("buildings"),
        description=_(
            "Buildings (实有房屋) at their points, keyed to a grid, with their use, floors and "
            "year built. With datetime, the buildings existing then and their grid then."
        ),
        queryset=current,
        history=every,
        geometry="location",
        geometry_type="Point",
        id_field="id",
        id_type="integer",
        properties=(
            Property("code", "code", "string", _("building code"), nullable=False),
            Property("name", "name", "string", _("name"), nullable=False),
            Property(
                "use",
                "use",
                "string",
                _("use"),
                enum=lambda _user: list(BuildingUse.values),
                nullable=False,
            ),
            Property("floors", "floors", "integer", _("floors")),
            Property("built_year", "built_year", "integer", _("year built")),
            Property("address", "address", "string", _("address"), nullable=False),
            *lifetime_properties(),
        ),
        temporal=temporal,
        large=True,
        read_only_note=WRITTEN_THROUGH,
        read_only_link="/api/buildings/",
        order=31,
        keywords=("building", "一标三实"),
    )


def units_collection() -> Collection:
    every, current, temporal = living_places(Unit)
    return Collection(
        id="units",
        title=_("units"),
        description=_(
            "Units (实有单位: enterprises, shops, schools, clinics, organisations) at their "
            "points with their type and employees; no personal data. With datetime, the units "
            "existing then and their grid then."
        ),
        queryset=current,
        history=every,
        geometry="location",
        geometry_type="Point",
        id_field="id",
        id_type="integer",
        properties=(
            Property("name", "name", "string", _("name"), nullable=False),
            Property(
                "type", "type__code", "string", _("unit type"), enum=unit_type_codes, nullable=False
            ),  # fmt: skip
            Property(
                "credit_code",
                "credit_code",
                "string",
                _("unified social credit code"),
                nullable=False,
            ),  # fmt: skip
            Property("employees", "employees", "integer", _("employees")),
            Property("address", "address", "string", _("address"), nullable=False),
            *lifetime_properties(),
        ),
        temporal=temporal,
        large=True,
        read_only_note=WRITTEN_THROUGH,
        read_only_link="/api/units/",
        order=32,
        keywords=("unit", "一标三实"),
    )


BUILDINGS = register(buildings_collection())
UNITS = register(units_collection())
