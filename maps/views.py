from __future__ import annotations

import gzip

from django.contrib.auth.decorators import login_required
from django.contrib.gis.db.models.functions import Envelope
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from grids.basemap import basemap_layers
from grids.models import Grid, GridBoundary, Household, Region
from maps import registry
from maps.tiles import BadFilter, BadTile, get_tile, parse_filters, parse_tile

SEARCH_LIMIT = 10


def _error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    error = {"code": code, "message": message} | ({"field": field} if field else {})
    return JsonResponse({"status": status, "errors": [error]}, status=status)


@require_GET
def tile(request, layer: str, z: str, x: str, y: str):
    """GET /tiles/<layer>/<z>/<x>/<y>.pbf: a vector tile of what the user may see."""
    if not request.user.is_authenticated:
        return _error(401, "not_authenticated", "log in to see map tiles")
    found = registry.get(layer)
    if found is None or not found.visible_to(request.user):
        raise Http404(f"no layer {layer}")
    try:
        z_, x_, y_ = parse_tile(z, x, y)
    except BadTile as exc:
        return _error(400, "bad_tile", str(exc), "z/x/y")
    try:
        filters = parse_filters(found, request.GET, request.user)
    except BadFilter as exc:
        return _error(400, "bad_filter", str(exc), exc.field)
    result = get_tile(found, request.user, z_, x_, y_, filters)
    headers = {"ETag": result.etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("If-None-Match") == result.etag:
        response = HttpResponse(status=304, headers=headers)
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(
            result.gzipped,
            content_type="application/vnd.mapbox-vector-tile",
            headers={**headers, "Content-Encoding": "gzip"},
        )
    else:
        response = HttpResponse(
            gzip.decompress(result.gzipped),
            content_type="application/vnd.mapbox-vector-tile",
            headers=headers,
        )
    patch_vary_headers(response, ["Accept-Encoding", "Cookie", "Authorization"])
    return response


@login_required
def map_page(request):
    """一屏统揽: the whole jurisdiction on one map; the landing page after login."""
    user = request.user
    layers = [
        {
            "name": layer.name,
            "title": str(layer.title),
            "kind": layer.kind,
            "minZoom": layer.min_zoom,
            "style": layer.style,
            "aggregatedBelow": layer.aggregation.below_zoom if layer.aggregation else None,
            "filters": {
                name: {
                    "title": str(f.title),
                    "choices": [[v, str(label)] for v, label in f.choices(user)],
                }
                for name, f in layer.filters.items()
            },
            "url": reverse("tile", args=[layer.name, 0, 0, 0]).replace(
                "/0/0/0.pbf", "/{z}/{x}/{y}.pbf"
            ),
        }
        for layer in registry.layers_for(user)
    ]
    node = user.grid or user.region or (user.department.district if user.department_id else None)
    extent = None
    if node is not None:
        extent = node.boundary_on().extent
    elif district := Region.objects.visible_to(user).filter(parent__isnull=True).first():
        extent = district.boundary_on().extent
    config = {
        "layers": layers,
        "basemap": basemap_layers(),
        "extent": extent,
        "urls": {
            "rollup": reverse("api-rollup"),
            "grids": "/api/grids/",
            "households": "/api/households/",
            "search": reverse("map-search"),
            # 一表通: fetched only once the user colours the grids by an indicator or by
            # ledger completeness.
            "indicators": reverse("indicator-list"),
            "indicatorGroups": reverse("indicator-group-list"),
            "completeness": reverse("completeness"),
        },
        # The server's today, for the periods offered (the last complete one by default).
        "today": timezone.localdate().isoformat(),
        "user": {
            "name": user.get_full_name() or user.username,
            "role": user.get_role_display() if user.role else "",
        },
    }
    return render(request, "maps/map.html", {"config": config, "node": node})


@login_required
@require_GET
def search(request):
    """Grids by code or name and households by address, within the user's jurisdiction;
    each result with the extent to fly to."""
    q = request.GET.get("q", "").strip()
    if len(q) < 2:
        return _error(400, "too_short", "type at least 2 characters", "q")
    grids = (
        Grid.objects.visible_to(request.user)
        .valid_on()
        .filter(Q(code__startswith=q) | Q(name__icontains=q))
        .order_by("code")[:SEARCH_LIMIT]
    )
    extents = dict(
        GridBoundary.objects.current()
        .filter(grid__in=list(grids))
        .annotate(box=Envelope("geom"))
        .values_list("grid_id", "box")
    )
    results = [
        {
            "type": "grid",
            "id": g.pk,
            "label": f"{g.name} {g.code}",
            "extent": extents[g.pk].extent if g.pk in extents else None,
        }
        for g in grids
    ]
    households = (
        Household.objects.visible_to(request.user)
        .existing_on()
        .filter(address__icontains=q)
        .select_related("grid")
        .order_by("address")[:SEARCH_LIMIT]
    )
    results += [
        {
            "type": "household",
            "id": h.pk,
            "label": h.address,
            "point": [h.location.x, h.location.y],
            "grid": h.grid.code if h.grid else None,
        }
        for h in households
    ]
    return JsonResponse({"q": q, "results": results})
