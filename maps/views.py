from __future__ import annotations

import gzip

from django.http import Http404, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from maps import registry
from maps.tiles import BadTile, get_tile, parse_tile


@require_GET
def tile(request, layer: str, z: str, x: str, y: str):
    """GET /tiles/<layer>/<z>/<x>/<y>.pbf: a vector tile of what the user may see."""
    if not request.user.is_authenticated:
        return JsonResponse(
            {
                "status": 401,
                "errors": [{"code": "not_authenticated", "message": "log in to see map tiles"}],
            },
            status=401,
        )
    found = registry.get(layer)
    if found is None or not found.visible_to(request.user):
        raise Http404(f"no layer {layer}")
    try:
        z_, x_, y_ = parse_tile(z, x, y)
    except BadTile as exc:
        return JsonResponse(
            {
                "status": 400,
                "errors": [{"code": "bad_tile", "field": "z/x/y", "message": str(exc)}],
            },
            status=400,
        )
    result = get_tile(found, request.user, z_, x_, y_)
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
