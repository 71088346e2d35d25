"""The phone app's shell (issue #18): the one HTML page of /field/, its service worker, web app
manifest and offline page.

The shell is the same for every user (the phone authenticates its API calls with a device
token, never a session), so the service worker may keep it and open the app without signal.
The precache list is computed from the static files as they are served: hashed names in
production (the manifest storage), plain names in development; the worker's text embeds the
list, so a deploy that changes any file changes sw.js and the browser installs the new one."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

# Static folders and files the app needs offline: the shell (everything under field/), kept at
# install; the map pack (the map core, MapLibre, the Latin glyphs), about 500 KB compressed,
# kept after the first sync or when a map is first shown — so the shell a phone must fetch
# before it works stays small.
SHELL_PREFIXES = ("field/",)
# Shared modules the shell imports (field/photos.js → the photo shrink the needs pages use too).
SHELL_FILES = ("gridline/photo-shrink.js",)
MAP_FILES = (
    "gridline/api.js",
    "gridline/live.js",
    "gridline/maplibre-words.js",
    "gridline/map/index.js",
    "gridline/map/clicks.js",
    "gridline/map/controls.js",
    "gridline/map/marks.js",
    "gridline/map/search.js",
    "gridline/map/tiles.js",
    "gridline/map/map.css",
    "vendor/maplibre-gl/maplibre-gl.mjs",
    "vendor/maplibre-gl/maplibre-gl-worker.mjs",
    "vendor/maplibre-gl/maplibre-gl.css",
)
# Map labels: digits, Latin and general punctuation (· – …); Chinese is drawn with the phone's
# own font. Other ranges are fetched (and kept by the worker) only if a label needs them.
GLYPH_RANGES = ("0-255.pbf", "8192-8447.pbf")
GLYPH_PREFIX = "gridline/glyphs/"
SKIP_SUFFIXES = (".map", ".gz", ".br", ".py")
THEME = "#12324f"


def _static_names() -> tuple[list[str], list[str]]:
    """The shell's static names and the map pack's, from the files Django would serve."""
    shell: set[str] = set(SHELL_FILES)
    pack: set[str] = set(MAP_FILES)
    for finder in finders.get_finders():
        for path, _storage in finder.list(ignore_patterns=None):
            name = path.replace("\\", "/")
            if name.startswith(SHELL_PREFIXES):
                shell.add(name)
            elif name.startswith(GLYPH_PREFIX) and name.endswith(GLYPH_RANGES):
                pack.add(name)
    # The worker's own source is served by service_worker(), not kept as a file; the main
    # site's pages of the field app (devices, patrols) are not part of the phone's shell.
    shell.discard("field/sw.js")

    def keep(names):
        return sorted(
            n
            for n in names
            if not n.endswith(SKIP_SUFFIXES) and "/tests/" not in n and "-page." not in n
        )

    return keep(shell), keep(pack)


def _fingerprint(names: list[str], urls: list[str]) -> str:
    """What changes when any file changes: the hashed URLs in production; in development (plain
    names) the files' sizes and times, so an edited module installs a new worker too."""
    digest = hashlib.sha256("\n".join(urls).encode())
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        for name in names:
            found = finders.find(name)
            if found:
                stat = Path(found).stat()
                digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _precache() -> dict:
    shell_names, pack_names = _static_names()
    urls = [static(name) for name in shell_names]
    pack = [static(name) for name in pack_names]
    pages = [reverse("field:shell"), reverse("field:offline"), reverse("field:manifest")]
    catalog = reverse("javascript-catalog")
    return {
        "version": _fingerprint(shell_names + pack_names, pages + urls + pack),
        "shell": reverse("field:shell"),
        "offline": reverse("field:offline"),
        "catalog": catalog,
        "static": settings.STATIC_URL,
        "outbox": "/api/field/outbox/",
        "precache": pages + [catalog] + urls,
        "mapPack": pack,
    }


# Production files change only with a deploy (a new process); development edits are seen.
_precache_once = lru_cache(maxsize=1)(_precache)


def precache() -> dict:
    return _precache() if settings.DEBUG else _precache_once()


def _config(request) -> dict:
    return {
        "api": {
            "devices": "/api/field/devices/",
            "wiped": "/api/field/devices/wiped/",
            "sync": "/api/field/sync/",
            "outbox": "/api/field/outbox/",
            "logout": "/api/auth/logout/",
        },
        "sw": reverse("field:sw"),
        "scope": reverse("field:shell"),
        "static": settings.STATIC_URL,
        "maplibre": static("vendor/maplibre-gl/maplibre-gl.mjs"),
        "mapcore": static("gridline/map/index.js"),
        "maplibreCss": static("vendor/maplibre-gl/maplibre-gl.css"),
        "version": precache()["version"],
        # The server's own limits, the same for every user (the shell stays cacheable): the
        # phone flags a far visit and finds duplicates offline by them.
        "limits": {
            "visit_distance_m": settings.GRIDLINE_VISIT_DISTANCE_M,
            "duplicate_m": settings.GRIDLINE_DUPLICATE_M,
            "need_photos": settings.GRIDLINE_NEEDS_PHOTOS_MAX,
        },
    }


@require_safe
def shell(request):
    """GET /field/: the app's one page. No user data in it (the service worker keeps it)."""
    response = render(request, "field/app.html", {"config": _config(request), "theme": THEME})
    # Asked afresh whenever online; the service worker answers it offline.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def service_worker(request):
    """GET /field/sw.js: the worker's code with the precache list of this deploy."""
    path = finders.find("field/sw.js")
    with open(path, encoding="utf-8") as handle:
        code = handle.read()
    config = json.dumps(precache(), ensure_ascii=False)
    response = HttpResponse(
        f"self.FIELD_CONFIG = {config};\n{code}", content_type="text/javascript; charset=utf-8"
    )
    # The browser checks for a new worker on each visit; never served from an HTTP cache.
    response["Cache-Control"] = "no-cache, max-age=0"
    response["Service-Worker-Allowed"] = reverse("field:shell")
    return response


@require_safe
def manifest(request):
    """GET /field/manifest.webmanifest: what a phone needs to install the app (optional: the
    same app runs as a page inside a webview)."""
    icons = [
        {"src": static("field/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("field/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {
            "src": static("field/icons/maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ]
    body = {
        "name": _("Gridline field app"),
        "short_name": _("Grid work"),
        "description": _("The grid worker's day: tasks, incidents, visits and records, offline."),
        "lang": "zh-CN",
        "id": reverse("field:shell"),
        "start_url": reverse("field:shell") + "#/home",
        "scope": reverse("field:shell"),
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": icons,
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json; charset=utf-8"
    return response


@require_safe
def offline(request):
    """GET /field/offline/: what the worker shows for a page it does not hold while offline."""
    return render(request, "field/offline.html", {"theme": THEME})
