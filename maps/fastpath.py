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

Revocation: URLs expire within LIFETIME_HOURS + 1. A deactivated user, a revoked kiosk
(screen calls `revoke("k<id>")`) and a user moved to another role or jurisdiction (the old
scope: "<id>@<scope key>") get a row in maps.RevokedHolder until then; every process re-reads
the table at most REVOKED_REFRESH seconds apart, after which those URLs get nothing from the
fast path. Django refuses them at once (the session is gone, or its scope is no longer the
signed one). The database, not the cache, is the record: a cache evicts (allkeys-lru) and
restarts empty.
"""

from __future__ import annotations

import base64
import datetime as dt
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
from django.db import DatabaseError, transaction
from django.utils import timezone

from maps.composite import composite_key
from maps.models import RevokedHolder
from maps.tiles import MAX_ZOOM, RECENT, scope_key

log = logging.getLogger(__name__)

LIFETIME_HOURS = 4
REVOKED_REFRESH = 10.0
FIELDS = ("l", "f", "v", "s", "u", "e")
PATH = re.compile(r"^/tiles/(\d{1,2})/(\d{1,7})/(\d{1,7})\.pbf$")
CONTENT_TYPE = "application/vnd.mapbox-vector-tile"


def _secret() -> bytes:
    # Derived, so that a tile signature can never be replayed as another signed value.
    return hashlib.sha256(b"gridline.maps.tiles:" + settings.SECRET_KEY.encode()).digest()


def signature(values: dict[str, str]) -> str:
    message = "\n".join(values[name] for name in FIELDS).encode("utf-8", "surrogatepass")
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
    # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError, not a "no").
    sig = values["sig"].encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(sig, signature(values).encode()):
        raise BadSignature("bad_signature", "the tile URL's signature does not match")
    e = values["e"]
    if not (e.isascii() and e.isdigit()) or int(e) <= (time.time() if now is None else now):
        raise BadSignature("expired", "the tile URL has expired: fetch /api/map/tiles.json", "e")
    if revoked(values["u"], values["s"]):
        raise BadSignature("revoked", "the tile URL's holder has been signed out", "u")
    return values


class Revoked:
    """The revoked holders (name → until, unix seconds), re-read from the database at most
    REVOKED_REFRESH apart: one small query per process every few seconds, not per tile."""

    def __init__(self):
        self.names: dict[str, float] = {}
        self.read_at = float("-inf")
        self.lock = threading.Lock()

    def current(self) -> dict[str, float]:
        if time.monotonic() - self.read_at > REVOKED_REFRESH:
            with self.lock:
                if time.monotonic() - self.read_at > REVOKED_REFRESH:  # not just re-read
                    rows = RevokedHolder.objects.filter(until__gt=timezone.now())
                    self.names = {n: u.timestamp() for n, u in rows.values_list("name", "until")}
                    self.read_at = time.monotonic()
        return self.names

    def forget(self) -> None:
        """Re-read on the next request (after a change made by this process)."""
        with self.lock:
            self.read_at = float("-inf")


REVOKED = Revoked()


def revoked(holder_text: str, scope: str | None = None) -> bool:
    """Whether a URL issued to this holder (for this scope key) is revoked."""
    names = REVOKED.current()
    if not names:
        return False
    user, _, kiosk = holder_text.partition(".")
    moved = f"{user}@{scope}" if user and scope is not None else ""
    now = time.time()
    return any(names.get(name, 0) > now for name in (user, kiosk, moved) if name)


def revoke(name: str) -> None:
    """Stop the fast path serving the URLs of a user (its id), a kiosk ("k<id>") or a user in
    a scope it left ("<id>@<scope key>") until every URL issued so far has expired. Written in
    the caller's transaction: a rolled-back deactivation revokes nothing."""
    now = timezone.now()
    until = now + dt.timedelta(hours=LIFETIME_HOURS + 1)
    # One upsert: two revocations at once cannot lose one.
    RevokedHolder.objects.bulk_create(
        [RevokedHolder(name=name, until=until)],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["until"],
    )
    RevokedHolder.objects.filter(until__lte=now).delete()
    transaction.on_commit(REVOKED.forget)


def unrevoke(name: str) -> None:
    RevokedHolder.objects.filter(name=name).delete()
    transaction.on_commit(REVOKED.forget)


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
        except DatabaseError:
            # The revocations cannot be read: Django decides (with the session) or answers
            # the outage.
            log.warning("tile revocations unreadable; the request goes to Django", exc_info=True)
            return None
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


# Saves that cannot change what a user sees (a login's last_login, a new password): no read.
SCOPE_FREE_FIELDS = frozenset({"last_login", "password"})


def user_saving(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Remember whether the user was active and the scope key they are saved from, for
    user_saved (one read of the stored row)."""
    if raw or instance.pk is None or (update_fields and set(update_fields) <= SCOPE_FREE_FIELDS):
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    if old is not None:
        instance.tile_holder_before = (old.is_active, scope_key(old))


def user_saved(sender, instance, raw=False, **kwargs) -> None:
    """A deactivated user's tile URLs stop working, and so do the URLs of a scope the user was
    moved out of (role, region, grid, department): the fast path trusts the signed scope and
    reads no session. Reactivated or moved back, they work again."""
    before = instance.__dict__.pop("tile_holder_before", None)
    if raw:
        return
    name = str(instance.pk)
    if not instance.is_active:
        revoke(name)
        return
    if before is None:
        return
    was_active, old_scope = before
    if not was_active:
        unrevoke(name)
    new_scope = scope_key(instance)
    if old_scope != new_scope:
        revoke(f"{name}@{old_scope}")
        unrevoke(f"{name}@{new_scope}")
