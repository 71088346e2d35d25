"""Getting regions, grids and households in from the files people actually have.

Formats: Shapefile (UTF-8 or GBK attributes, with or without a .cpg, loose or zipped),
GeoPackage, GeoJSON, KML, and for households also CSV/XLSX with lon/lat columns. Source
coordinates may be any EPSG system (CGCS2000 = EPSG:4490 included) or the GCJ-02 / BD-09
offsets of Chinese web maps.

Every import runs in one transaction and writes nothing unless `commit` is set and no error
was found. Every problem is reported with its row, field, value and reason.

The modules, by idea: reading (files, encodings, layers), columns (which column is which
field), coordinates (systems and point checks), alignment (GCJ-02/BD-09 labelled WGS84),
codes (generated codes), boundaries and households (the two imports), people and
residents (residents, one row per person, into existing households), places (what the
importers of buildings, units and addresses share), buildings, units and addresses (the
一标三实 places), report (what was found). The names below are the package's public
interface; the underscore names are the old ones, kept for callers not yet moved to the
public ones.
"""

from grids.services.imports.addresses import ADDRESS_FIELDS, import_addresses
from grids.services.imports.boundaries import GRID, LEVELS, import_boundaries, load_boundaries
from grids.services.imports.buildings import BUILDING_FIELDS, import_buildings
from grids.services.imports.columns import (
    BOUNDARY_FIELDS,
    FIELD_GUESSES,
    HOUSEHOLD_FIELDS,
    check_targets,
    resolve_fields,
    text,
)
from grids.services.imports.coordinates import (
    DEGREE_SYSTEMS,
    district_area,
    lonlat_range_problems,
    outside_district_problems,
    point_lonlat,
    report_swapped,
    source_crs,
)
from grids.services.imports.households import import_households, load_households
from grids.services.imports.options import ApiParameters, api_parameters, worded_for
from grids.services.imports.reading import (
    TABLE_SUFFIXES,
    VECTOR_SUFFIXES,
    Unreadable,
    check_encoding,
    read_file,
    read_points,
    read_table,
    read_vector,
)
from grids.services.imports.report import (
    SHOWN_PER_KIND,
    ImportAborted,
    ImportReport,
    NullProgress,
    Progress,
)
from grids.services.imports.residents import RESIDENT_FIELDS, import_residents
from grids.services.imports.units import UNIT_FIELDS, import_units

__all__ = [
    "ADDRESS_FIELDS",
    "BUILDING_FIELDS",
    "UNIT_FIELDS",
    "import_addresses",
    "import_buildings",
    "import_units",
    "ApiParameters",
    "api_parameters",
    "worded_for",
    "BOUNDARY_FIELDS",
    "DEGREE_SYSTEMS",
    "FIELD_GUESSES",
    "GRID",
    "HOUSEHOLD_FIELDS",
    "LEVELS",
    "RESIDENT_FIELDS",
    "SHOWN_PER_KIND",
    "TABLE_SUFFIXES",
    "VECTOR_SUFFIXES",
    "ImportAborted",
    "ImportReport",
    "NullProgress",
    "Progress",
    "Unreadable",
    "check_encoding",
    "check_targets",
    "district_area",
    "import_boundaries",
    "import_households",
    "import_residents",
    "load_boundaries",
    "load_households",
    "lonlat_range_problems",
    "outside_district_problems",
    "point_lonlat",
    "read_file",
    "read_points",
    "read_table",
    "read_vector",
    "report_swapped",
    "resolve_fields",
    "source_crs",
    "text",
]
