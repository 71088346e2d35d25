"""Writing the 一标三实 places and checking residents' tags: buildings (实有房屋), units
(实有单位) and standard addresses (标准地址), each keyed to its grid on write; tags checked
against the catalogue held as data. The API, the admin and the importers' row checks call
these; bulk loads (grids.services.imports) key rows in SQL by the same rule."""

from grids.services.basedata.addresses import (
    check_address,
    community_of,
    get_or_create_address,
    standard_text,
)
from grids.services.basedata.buildings import (
    check_building,
    create_building,
    link_household,
    remove_building,
    update_building,
)
from grids.services.basedata.keying import key_point
from grids.services.basedata.tags import TagCatalogue, clean_tags
from grids.services.basedata.units import (
    UnitTypes,
    check_unit,
    create_unit,
    credit_code_valid,
    remove_unit,
    update_unit,
)

__all__ = [
    "TagCatalogue",
    "UnitTypes",
    "check_address",
    "check_building",
    "check_unit",
    "clean_tags",
    "community_of",
    "create_building",
    "create_unit",
    "credit_code_valid",
    "get_or_create_address",
    "key_point",
    "link_household",
    "remove_building",
    "remove_unit",
    "standard_text",
    "update_building",
    "update_unit",
]
