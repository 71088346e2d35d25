"""The OpenAPI definition the landing page names as `service-desc` (/ogc/api), written the way
OGC clients read it.

/api/schema/ describes the OGC operations too (drf-spectacular, for the API's own clients and
the schemathesis run), but desktop clients look things up in the document by paths relative
to the landing page: GDAL's OAPIF driver pushes a `-where` down as a CQL filter only when it
finds `/collections/<id>/items` (or `/collections/{collectionId}/items`) there with a
`filter-lang` parameter listing `cql-text` and one query parameter per queryable, and QGIS
reads the page size from `components.parameters.limit.schema` (`default`, `maximum`). So this
document has `servers` = the landing page, relative paths, and one items path per collection
the caller may read, with that collection's queryables.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema

from ogc import cql2, links, output, params, registry
from ogc.views import base, schema
from ogc.views.base import OgcView

TYPES = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "date-time": {"type": "string", "format": "date-time"},
    "string": {"type": "string"},
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _parameters() -> dict:
    uri = {"type": "string", "format": "uri"}
    return {
        "collectionId": {
            "name": "collectionId",
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
        },
        "featureId": {
            "name": "featureId",
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
        },
        "f": {
            "name": "f",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": ["json", "html"]},
        },
        "limit": {
            "name": "limit",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": settings.GRIDLINE_OGC_MAX_LIMIT,
                "default": min(params.DEFAULT_LIMIT, settings.GRIDLINE_OGC_MAX_LIMIT),
            },
        },
        "bbox": {
            "name": "bbox",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "schema": {
                "type": "array",
                "minItems": 4,
                "maxItems": 6,
                "items": {"type": "number"},
            },
        },
        "bbox-crs": {"name": "bbox-crs", "in": "query", "required": False, "schema": uri},
        "crs": {"name": "crs", "in": "query", "required": False, "schema": uri},
        "datetime": {
            "name": "datetime",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
        },
        "filter": {
            "name": "filter",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
        },
        "filter-lang": {
            "name": "filter-lang",
            "in": "query",
            "required": False,
            "schema": {
                "type": "string",
                "enum": ["cql2-text", "cql2-json", "cql-text"],
                "default": "cql2-text",
            },
        },
        "filter-crs": {"name": "filter-crs", "in": "query", "required": False, "schema": uri},
        "after": {"name": "after", "in": "query", "required": False, "schema": {"type": "string"}},
    }


ITEMS_PARAMETERS = sorted(params.ITEMS)


def _json(body: dict, media_type: str = links.JSON) -> dict:
    return {"description": "OK", "content": {media_type: {"schema": body}}}


def _operation(operation_id: str, summary: str, parameters: list, response: dict) -> dict:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["ogc"],
            "parameters": parameters,
            "responses": {
                "200": response,
                "400": {"description": str(_("bad parameter"))},
                "401": {"description": str(_("not authenticated"))},
                "404": {"description": str(_("not found"))},
            },
        }
    }


def document(request) -> dict:
    landing = request.build_absolute_uri(reverse("ogc:landing")).rstrip("/")
    features = _json(schema.FEATURE_COLLECTION, links.GEOJSON)
    items_parameters = [_ref(name) for name in ITEMS_PARAMETERS]
    paths = {
        "/": _operation("getLandingPage", "landing page", [_ref("f")], _json(schema.LANDING)),
        "/conformance": _operation(
            "getConformance", "conformance classes", [_ref("f")], _json(schema.CONFORMANCE)
        ),
        "/collections": _operation(
            "getCollections", "collections", [_ref("f")], _json(schema.COLLECTIONS)
        ),
        "/collections/{collectionId}": _operation(
            "describeCollection",
            "one collection",
            [_ref("collectionId"), _ref("f")],
            _json(schema.COLLECTION),
        ),
        "/collections/{collectionId}/items": _operation(
            "getFeatures", "features", [_ref("collectionId"), *items_parameters], features
        ),
        "/collections/{collectionId}/items/{featureId}": _operation(
            "getFeature",
            "one feature",
            [_ref("collectionId"), _ref("featureId"), _ref("f"), _ref("crs")],
            _json(schema.FEATURE, links.GEOJSON),
        ),
        "/collections/{collectionId}/queryables": _operation(
            "getQueryables", "queryables", [_ref("collectionId"), _ref("f")], _json({})
        ),
    }
    for collection in registry.collections_for(request.user):
        queryables = []
        for name in sorted(cql2.parameter_names(collection)):
            prop = collection.property(name)
            kind = TYPES.get(prop.type if prop else "string", {"type": "string"})
            queryables.append({"name": name, "in": "query", "required": False, "schema": kind})
        paths[f"/collections/{collection.id}/items"] = _operation(
            f"getFeatures_{collection.id}",
            str(collection.title),
            [*items_parameters, *queryables],
            features,
        )
    return {
        "openapi": "3.0.3",
        "info": {
            "title": _("%(site)s OGC API – Features") % {"site": _("Gridline")},
            "version": settings.SPECTACULAR_SETTINGS.get("VERSION", "1"),
        },
        "servers": [{"url": landing}],
        "paths": paths,
        "components": {
            "parameters": _parameters(),
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic"},
                "tokenAuth": {"type": "apiKey", "in": "header", "name": "Authorization"},
            },
        },
        "security": [{"basicAuth": []}, {"tokenAuth": []}],
    }


class OpenApiView(OgcView):
    # The document itself is not an operation of /api/schema/.
    @extend_schema(exclude=True)
    def get(self, request):
        params.refuse_unknown(request.query_params, {"f"})
        return base.json_response(output.dumps(document(request)), links.OPENAPI)
