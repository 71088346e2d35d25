"""Things keyed to grids that a boundary change moves, registered by the apps that own them
so that the boundary editor (boundaries.services.impact) can count what would move without
importing them.

Two kinds:
- `KeyedPoints`: rows at a point with a stored grid key (households, sensors, open
  incidents); a boundary change re-keys those inside the changed area by their point.
- `KeyedToGrid`: rows that follow their grid (open tasks); when the grid is retired they go
  to its successor.

Table, column and condition strings come from code, never from input: they are written into
SQL as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


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


# Households that exist today; residents are the same rows weighted by their member count.
_EXISTING = "(removed_on IS NULL OR removed_on > CURRENT_DATE)"
register(KeyedPoints("households", _("households"), "grids_household", where=_EXISTING))
register(
    KeyedPoints(
        "residents", _("residents"), "grids_household", where=_EXISTING, weight="member_count"
    )
)
