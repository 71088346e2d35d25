"""Signed composite tile URLs, and the fast path that serves cached tiles before Django.

A cached tile must cost a small fraction of a cold one (bench: ≤ 0.05), less than a session
read and the middleware stack take. So the TileJSON (maps/api.py) gives the browser a URL
signed with the secret key that names everything the tile depends on:

    /tiles/{z}/{x}/{y}.pbf?l=<layers>&f=<filters>&v=<versions>&s=<scope>&u=<holder>&e=<expiry>&sig=…

`l` and `f` what is drawn, `v` the combined version of the layers (so the URL changes with
the data and may be cached as immutable), `s` the scope key (users of the same role and
jurisdiction share tiles), `u` who it was issued to (the user's id, with `.k<id>` for a kiosk
session), `e` when it stops working (unix seconds). `FastTiles` wraps the WSGI application:
a GET for such a URL with a valid, unexpired signature, a holder not revoked and the tile in
this process's recent tiles or the shared cache is answered at once, without a session read;
anything else falls through to Django (maps.api.composite_tile), which checks that the
session is the holder and its scope the signed one, builds and caches.

Revocation: URLs expire within LIFETIME_HOURS + 1. A deactivated user, or a revoked kiosk
(screen calls `revoke("k<id>")`), is put on a list in the shared cache that every process
re-reads at most REVOKED_REFRESH seconds apart, after which its URLs get nothing from the
fast path; Django refuses them at once, as their session is gone. Without a shared cache
(one process) the list is that process's.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import logging
import re
import threading
import time
from urllib.parse import parse_qs, urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from maps.composite import composite_key
from maps.tiles import MAX_ZOOM, RECENT

log = logging.getLogger(__name__)

LIFETIME_HOURS = 4
REVOKED_KEY = "tiles:revoked"
REVOKED_REFRESH = 10.0
FIELDS = ("l", "f", "v", "s", "u", "e")
PATH = re.compile(r"^/tiles/(\d{1,2})/(\d{1,7})/(\d{1,7})\.pbf$")
CONTENT_TYPE = "application/vnd.mapbox-vector-tile"


def _secret() -> bytes:
    # Derived, so that a tile signature can never be replayed as another signed value.
    return hashlib.sha256(b"gridline.maps.tiles:" + settings.SECRET_KEY.encode()).digest()


def signature(values: dict[str, str]) -> str:
    message = "\n".join(values[name] for name in FIELDS).encode()
    digest = hmac.new(_secret(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()  # 144 bits


def expiry(now: float | None = None) -> int:
    """LIFETIME_HOURS to LIFETIME_HOURS + 1 from now, on a whole hour: the URLs a user gets
    within the same hour are the same, so the browser's cache serves them."""
    hour = int((time.time() if now is None else now) // 3600)
    return (hour + 1 + LIFETIME_HOURS) * 3600


def holder(request) -> str:
    """Who a URL is issued to: the user, and the kiosk when the session is one (screen's
    middleware sets request.kiosk_id)."""
    kiosk = getattr(request, "kiosk_id", None)
    return f"{request.user.pk}.k{kiosk}" if kiosk else str(request.user.pk)


def signed_query(values: dict[str, str]) -> str:
    """The query string of a tile URL for these values (FIELDS but "sig")."""
    return urlencode({**{name: values[name] for name in FIELDS}, "sig": signature(values)})


class BadSignature(ValueError):
    def __init__(self, code: str, message: str, field: str = "sig"):
        super().__init__(message)
        self.code = code
        self.field = field


def verify(query: dict[str, list[str]], now: float | None = None) -> dict[str, str]:
    """The signed values of a tile URL's query, or BadSignature saying why not."""
    values = {}
    for name in (*FIELDS, "sig"):
        found = query.get(name)
        if not found or len(found) != 1:
            raise BadSignature("missing", f"the tile URL needs exactly one {name!r}", name)
        values[name] = found[0]
    if not hmac.compare_digest(values["sig"], signature(values)):
        raise BadSignature("bad_signature", "the tile URL's signature does not match")
    if not values["e"].isdigit() or int(values["e"]) <= (time.time() if now is None else now):
        raise BadSignature("expired", "the tile URL has expired: fetch /api/map/tiles.json", "e")
    if revoked(values["u"]):
        raise BadSignature("revoked", "the tile URL's holder has been signed out", "u")
    return values


class Revoked:
    """The revoked holders, re-read from the shared cache at most REVOKED_REFRESH apart."""

    def __init__(self):
        self.names: dict[str, float] = {}
        self.read_at = float("-inf")
        self.lock = threading.Lock()

    def current(self) -> dict[str, float]:
        now = time.monotonic()
        if now - self.read_at > REVOKED_REFRESH:
            with self.lock:
                self.names = cache.get(REVOKED_KEY) or {}
                self.read_at = now
        return self.names


REVOKED = Revoked()


def revoked(holder_text: str) -> bool:
    names = REVOKED.current()
    if not names:
        return False
    user, _, kiosk = holder_text.partition(".")
    now = time.time()
    return any(names.get(name, 0) > now for name in (user, kiosk) if name)


def revoke(name: str) -> None:
    """Stop the fast path serving the URLs of a user (its id) or a kiosk ("k<id>") until every
    URL issued so far has expired."""
    _change(name, time.time() + (LIFETIME_HOURS + 1) * 3600)


def unrevoke(name: str) -> None:
    _change(name, None)


def _change(name: str, until: float | None) -> None:
    now = time.time()
    names = {k: v for k, v in (cache.get(REVOKED_KEY) or {}).items() if v > now and k != name}
    if until is not None:
        names[name] = until
    cache.set(REVOKED_KEY, names, (LIFETIME_HOURS + 1) * 3600)
    with REVOKED.lock:
        REVOKED.names = names
        REVOKED.read_at = time.monotonic()


def tile_headers(tile, gzipped: bool, expires: int, now: float | None = None) -> list:
    """The headers of a tile answer, the same from the fast path and from Django."""
    left = max(0, expires - int(time.time() if now is None else now))
    headers = [
        ("Content-Type", CONTENT_TYPE),
        ("ETag", tile.etag),
        # The URL carries the data's versions: its content never changes, only expires.
        ("Cache-Control", f"private, max-age={left}, immutable"),
        ("Vary", "Accept-Encoding"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return [*headers, ("Content-Encoding", "gzip")] if gzipped else headers


class FastTiles:
    """WSGI middleware: cached composite tiles for valid signed URLs, before Django."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET":
            match = PATH.match(environ.get("PATH_INFO", ""))
            if match:
                answer = self.cached(environ, match)
                if answer is not None:
                    status, headers, body = answer
                    start_response(status, headers)
                    return [body]
        return self.application(environ, start_response)

    def cached(self, environ, match):
        z, x, y = (int(value) for value in match.groups())
        if z > MAX_ZOOM or x >= 2**z or y >= 2**z:
            return None
        try:
            values = verify(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        except BadSignature:
            return None  # Django answers with the reason
        key = composite_key(values["v"], values["s"], values["l"], values["f"], z, x, y)
        tile = RECENT.get(key)
        if tile is None:
            try:
                tile = cache.get(key)
            except Exception:  # noqa: BLE001 - Django's view answers a cache outage (503)
                log.warning("tile cache unavailable; the request goes to Django", exc_info=True)
                return None
            if tile is None:
                return None
            RECENT.put(key, tile)
        expires = int(values["e"])
        if environ.get("HTTP_IF_NONE_MATCH") == tile.etag:
            return "304 Not Modified", tile_headers(tile, False, expires)[1:], b""
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return "200 OK", tile_headers(tile, True, expires), tile.gzipped
        return "200 OK", tile_headers(tile, False, expires), gzip.decompress(tile.gzipped)


def user_saved(sender, instance, **kwargs) -> None:
    """A deactivated user's tile URLs stop working (after the commit: a rolled-back change
    must not lock anyone out); reactivated, they work again."""
    name = str(instance.pk)
    if not instance.is_active:
        transaction.on_commit(lambda: revoke(name))
    elif name in REVOKED.current():
        transaction.on_commit(lambda: unrevoke(name))
