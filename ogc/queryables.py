"""The Queryables resource of OGC API – Features Part 3: a JSON Schema (2020-12) of the
properties a filter may name, with their types, titles and allowed values.

The geometry is the queryable "geometry" (a filter may also call it by the collection's
column name, e.g. "location"); it is described as Part 3's example does, by a `format` of
"geometry-<type>" (JSON Schema has no geometry type).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from ogc import links

SCHEMA = "https://json-schema.org/draft/2020-12/schema"
GEOMETRY_FORMATS = {
    "Point": "geometry-point",
    "MultiPoint": "geometry-multipoint",
    "LineString": "geometry-linestring",
    "MultiLineString": "geometry-multilinestring",
    "Polygon": "geometry-polygon",
    "MultiPolygon": "geometry-multipolygon",
    "GeometryCollection": "geometry-geometrycollection",
}
# JSON Schema's type (and format) of each Property.type.
JSON_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "date-time": {"type": "string", "format": "date-time"},
}


def schema(collection, request) -> dict:
    properties: dict[str, dict] = {
        "geometry": {
            "title": _("geometry"),
            "format": GEOMETRY_FORMATS.get(collection.geometry_type, "geometry-any"),
            "x-ogc-role": "primary-geometry",
        }
    }
    for prop in collection.queryables:
        if prop.type not in JSON_TYPES:
            continue  # a JSON object (sensor readings) cannot be compared
        entry = {"title": str(prop.title or prop.name), **JSON_TYPES[prop.type]}
        if prop.enum is not None:
            entry["enum"] = list(prop.enum(request.user))
        properties[prop.name] = entry
    return {
        "$schema": SCHEMA,
        "$id": links.url(request, reverse("ogc:queryables", args=[collection.id])),
        "type": "object",
        "title": str(collection.title),
        "description": str(collection.description),
        "properties": properties,
        "additionalProperties": False,
    }
