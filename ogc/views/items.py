"""The features of a collection (`/items`) and one feature (`/items/<fid>`): GeoJSON built by
PostgreSQL (ogc.output), pages by keyset (`after`: the last id of the previous page, never
OFFSET), HTML for a browser. Part 4's writes are mixed in from ogc.views.edits."""

from __future__ import annotations

import json

from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema

from grids.basemap import basemap_layers
from ogc import cql2, crs, links, output, params, registry
from ogc.errors import OgcError
from ogc.views import base, edits, schema
from ogc.views.base import OgcView


def narrow(request, collection, rows):
    """The rows the items request asks for: bbox, filter, queryables as parameters."""
    query = request.query_params
    values = params.bbox(query)
    if values is not None:
        box_crs = base.output_crs(request, "bbox-crs")
        polygon = crs.bbox_polygon(values, box_crs, "bbox")
        rows = rows.filter(**{f"{collection.geometry}__intersects": polygon})
    elif params.single(query, "bbox-crs") is not None:
        base.output_crs(request, "bbox-crs")
    text = params.single(query, "filter")
    lang = cql2.language(params.single(query, "filter-lang"))
    filter_crs = base.output_crs(request, "filter-crs")
    if text is not None:
        rows = rows.filter(cql2.compile(text, lang, collection, filter_crs))
    return rows.filter(cql2.parameters_q(collection, query))


# Properties that hold the code of a grid or community: the item page links them to that
# feature, the page a GIS user opens next (if the collection is not theirs it answers 404).
CODE_COLLECTIONS = {"grid": "grids", "community": "communities"}


def _code_link(request, name: str, value) -> str | None:
    """The page of the grid or community a code names, when the user may open it (a grid
    worker sees its grid, not its community: no link to a 404)."""
    target = CODE_COLLECTIONS.get(name)
    if target is None or not isinstance(value, str) or not value:
        return None
    found = registry.get(target, request.user)
    if found is None or not found.queryset(request.user).filter(**{found.id_field: value}).exists():
        return None
    return reverse("ogc:item", args=[target, value]) + "?f=html"


class ItemsView(edits.ItemsEditsMixin, OgcView):
    @extend_schema(**schema.ITEMS)
    def get(self, request, collection_id: str):
        collection = base.collection_or_404(request, collection_id)
        query = request.query_params
        self.ogc_collection = collection  # the Allow header of Part 4 (ogc.views.edits)
        params.refuse_unknown(query, params.ITEMS | cql2.parameter_names(collection))
        fmt = params.output_format(request)
        limit = params.limit(query)
        after = params.after(query, collection)
        out = base.output_crs(request)
        interval = params.datetime_interval(query)
        # Part 1: datetime on a collection without time is ignored (after it was checked).
        rows = collection.rows(request.user, interval if collection.temporal else None)
        rows = narrow(request, collection, rows)
        matched = None if collection.large else rows.count()
        page = rows.order_by(collection.id_field)
        if after is not None:
            page = page.filter(**{f"{collection.id_field}__gt": after})
        geometry = crs.geometry_expression(F(collection.geometry), out)
        found = output.feature_rows(page[: limit + 1], collection, geometry, out.decimals)
        more = len(found) > limit
        found = found[:limit]
        next_after = found[-1][1] if more else None
        media = links.GEOJSON if fmt == "json" else links.HTML
        page_links = self._links(request, collection, next_after)
        if fmt == "html":
            return self._html(request, collection, found, page_links, matched, out)
        text = output.feature_collection(
            [text for text, _fid in found], links=page_links, number_matched=matched
        )
        response = base.json_response(text, media)
        response["Content-Crs"] = crs.content_crs_header(out)
        return response

    def _links(self, request, collection, next_after) -> list[dict]:
        path = base.items_path(collection)
        found = links.self_and_alternate(request, path, links.GEOJSON)
        if next_after is not None:
            rest = links.query_without(request, "after", "f")
            found.append(
                links.link(
                    links.url(request, path, [*rest, ("after", str(next_after)), ("f", "json")]),
                    "next",
                    links.GEOJSON,
                    _("next page"),
                )
            )
        found.append(
            links.link(
                links.url(request, base.collection_path(collection)),
                "collection",
                links.JSON,
                collection.title,
            )
        )
        return found

    def _html(self, request, collection, found, page_links, matched, out):
        features = base.labelled(request, collection, [json.loads(text) for text, _fid in found])
        html_links = links.for_html(page_links)
        next_link = next((item for item in html_links if item["rel"] == "next"), None)
        if next_link is not None:
            # The JSON next link ends in f=json (ItemsView._links): the page's own is HTML.
            next_link = next_link | {"href": next_link["href"].removesuffix("f=json") + "f=html"}
        return base.html_response(
            request,
            "items.html",
            {
                "collection": collection,
                "features": features,
                "columns": list(collection.properties),
                "links": html_links,
                "next_link": next_link,
                "temporal": collection.temporal is not None,
                # The map draws lon/lat: only when the page is in CRS84.
                "map_data": {
                    "type": "FeatureCollection",
                    "features": [
                        {"type": "Feature", "id": f.get("id"), "geometry": f.get("geometry")}
                        for f in features
                        if f.get("geometry")
                    ],
                }
                if out is crs.DEFAULT and features
                else None,
                "basemap": basemap_layers(),
                "first_page": links.url(
                    request,
                    request.path,
                    links.query_without(request, "after", "f") + [("f", "html")],
                ),
                "matched": matched,
            },
        )


class ItemView(edits.ItemEditsMixin, OgcView):
    @extend_schema(**schema.ITEM)
    def get(self, request, collection_id: str, fid: str):
        collection = base.collection_or_404(request, collection_id)
        self.ogc_collection = collection  # the Allow header of Part 4 (ogc.views.edits)
        params.refuse_unknown(request.query_params, {"f", "crs"})
        fmt = params.output_format(request)
        if fmt == "html":
            out = base.output_crs(request)
            text = base.feature_text(request, collection, fid, out)
            if text is None:
                raise OgcError(404, "not_found", "featureId", _("There is no such feature."))
            (feature,) = base.labelled(request, collection, [json.loads(text)])
            return base.html_response(
                request,
                "item.html",
                {
                    "collection": collection,
                    "feature": feature,
                    "rows": [
                        (p, value, _code_link(request, p.name, value))
                        for p in collection.properties
                        for value in [feature["properties"].get(p.name)]
                    ],
                    # The map draws lon/lat: only when the page is in CRS84.
                    "geometry": feature.get("geometry") if out is crs.DEFAULT else None,
                    "basemap": basemap_layers(),
                    "links": links.for_html(feature.get("links", [])),
                },
            )
        response = base.item_response(request, collection, fid)
        etag = response.get("ETag")
        if etag and base.etags.not_modified(request, etag):
            response.status_code = 304
            response.content = b""
        return response
