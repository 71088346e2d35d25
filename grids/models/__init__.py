"""The jurisdiction tree (district > street > community > grid), boundary versions,
households and residents, users with their role and jurisdiction, and the audit log.

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
    Resident,
    ResidentQuerySet,
    Sex,
    Tag,
    new_client_key,
)
from grids.models.figures import GridFigures, StaleFigures
from grids.models.audit import AuditLog

# People's API tokens live in their own module (issue #15); imported here so Django finds them.
from grids.tokens import ApiToken
# isort: on

__all__ = [
    "CODE_LENGTH",
    "GRID_CODE_LENGTH",
    "PARENT_LEVEL",
    "SRID",
    "ApiToken",
    "AuditLog",
    "BoundaryVersion",
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
    "Region",
    "RegionBoundary",
    "RegionQuerySet",
    "Resident",
    "ResidentQuerySet",
    "Role",
    "Sex",
    "StaleFigures",
    "Tag",
    "Theme",
    "User",
    "ValidityQuerySet",
    "new_client_key",
    "today",
]
