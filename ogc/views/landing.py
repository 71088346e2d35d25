"""The landing page (/ogc/), conformance, the collections and one collection."""

from __future__ import annotations

from django.contrib.gis.db.models import Extent
from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema

from grids import scoping
from grids.models import GridBoundary, Level, RegionBoundary, Role
from ogc import conformance, crs, links, output, params, queryables
from ogc.views import base, schema
from ogc.views.base import OgcView

# Each part declares the conformance classes it passes (ogc/conformance.py).
conformance.declare(*crs.CONFORMANCE)

# The spatial extent of a jurisdiction changes when its boundary is redrawn, rarely.
EXTENT_SECONDS = 600


def _answer(request, data: dict, template: str, context: dict | None = None):
    fmt = params.output_format(request)
    if fmt == "html":
        html_links = links.for_html(data.get("links", []))
        return base.html_response(
            request, template, {"data": data, "links": html_links} | (context or {})
        )
    return base.json_response(output.dumps(data))


class LandingView(OgcView):
    @extend_schema(**schema.LANDING_OP)
    def get(self, request):
        params.refuse_unknown(request.query_params, {"f"})
        found = links.self_and_alternate(request, reverse("ogc:landing"))
        found += [
            # The OGC clients' view of the API (ogc/views/openapi.py), and the whole API's.
            links.link(
                links.url(request, reverse("ogc:openapi")),
                "service-desc",
                links.OPENAPI,
                _("the OpenAPI definition of these collections"),
            ),
            links.link(
                links.url(request, reverse("schema"), {"format": "json"}),
                "describedby",
                links.OPENAPI,
                _("the API's OpenAPI definition"),
            ),
            links.link(
                links.url(request, reverse("api-docs")),
                "service-doc",
                links.HTML,
                _("the API's documentation"),
            ),
            links.link(
                links.url(request, reverse("ogc:conformance")),
                "conformance",
                links.JSON,
                _("conformance classes"),
            ),
            links.link(
                links.url(request, reverse("ogc:collections")),
                "data",
                links.JSON,
                _("collections"),
            ),
        ]
        data = {
            "title": _("%(site)s OGC API – Features") % {"site": _("Gridline")},
            "description": _(
                "The jurisdiction tree, grids, households, sensors and incidents as features, "
                "scoped to the signed-in user."
            ),
            "links": found,
        }
        return _answer(request, data, "landing.html")


class ConformanceView(OgcView):
    @extend_schema(**schema.CONFORMANCE_OP)
    def get(self, request):
        params.refuse_unknown(request.query_params, {"f"})
        data = {
            "links": links.self_and_alternate(request, reverse("ogc:conformance")),
            "conformsTo": conformance.classes(),
        }
        return _answer(request, data, "conformance.html")


def _box(rows) -> list[float]:
    box = rows.aggregate(box=Extent("geom"))["box"]
    return [round(v, 7) for v in box] if box else []


def jurisdiction_extent(user) -> list[float] | None:
    """The box of the caller's jurisdiction (their grid, their region, a department's
    district; every district for those who see everything): the collections' spatial
    extent, from one or a few boundary rows, never the features. Cached per jurisdiction."""
    if scoping.sees_everything(user):
        key, rows = "all", RegionBoundary.objects.filter(region__level=Level.DISTRICT)
    elif user.role == Role.GRID_WORKER:
        if not user.grid_id:
            return None
        key, rows = f"grid:{user.grid_id}", GridBoundary.objects.filter(grid_id=user.grid_id)
    else:
        region = scoping.jurisdiction_region(user)
        if region is None:
            return None
        key, rows = f"region:{region.pk}", RegionBoundary.objects.filter(region_id=region.pk)
    key = f"ogc:extent:{key}"
    found = cache.get(key)
    if found is None:
        found = _box(rows.current())
        cache.set(key, found, EXTENT_SECONDS)
    return found or None


def describe(request, collection, offered: list[str], box: list[float] | None) -> dict:
    """A collection as /collections and /collections/<id> list it."""
    items = base.items_path(collection)
    path = base.collection_path(collection)
    found = links.self_and_alternate(request, path)
    found[0] = found[0] | {"rel": "self"}
    found += [
        # Bare: GDAL appends "/<id>" to this href for one feature, and negotiates GeoJSON.
        links.link(links.url(request, items), "items", links.GEOJSON, _("features")),
        links.link(links.url(request, items, {"f": "html"}), "items", links.HTML, _("features")),
    ]
    # GDAL 3.6 knows only the short rel, the standard names the long one.
    queryables_url = links.url(request, reverse("ogc:queryables", args=[collection.id]))
    for rel in ("http://www.opengis.net/def/rel/ogc/1.0/queryables", "queryables"):
        found.append(links.link(queryables_url, rel, links.SCHEMA, _("queryables")))
    if collection.read_only_link:
        found.append(
            links.link(
                links.url(request, collection.read_only_link),
                "describedby",
                links.HTML,
                collection.read_only_note or _("where this collection is edited"),
            )
        )
    data = {
        "id": collection.id,
        "title": str(collection.title),
        "description": str(collection.description),
        "links": found,
        "itemType": "feature",
        "crs": offered,
        "storageCrs": crs.STORAGE.uri,
    }
    if collection.keywords:
        data["keywords"] = list(collection.keywords)
    extent = {}
    if box:
        extent["spatial"] = {"bbox": [box], "crs": crs.DEFAULT.uri}
    if collection.temporal_extent is not None:
        # The user's: another jurisdiction's history is not theirs to date.
        start, end = collection.temporal_extent(request.user)
        extent["temporal"] = {
            "interval": [[start, end]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    if extent:
        data["extent"] = extent
    return data


class CollectionsView(OgcView):
    @extend_schema(**schema.COLLECTIONS_OP)
    def get(self, request):
        params.refuse_unknown(request.query_params, {"f"})
        offered = base.offered_crs(request)
        extent = jurisdiction_extent(request.user)
        data = {
            "links": links.self_and_alternate(request, reverse("ogc:collections")),
            "collections": [
                describe(request, c, offered, extent)
                for c in base.registry.collections_for(request.user)
            ],
            "crs": offered,
        }
        return _answer(request, data, "collections.html")


class CollectionView(OgcView):
    @extend_schema(**schema.COLLECTION_OP)
    def get(self, request, collection_id: str):
        collection = base.collection_or_404(request, collection_id)
        params.refuse_unknown(request.query_params, {"f"})
        data = describe(
            request, collection, base.offered_crs(request), jurisdiction_extent(request.user)
        )
        names = [
            (uri, crs.CATALOGUE[uri].title if uri in crs.CATALOGUE else "") for uri in data["crs"]
        ]
        return _answer(
            request, data, "collection.html", {"collection": collection, "crs_names": names}
        )


class QueryablesView(OgcView):
    @extend_schema(**schema.QUERYABLES)
    def get(self, request, collection_id: str):
        collection = base.collection_or_404(request, collection_id)
        params.refuse_unknown(request.query_params, {"f"})
        found = queryables.schema(collection, request)
        if params.output_format(request) == "html":
            return base.html_response(
                request, "queryables.html", {"collection": collection, "data": found}
            )
        # GDAL refuses a media type it did not ask for: schema+json only when asked.
        asked = links.SCHEMA in request.META.get("HTTP_ACCEPT", "")
        return base.json_response(output.dumps(found), links.SCHEMA if asked else links.JSON)
