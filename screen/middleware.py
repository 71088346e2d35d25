"""Kiosk sessions are read-only and see only what the wall screen needs.

Every request of a session opened by a kiosk link (screen.views.kiosk_open) passes here
after the session and the user are known: anything but GET/HEAD, and any path outside the
screen's own (the page, its figures, the map's style and tiles, the event stream, the words,
static files), is refused; a revoked kiosk's session is ended on its next request. The map's
style and TileJSON are limited to the screen's preset, and of the tiles only the composite
tile (whose signed layer list came from that style or TileJSON) is served: the per-layer
/tiles/<layer>/… form is refused, so a kiosk cannot ask for households or any layer the
wall does not show."""

from __future__ import annotations

import logging
import re

from django.contrib.auth import logout
from django.http import HttpResponse
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from grids.api.errors import error_response, is_api
from grids.resilience import is_outage
from maps import registry
from screen.services import kiosks

log = logging.getLogger(__name__)

SESSION_KEY = "screen.kiosk"
SCREEN_PRESET = "screen"
# Exact paths and prefixes a kiosk session may read.
PATHS = frozenset({"/screen/", "/api/screen/figures/", "/jsi18n/", "/basemap.pmtiles"})
PREFIXES = ("/static/", "/events/", "/api/map/style.json", "/api/map/tiles.json")
# The composite tile only (maps.urls "tiles"), not one layer's tile (maps.urls "tile").
COMPOSITE_TILE = re.compile(r"/tiles/-?\d+/-?\d+/-?\d+\.pbf")
READ = frozenset({"GET", "HEAD"})
KIOSK_LINK = "/screen/kiosk/"


def _screen_layers() -> set[str] | None:
    preset = registry.get_preset(SCREEN_PRESET)
    return set(preset.layers) if preset else None


def _map_query_allowed(request) -> bool:
    """style.json only for the screen's preset; tiles.json only for its layers."""
    path = request.path_info
    if path.startswith("/api/map/style.json"):
        return request.GET.get("preset") == SCREEN_PRESET
    if path.startswith("/api/map/tiles.json"):
        allowed = _screen_layers()
        asked = {n for n in request.GET.get("layers", "").split(",") if n}
        return allowed is not None and asked <= allowed
    return True


def allowed(request) -> bool:
    path = request.path_info
    if path in PATHS or COMPOSITE_TILE.fullmatch(path):
        return True
    return path.startswith(PREFIXES) and _map_query_allowed(request)


def _refuse(request, status: int, code: str, message: str) -> HttpResponse:
    if is_api(request) or request.path_info.startswith("/events/"):
        return error_response(status, [{"code": code, "message": message, "field": None}])
    return HttpResponse(
        format_html(
            '<!doctype html><html lang="{}"><head><meta charset="utf-8"><title>{}</title>'
            "</head><body><h1>{}</h1></body></html>",
            get_language(),
            message,
            message,
        ),
        status=status,
    )


class KioskMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        try:
            kiosk_id = session.get(SESSION_KEY) if session is not None else None
        except Exception as exc:
            # PostgreSQL or Redis away (a restart): the view answers as it does in an outage
            # (grids.resilience: 503 JSON or page, /healthz its own report). Whatever it
            # would show needs the session or the database, so no kiosk reads more than it may.
            if not is_outage(exc):
                raise
            log.warning("%s %s: session unreadable during an outage", request.method, request.path)
            return self.get_response(request)
        if kiosk_id is None:
            return self.get_response(request)
        if kiosks.is_revoked(kiosk_id):
            logout(request)
            return _refuse(
                request, 401, "kiosk_revoked", _("This wall screen's login has been revoked.")
            )
        if request.path_info.startswith(KIOSK_LINK):
            # The kiosk link opened again on a wall whose session still lives: it logs in
            # afresh (screen.views.kiosk_open), no read of the screen's data.
            return self.get_response(request)
        if request.method not in READ:
            return _refuse(request, 403, "kiosk_read_only", _("A wall screen only reads."))
        if not allowed(request):
            return _refuse(
                request, 403, "kiosk_not_allowed", _("A wall screen shows only the screen.")
            )
        kiosks.touch(kiosk_id)
        # Tile URLs issued to this session name the kiosk (maps.fastpath.holder), so its
        # revocation also stops the cached tiles the fast path answers without a session.
        request.kiosk_id = kiosk_id
        return self.get_response(request)
