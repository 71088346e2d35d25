"""Things keyed to grids that a boundary change moves, registered by the apps that own them
so that the boundary editor (boundaries.services.impact) can count what would move without
importing them.

Two kinds:
- `KeyedPoints`: rows at a point with a stored grid key (households, buildings, units,
  standard addresses, sensors, open incidents); a boundary change re-keys those inside the
  changed area by their point, writing the grid a row leaves to its `History` if it has one.
- `KeyedToGrid`: rows that follow their grid (open tasks); when the grid is retired they go
  to its successor.

Table, column and condition strings come from code, never from input: they are written into
SQL as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.conf import settings
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class History:
    """Where re-keying records the grid a row leaves (valid_from, valid_to), so that figures
    for earlier days do not move: the table, its column naming the row, and the row's column
    a first period starts from."""

    table: str
    key: str
    start: str = "registered_on"


@dataclass(frozen=True)
class KeyedPoints:
    key: str
    label: str
    table: str
    location: str = "location"
    grid: str = "grid_id"
    where: str = "true"
    # What one row counts for: "1", or a column (residents: a household's member_count).
    weight: str = "1"
    # The name of a setting holding metres, or None: a row still within that distance of
    # the new boundary of the grid it is keyed to keeps that grid (open incidents: near an
    # edge the reporter confirmed the grid, GRIDLINE_INCIDENT_EDGE_M). A setting, read when
    # the rows are re-keyed, so that the preview and the apply always use the same distance.
    keep_within: str | None = None
    # The grid history the re-keying writes (grids' own kinds), or None.
    history: History | None = None
    # The column a re-keying sets to now(), or None.
    touched: str | None = "updated_at"

    def keep_within_m(self) -> float | None:
        if self.keep_within is None:
            return None
        return float(getattr(settings, self.keep_within))


@dataclass(frozen=True)
class KeyedToGrid:
    key: str
    label: str
    table: str
    grid: str = "grid_id"
    where: str = "true"


Keyed = KeyedPoints | KeyedToGrid

_registry: dict[str, Keyed] = {}


def register(keyed: Keyed) -> None:
    """Register once per key (an AppConfig.ready() may run again in tests: the same entry is
    accepted, a different one under a taken key is a programming error)."""
    existing = _registry.get(keyed.key)
    if existing is not None and existing != keyed:
        raise ValueError(f"keyed rows {keyed.key!r} are registered twice")
    _registry[keyed.key] = keyed


def all_keyed() -> list[Keyed]:
    return list(_registry.values())


# Households that exist on the day the new boundaries start (`%(on)s`, given by the caller;
# a household removed by then stays with the grid it left from); residents are the same
# rows weighted by their member count. Buildings and units likewise; a standard address has
# no lifetime and no history: it is where it is.
_EXISTING = "(removed_on IS NULL OR removed_on > %(on)s)"
HOUSEHOLDS = KeyedPoints(
    "households",
    _("households"),
    "grids_household",
    where=_EXISTING,
    history=History("grids_householdgridhistory", "household_id"),
)
BUILDINGS = KeyedPoints(
    "buildings",
    _("buildings"),
    "grids_building",
    where=_EXISTING,
    history=History("grids_buildinggridhistory", "building_id"),
)
UNITS = KeyedPoints(
    "units",
    _("units"),
    "grids_unit",
    where=_EXISTING,
    history=History("grids_unitgridhistory", "unit_id"),
)
ADDRESSES = KeyedPoints("addresses", _("standard addresses"), "grids_address", touched=None)
register(HOUSEHOLDS)
register(replace(HOUSEHOLDS, key="residents", label=_("residents"), weight="member_count"))
register(BUILDINGS)
register(UNITS)
register(ADDRESSES)

# The kinds grids re-keys itself on a boundary change (grids.sql.rekey.reassign_places).
PLACES = (HOUSEHOLDS, BUILDINGS, UNITS, ADDRESSES)
