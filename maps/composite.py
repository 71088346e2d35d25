"""The composite tile: one MVT per z/x/y holding every layer the map has on (issue #16).

An MVT is a sequence of layer messages, so the concatenation of per-layer `ST_AsMVT` results
is itself a valid tile. Each layer's part is scoped, aggregated and cached under that layer's
own version, so a change to one layer rebuilds only its part; the parts missing from the cache
are built by one statement (one round trip). The gzipped whole is cached under the combined
version of its layers, which the signed URL carries, so the fast path (maps/fastpath.py) finds
it from the URL alone.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils.datastructures import MultiValueDict

from maps import registry, tiles
from maps.models import TileVersion
from maps.registry import Layer
from maps.tiles import (
    RECENT,
    BadFilter,
    Filters,
    Tile,
    filters_key,
    parse_filters,
    scope_key,
    tile_statement,
)

# The source's highest zoom: the browser over-zooms beyond it (points are single features
# from the layers' below_zoom on, so z16 tiles hold all there is to draw).
SOURCE_MAX_ZOOM = 16


@dataclass(frozen=True)
class Request:
    """What a composite tile is made of: layers in order, each with its filters."""

    layers: tuple[Layer, ...]
    filters: dict[str, Filters]  # layer name -> its filters (absent: none)

    @property
    def names(self) -> str:
        return ",".join(layer.name for layer in self.layers)

    @property
    def filters_text(self) -> str:
        """The filters as one canonical string (`layer.param=v1,v2;…`), for the URL and keys."""
        return ";".join(
            f"{name}.{param}={','.join(values)}"
            for name in sorted(self.filters)
            for param, values in self.filters[name]
        )


def layer_versions(names: list[str]) -> dict[str, str]:
    """The current version of each layer, in one round trip (tiles.layer_version per layer
    would take one each)."""
    if not settings.GRIDLINE_SHARED_CACHE:
        found = dict(TileVersion.objects.filter(layer__in=names).values_list("layer", "version"))
        return {name: str(found.get(name, 1)) for name in names}
    keys = {tiles.version_key(name): name for name in names}
    found = cache.get_many(list(keys))
    versions = {keys[key]: value for key, value in found.items()}
    for name in names:
        if name not in versions:
            versions[name] = tiles.layer_version(name)
    return versions


def combined_version(request: Request, versions: dict[str, str]) -> str:
    """One short token for the versions of all the request's layers: it changes when any of
    them does, so a URL holding it changes with the data (and may be cached for long)."""
    text = ";".join(f"{layer.name}={versions[layer.name]}" for layer in request.layers)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def composite_key(version: str, scope: str, names: str, filters: str, z: int, x: int, y: int):
    return f"ctile:{version}:{scope}:{names}:{filters}:{z}:{x}:{y}"


def _part_key(layer: Layer, version: str, scope: str, z, x, y, filters: Filters) -> str:
    key = f"tpart:{layer.name}:{version}:{scope}:{z}:{x}:{y}"
    return f"{key}:{filters_key(filters)}" if filters else key


def in_zoom(layer: Layer, z: int) -> bool:
    """A layer below its min_zoom (or above its max_zoom) is left out of the tile."""
    return layer.min_zoom <= z <= layer.max_zoom


def build_parts(missing: list[tuple[Layer, Filters, str]], user, z, x, y) -> list[bytes]:
    """The MVT parts of these layers, built by one statement: each layer's tile statement is
    a scalar subquery of one SELECT, so the parts come back in one round trip."""
    selects, params = [], []
    for layer, filters, version in missing:
        aggregation = layer.aggregation
        if aggregation and aggregation.prepare and z < aggregation.below_zoom:
            aggregation.prepare()
        statement = tile_statement(layer, user, z, x, y, version, filters)
        if statement is None:  # the user's scope admits nothing of this layer
            selects.append("NULL::bytea")
            continue
        sql, values = statement
        selects.append(f"({sql})")
        params.extend(values)
    if all(s == "NULL::bytea" for s in selects):
        return [b"" for _ in missing]
    # Identifiers and SQL come from the layers' tile statements (code); values are parameters.
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        row = cursor.fetchone()
    return [bytes(value or b"") for value in row]


def composite_statement(request: Request, user, z: int, x: int, y: int):
    """The one statement a cold composite tile runs (the benchmark's reference runs it on a
    cursor): the tile statements of the layers in zoom, as scalar subqueries of one SELECT."""
    selects, params = [], []
    versions = layer_versions([layer.name for layer in request.layers])
    for layer in request.layers:
        if not in_zoom(layer, z):
            continue
        statement = tile_statement(
            layer, user, z, x, y, versions[layer.name], request.filters.get(layer.name, ())
        )
        if statement is not None:
            selects.append(f"({statement[0]})")
            params.extend(statement[1])
    return ("SELECT " + ", ".join(selects), params) if selects else None


def get_composite(request: Request, user, z: int, x: int, y: int) -> tuple[Tile, str]:
    """The composite tile and the combined version it was built under: from this process's
    recent tiles, the shared cache, or built from the cached parts and the missing ones."""
    scope = scope_key(user)
    versions = layer_versions([layer.name for layer in request.layers])
    version = combined_version(request, versions)
    key = composite_key(version, scope, request.names, request.filters_text, z, x, y)
    tile = RECENT.get(key)
    if tile is None:
        wanted = [
            (layer, request.filters.get(layer.name, ()), versions[layer.name])
            for layer in request.layers
            if in_zoom(layer, z)
        ]
        keys = [_part_key(lay, ver, scope, z, x, y, fil) for lay, fil, ver in wanted]
        # One round trip for the whole tile and its parts, one to store what was built.
        cached = cache.get_many([key, *keys])
        tile = cached.get(key)
    if tile is None:
        missing = [(i, w) for i, w in enumerate(wanted) if keys[i] not in cached]
        fresh = {}
        if missing:
            built = build_parts([w for _, w in missing], user, z, x, y)
            fresh = {keys[i]: data for (i, _), data in zip(missing, built, strict=True)}
            cached.update(fresh)
        data = b"".join(cached[k] for k in keys)
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        # Level 1: most tiles are small, and higher levels cost milliseconds for a few percent.
        tile = Tile(gzip.compress(data, 1), f'"{etag}"')
        cache.set_many({**fresh, key: tile}, tiles.CACHE_SECONDS)
    RECENT.put(key, tile)
    return tile, version


def forget_composite(request: Request, user, z: int, x: int, y: int) -> None:
    """Drop one composite tile and its parts from both caches (the benchmark's cold tiles)."""
    scope = scope_key(user)
    versions = layer_versions([layer.name for layer in request.layers])
    key = composite_key(
        combined_version(request, versions), scope, request.names, request.filters_text, z, x, y
    )
    parts = [
        _part_key(lay, versions[lay.name], scope, z, x, y, request.filters.get(lay.name, ()))
        for lay in request.layers
    ]
    cache.delete_many([key, *parts])
    with RECENT.lock:
        if (tile := RECENT.tiles.pop(key, None)) is not None:
            RECENT.size -= len(tile.gzipped)


class BadRequest(ValueError):
    """Refused input, naming the parameter (`layers` or `<layer>.<param>`) and the reason."""

    def __init__(self, field: str, code: str, message: str):
        super().__init__(message)
        self.field = field
        self.code = code


def parse_request(layers_text: str, filter_params: dict[str, list[str]], user) -> Request:
    """The layers (comma-separated names, each one the user may see) and their filters
    (`<layer>.<param>` -> values) of a composite tile, in registry order, so the same choice
    in any order shares its cached tiles."""
    names = [name for name in (layers_text or "").split(",") if name]
    if not names:
        raise BadRequest("layers", "required", "name at least one layer: layers=a,b")
    chosen = []
    for name in dict.fromkeys(names):
        layer = registry.get(name)
        if layer is None:
            raise BadRequest("layers", "unknown_layer", f"there is no map layer {name!r}")
        if not layer.visible_to(user):
            raise BadRequest("layers", "forbidden_layer", f"your role may not see layer {name!r}")
        chosen.append(layer)
    chosen.sort(key=lambda layer: (layer.order, layer.name))
    by_layer: dict[str, dict[str, list[str]]] = {}
    for key, values in filter_params.items():
        name, _, param = key.partition(".")
        if name not in names or not param:
            raise BadRequest(key, "unknown_filter", f"{key} is not a filter of a requested layer")
        split = [v for value in values for v in value.split(",") if v]
        by_layer.setdefault(name, {})[param] = split
    filters = {}
    for name, params in by_layer.items():
        layer = registry.get(name)
        try:
            filters[name] = parse_filters(layer, MultiValueDict(params), user)
        except BadFilter as exc:
            raise BadRequest(f"{name}.{exc.field}", "bad_filter", str(exc)) from exc
    return Request(tuple(chosen), {k: v for k, v in filters.items() if v})


def parse_filters_text(text: str) -> dict[str, list[str]]:
    """The `f` of a signed URL back into `<layer>.<param>` -> values."""
    found: dict[str, list[str]] = {}
    for item in filter(None, text.split(";")):
        key, _, values = item.partition("=")
        found[key] = values.split(",")
    return found
