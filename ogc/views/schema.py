"""The OpenAPI description of /ogc/ (drf-spectacular `extend_schema` arguments), so /api/schema/
describes it (Part 1's `oas30` class) and tests/test_api_schemathesis.py fuzzes it. The error
statuses and their body are added to every operation by grids.api.schema.document_errors."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from ogc import links

TAGS = ["ogc"]

LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "title": {"type": "string"},
    },
}
LINKS = {"type": "array", "items": LINK}

LANDING = {
    "type": "object",
    "required": ["links"],
    "properties": {
        "title": {"type": "string"},
        "description": {"type": "string"},
        "links": LINKS,
    },
}
CONFORMANCE = {
    "type": "object",
    "required": ["conformsTo"],
    "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
}
COLLECTION = {
    "type": "object",
    "required": ["id", "links"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "links": LINKS,
        "extent": {"type": "object"},
        "itemType": {"type": "string"},
        "crs": {"type": "array", "items": {"type": "string"}},
        "storageCrs": {"type": "string"},
    },
}
COLLECTIONS = {
    "type": "object",
    "required": ["links", "collections"],
    "properties": {
        "links": LINKS,
        "collections": {"type": "array", "items": COLLECTION},
    },
}
GEOMETRY = {
    "type": "object",
    "nullable": True,
    "required": ["type"],
    "properties": {"type": {"type": "string"}},
}
FEATURE = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "geometry": GEOMETRY,
        "properties": {"type": "object", "nullable": True},
        "links": LINKS,
    },
}
FEATURE_COLLECTION = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": FEATURE},
        "links": LINKS,
        "numberReturned": {"type": "integer", "minimum": 0},
        "numberMatched": {"type": "integer", "minimum": 0},
        "timeStamp": {"type": "string", "format": "date-time"},
    },
}

F = OpenApiParameter(
    "f",
    OpenApiTypes.STR,
    enum=["json", "html"],
    description="the format (default: by the Accept header, else JSON)",
)
COLLECTION_ID = OpenApiParameter(
    "collection_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="a collection's id"
)
FEATURE_ID = OpenApiParameter(
    "fid", OpenApiTypes.STR, OpenApiParameter.PATH, description="a feature's id"
)
CRS = OpenApiParameter(
    "crs",
    OpenApiTypes.URI,
    description="the output CRS (one of the collection's `crs` list; default CRS84)",
)
ITEMS_PARAMETERS = [
    F,
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "default": 100},
        description="features per page (larger than the server's maximum is clamped)",
    ),
    OpenApiParameter(
        "bbox",
        {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6},
        style="form",
        explode=False,
        description="min x, min y, max x, max y (or 6 numbers with heights), in bbox-crs",
    ),
    OpenApiParameter("bbox-crs", OpenApiTypes.URI, description="the CRS of bbox (CRS84)"),
    CRS,
    OpenApiParameter(
        "datetime",
        OpenApiTypes.STR,
        description="RFC 3339 instant or date, or an interval start/end ('..' for open)",
    ),
    OpenApiParameter("filter", OpenApiTypes.STR, description="a CQL2 expression"),
    OpenApiParameter(
        "filter-lang",
        OpenApiTypes.STR,
        enum=["cql2-text", "cql2-json", "cql-text"],
        description="cql2-text (default) or cql2-json; cql-text (GDAL) is read as cql2-text",
    ),
    OpenApiParameter("filter-crs", OpenApiTypes.URI, description="the CRS of the filter"),
    OpenApiParameter(
        "after",
        OpenApiTypes.STR,
        description="the id of the last feature of the previous page (the next link has it)",
    ),
]

HTML = {(200, links.HTML): OpenApiTypes.STR}

LANDING_OP = {
    "tags": TAGS,
    "operation_id": "ogc_landing",
    "summary": "OGC API - Features landing page",
    "parameters": [F],
    "responses": {(200, links.JSON): LANDING, **HTML},
}
CONFORMANCE_OP = {
    "tags": TAGS,
    "operation_id": "ogc_conformance",
    "summary": "conformance classes the server implements",
    "parameters": [F],
    "responses": {(200, links.JSON): CONFORMANCE, **HTML},
}
COLLECTIONS_OP = {
    "tags": TAGS,
    "operation_id": "ogc_collections",
    "summary": "the collections the caller may read",
    "parameters": [F],
    "responses": {(200, links.JSON): COLLECTIONS, **HTML},
}
COLLECTION_OP = {
    "tags": TAGS,
    "operation_id": "ogc_collection",
    "summary": "one collection",
    "parameters": [COLLECTION_ID, F],
    "responses": {(200, links.JSON): COLLECTION, **HTML},
}
ITEMS = {
    "tags": TAGS,
    "operation_id": "ogc_items",
    "summary": "features of a collection, a page at a time (follow the next link)",
    "parameters": [COLLECTION_ID, *ITEMS_PARAMETERS],
    "responses": {(200, links.GEOJSON): FEATURE_COLLECTION, **HTML},
}
ITEM = {
    "tags": TAGS,
    "operation_id": "ogc_item",
    "summary": "one feature",
    "parameters": [COLLECTION_ID, FEATURE_ID, F, CRS],
    "responses": {(200, links.GEOJSON): FEATURE, (304, links.GEOJSON): None, **HTML},
}
QUERYABLES = {
    "tags": TAGS,
    "operation_id": "ogc_queryables",
    "summary": "the properties a filter may use (JSON Schema)",
    "parameters": [COLLECTION_ID, F],
    "responses": {
        (200, links.JSON): {"type": "object"},
        (200, links.SCHEMA): {"type": "object"},
        **HTML,
    },
}
