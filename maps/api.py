"""The map's machine endpoints: the style and TileJSON, the composite tile, the per-layer
tile, and the offline base map file."""

from __future__ import annotations

import gzip

from django.http import Http404, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from rest_framework.exceptions import AuthenticationFailed

from grids.auth import request_user
from maps import registry
from maps.composite import BadRequest, get_composite, parse_filters_text, parse_request
from maps.fastpath import BadSignature, holder, tile_headers, verify
from maps.style import THEMES, build_style
from maps.style import tilejson as tilejson_of
from maps.tiles import BadFilter, BadTile, get_tile, parse_filters, parse_tile, scope_key


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


def _authenticated(request) -> bool:
    """A session, or a token in the Authorization header: the field app's phones have no
    session. A bad token counts as not logged in (the caller's 401)."""
    try:
        return request_user(request).is_authenticated
    except AuthenticationFailed:
        return False


def _refusal(exc: BadRequest, status: int = 400) -> JsonResponse:
    return _error(status, exc.code, str(exc), exc.field)


def _filter_params(query) -> dict[str, list[str]]:
    return {key: query.getlist(key) for key in query if "." in key}


@require_GET
def tilejson(request):
    """GET /api/map/tiles.json?layers=a,b[&<layer>.<param>=v…]: TileJSON 3.0.0 whose tile URL
    is the signed composite tile of these layers for this user."""
    if not _authenticated(request):
        return _error(401, "not_authenticated", "log in to see the map")
    unknown = sorted(k for k in request.GET if k != "layers" and "." not in k)
    if unknown:
        return _error(400, "unknown_parameter", f"unknown parameter {unknown[0]!r}", unknown[0])
    try:
        tiles = parse_request(
            request.GET.get("layers", ""), _filter_params(request.GET), request.user
        )
    except BadRequest as exc:
        return _refusal(exc)
    return _private(JsonResponse(tilejson_of(request, tiles)))


@require_GET
def style_json(request):
    """GET /api/map/style.json?preset=<name>&theme=light|dark: the user's MapLibre style."""
    if not _authenticated(request):
        return _error(401, "not_authenticated", "log in to see the map")
    theme = request.GET.get("theme", "light")
    if theme not in THEMES:
        return _error(400, "bad_theme", f"theme is one of {list(THEMES)}, not {theme!r}", "theme")
    name = request.GET.get("preset")
    if name:
        preset = registry.get_preset(name)
        if preset is None:
            return _error(400, "unknown_preset", f"there is no map preset {name!r}", "preset")
        if not preset.visible_to(request.user):
            return _error(
                400, "forbidden_preset", f"preset {name!r} shows nothing of yours", "preset"
            )
    else:
        preset = registry.default_preset(request.user)
    # A broken base map is left out (metadata.gridline.basemapMissing), not a refusal.
    return _private(JsonResponse(build_style(request, preset, theme)))


def _private(response):
    # Per user and signed with an expiring URL: never shared, fetched afresh each time.
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ["Cookie", "Authorization"])
    return response


@require_GET
def composite_tile(request, z: str, x: str, y: str):
    """GET /tiles/<z>/<x>/<y>.pbf?<signed>: the composite tile, when the fast path had it not
    cached (or the signature is refused: said here, with the reason)."""
    try:
        z_, x_, y_ = parse_tile(z, x, y)
    except BadTile as exc:
        return _error(400, "bad_tile", str(exc), "z/x/y")
    try:
        values = verify(dict(request.GET.lists()))
    except BadSignature as exc:
        return _error(400 if exc.code == "missing" else 403, exc.code, str(exc), exc.field)
    if not _authenticated(request):
        return _error(401, "not_authenticated", "log in to see map tiles")
    user = request.user
    if values["u"] != holder(request) or values["s"] != scope_key(user):
        return _error(403, "wrong_holder", "this tile URL was issued to another session", "u")
    try:
        tiles = parse_request(values["l"], parse_filters_text(values["f"]), user)
    except BadRequest as exc:
        # Signed by us, so only a change to the user's role makes a layer unseeable.
        return _refusal(exc, 403 if exc.code == "forbidden_layer" else 400)
    tile, _version = get_composite(tiles, user, z_, x_, y_)
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    expires = int(values["e"])
    if request.headers.get("If-None-Match") == tile.etag:
        response = HttpResponse(status=304)
        headers = tile_headers(tile, False, expires)[1:]
    else:
        body = tile.gzipped if gzipped else gzip.decompress(tile.gzipped)
        response = HttpResponse(body)
        headers = tile_headers(tile, gzipped, expires)
    for name, value in headers:
        response[name] = value
    return response
