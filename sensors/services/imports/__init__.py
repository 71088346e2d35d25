"""Devices from the files people have: GeoPackage, GeoJSON or Shapefile points, or CSV/XLSX
with lon/lat columns, read with the foundation's importers (grids.services.imports).

Columns: code, type (a type code), name, department (code), gateway (code), installed_on,
status, and the properties either as `prop_<name>` columns or as one `properties` column of
JSON (both: the `prop_` cells win). Text cells are coerced to the number, integer or
boolean the type's schema asks for.

All or nothing: every bad row is reported (row, field, reason) and nothing is written
(ImportAborted carries the report). A code already registered is the same device
corrected: it is updated in place (location, grid, properties, coverage; an empty optional
cell keeps the registered value), so a fixed file can be imported again. A dry run does
everything in the transaction and rolls it back.
"""

from grids.services.imports import ImportAborted
from sensors.services.imports.cells import SensorImportReport, coerce
from sensors.services.imports.coverage import coverage_hex
from sensors.services.imports.importer import import_sensors

__all__ = ["ImportAborted", "SensorImportReport", "coerce", "coverage_hex", "import_sensors"]
