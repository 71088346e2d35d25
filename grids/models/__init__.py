"""The jurisdiction tree (district > street > community > grid), boundary versions,
households and residents, users with their role and jurisdiction, the audit log, and the
rest of 一标三实 (buildings, standard addresses, units, the catalogues they refer to).

One module per idea; every model is imported here so that Django finds it, and every name
stays importable from `grids.models` (migrations refer to grids.models.today and
grids.models.new_client_key)."""

# isort: off
# In the order the models were registered in when they were one module (tree, users,
# households, figures, audit, tokens): Django lists models in registration order.
from grids.models.tree import (
    CODE_LENGTH,
    GRID_CODE_LENGTH,
    PARENT_LEVEL,
    SRID,
    BoundaryVersion,
    Colour,
    Grid,
    GridBoundary,
    GridQuerySet,
    Level,
    Region,
    RegionBoundary,
    RegionQuerySet,
    Theme,
    ValidityQuerySet,
    today,
)
from grids.models.users import Department, Role, User
from grids.models.households import (
    Household,
    HouseholdGridHistory,
    HouseholdQuerySet,
    Registration,
    Relation,
    Resident,
    ResidentQuerySet,
    Sex,
    new_client_key,
)
from grids.models.figures import GridFigures, StaleFigures
from grids.models.audit import AuditLog

# The rest of 一标三实 (issue #17): catalogues held as data, buildings, standard addresses, units.
from grids.models.catalogues import ResidentTagKind, TagGroup, UnitType
from grids.models.keyed_places import AddressQuerySet, LivingPlaceQuerySet, PlaceQuerySet
from grids.models.buildings import Building, BuildingGridHistory, BuildingUse
from grids.models.addresses import Address
from grids.models.units import Unit, UnitGridHistory

# People's API tokens live in their own module (issue #15); imported here so Django finds them.
from grids.tokens import ApiToken
# isort: on

__all__ = [
    "CODE_LENGTH",
    "GRID_CODE_LENGTH",
    "PARENT_LEVEL",
    "SRID",
    "Address",
    "AddressQuerySet",
    "ApiToken",
    "AuditLog",
    "BoundaryVersion",
    "Building",
    "BuildingGridHistory",
    "BuildingUse",
    "Colour",
    "Department",
    "Grid",
    "GridBoundary",
    "GridFigures",
    "GridQuerySet",
    "Household",
    "HouseholdGridHistory",
    "HouseholdQuerySet",
    "Level",
    "LivingPlaceQuerySet",
    "PlaceQuerySet",
    "Region",
    "RegionBoundary",
    "RegionQuerySet",
    "Registration",
    "Relation",
    "Resident",
    "ResidentQuerySet",
    "ResidentTagKind",
    "Role",
    "Sex",
    "StaleFigures",
    "TagGroup",
    "Theme",
    "Unit",
    "UnitGridHistory",
    "UnitType",
    "User",
    "ValidityQuerySet",
    "new_client_key",
    "today",
]
