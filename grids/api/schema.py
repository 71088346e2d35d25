"""Where the OpenAPI schema needs more than drf-spectacular infers, so that it says what the API
answers (tests/test_api_schemathesis.py checks every operation against it):

- boundary features: their geometry is the boundary version valid on the asked date (an
  annotation, not a model field), which drf-spectacular's GIS support cannot look up;
- points sent to the API as GeoJSON;
- the error body and the error statuses of every operation (a postprocessing hook);
- residents as a role without personal data sees them (masked)."""

from django.contrib.gis.db.models import MultiPolygonField, PointField
from drf_spectacular.contrib.rest_framework_gis import (
    GeoFeatureModelSerializerExtension,
    build_geo_schema,
)
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_object_type

BOUNDARY_SCHEMA = build_geo_schema(MultiPolygonField(srid=4326))


class BoundaryFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "grids.api.serializers.BoundaryField"
    priority = 1

    def map_serializer_field(self, auto_schema, direction):
        return BOUNDARY_SCHEMA


class BoundaryFeatureExtension(GeoFeatureModelSerializerExtension):
    target_class = "grids.api.serializers.BoundaryFeatureSerializer"
    match_subclasses = True
    priority = 1

    def map_serializer(self, auto_schema, direction):
        properties = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        properties["properties"].pop("geom")
        properties.pop("required", None)
        properties.pop("description", None)
        feature = {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": properties["properties"].pop("id"),
            "geometry": BOUNDARY_SCHEMA,
            "properties": properties,
        }
        return build_object_type(properties=feature)


POINT_SCHEMA = build_geo_schema(PointField(srid=4326))


class PointFieldExtension(OpenApiSerializerFieldExtension):
    """Points sent to the API (incidents, visits): GeoJSON points."""

    target_class = "grids.api.fields.PointField"
    priority = 1

    def map_serializer_field(self, auto_schema, direction):
        return POINT_SCHEMA


# --- error responses ----------------------------------------------------------------------------
# Every API error has one body (grids/api/errors.py). The statuses any operation can answer are
# documented on every operation by this hook, so that a client (and schemathesis) finds each
# status it can meet; an operation's own description of a status is kept, its body made exact.

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error: the status again and one entry per problem.",
    "required": ["status", "errors"],
    "properties": {
        "status": {"type": "integer", "example": 400},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "message"],
                # Problems of a process may add where they are: row, feature, location, ...
                "additionalProperties": True,
                "properties": {
                    "code": {"type": "string", "example": "invalid"},
                    "message": {"type": "string"},
                    "field": {
                        "type": "string",
                        "nullable": True,
                        "description": "the parameter, path part or body field at fault",
                    },
                },
            },
        },
    },
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}
ERROR_STATUSES = {
    "400": "Bad input: a parameter, path part or body field is refused (the field says which).",
    "401": "Not authenticated (or the API token is unknown, expired or revoked).",
    "403": "Authenticated, but this role may not do this.",
    "404": "Not found, or outside the caller's jurisdiction (the same answer).",
    "409": "The record changed meanwhile or is not in a state for this step.",
    "413": "The body is larger than the limit the error names.",
    "415": "The body's media type is missing or not one this operation reads.",
    "429": "Too many requests (e.g. login attempts): try again after Retry-After seconds.",
    "503": "A service the API needs (database, cache) is unavailable for a moment.",
}
WRITES = {"post", "put", "patch", "delete"}


def _statuses(operation: dict, method: str) -> list[str]:
    statuses = ["400", "404", "429", "503"]
    # An operation open to anyone lists an empty requirement among its security options.
    if {} not in operation.get("security", [{}]):
        statuses += ["401", "403"]
    if method in WRITES:
        statuses.append("409")
    if "requestBody" in operation:
        statuses += ["413", "415"]
    return sorted(statuses)


def _is_generic(response: dict) -> bool:
    """A response documented without a body of its own (or as a bare object)."""
    schemas = [media.get("schema", {}) for media in response.get("content", {}).values()]
    return all(not s.get("properties") and "$ref" not in s for s in schemas)


def _or_error(response: dict, ref: dict) -> None:
    """An operation's own error body (an import's report) may also be the API's error body:
    bad input is refused before the view runs (grids.limits)."""
    for media in response.get("content", {}).values():
        schema = media.get("schema", {})
        if schema != ref and "anyOf" not in schema:
            media["schema"] = {"anyOf": [schema, ref]}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: the error body as a component, and the error
    statuses on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for code in _statuses(operation, method):
                response = responses.setdefault(code, {"description": ERROR_STATUSES[code]})
                if not response.get("description"):
                    response["description"] = ERROR_STATUSES[code]
                if _is_generic(response):
                    response["content"] = body
                else:
                    _or_error(response, body["application/json"]["schema"])
                if code in {"429", "503"}:
                    response.setdefault("headers", {}).update(RETRY_AFTER)
    return result


# --- residents ----------------------------------------------------------------------------------
# A role that does not see personal data gets residents masked (grids.scoping.MASKS): the ID
# number as 5001**********1234, the birth date as 1950-**-**. One component serves requests
# and answers, so the documented forms are the real one or its mask.

MASKED_ID_NUMBER = r"^(\d{17}[\dX]|[\dX*]{18})$"
MASKED_BIRTH_DATE = r"^\d{4}-(\d{2}|\*\*)-(\d{2}|\*\*)$"


class ResidentExtension(OpenApiSerializerExtension):
    target_class = "grids.api.serializers.ResidentSerializer"

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        properties = schema["properties"]
        properties["id_number"]["pattern"] = MASKED_ID_NUMBER
        properties["id_number"]["description"] = "masked unless the role sees personal data"
        birth_date = properties["birth_date"]
        birth_date.pop("format", None)
        birth_date["pattern"] = MASKED_BIRTH_DATE
        birth_date["description"] = "YYYY-MM-DD; YYYY-**-** unless the role sees personal data"
        properties["masked"] = {
            "type": "boolean",
            "readOnly": True,
            "description": "name, ID number, phone and birth date are masked",
        }
        return schema


# --- places without a point ---------------------------------------------------------------------
# A standard address may be known by its text before anyone has located it: its Feature's
# geometry is then null (GeoJSON allows a Feature without geometry).


class UnlocatedFeatureExtension(GeoFeatureModelSerializerExtension):
    target_class = "grids.api.basedata_serializers.AddressSerializer"
    priority = 1

    def map_serializer(self, auto_schema, direction):
        schema = super().map_serializer(auto_schema, direction)
        schema["properties"]["geometry"]["nullable"] = True
        return schema
