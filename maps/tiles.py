"""Mapbox vector tiles built by PostGIS (decision 6).

The features of a tile come from the layer's own queryset, scoped to the user by the one
scoping rule and filtered by the tile's bounding box in WGS84 (so the GiST index on the
stored SRID 4326 column is used and only the rows of the tile are transformed). The ORM
writes that query; the one raw statement here wraps it in ST_AsMVT, which the ORM cannot
express, and passes its parameters separately.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction

from grids.models import today
from grids.scoping import jurisdiction_key
from maps.models import TileVersion
from maps.registry import Layer

EXTENT = 4096
# 16 px of a 256 px tile: room for the largest point symbol, so that a symbol near a tile's
# edge is drawn whole by both tiles instead of cut off.
BUFFER = 256
MAX_ZOOM = 22
CACHE_SECONDS = 24 * 3600


class BadTile(ValueError):
    pass


# The filters chosen for a tile: (parameter, values) pairs, both sorted, so that the same
# choice in any order shares one compiled statement and one cached tile.
Filters = tuple[tuple[str, tuple[str, ...]], ...]


class BadFilter(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def parse_filters(layer: Layer, params, user) -> Filters:
    """The layer's filters from the query string (a QueryDict or a dict of lists): every
    parameter must be one of the layer's filters and every value one of its choices."""
    chosen = []
    for name, values in sorted(params.lists()):
        found = layer.filters.get(name)
        if found is None:
            raise BadFilter(name, f"layer {layer.name} has no filter {name!r}")
        allowed = {value for value, _label in found.choices(user)}
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise BadFilter(name, f"{name} must be one of {sorted(allowed)}, not {unknown[0]!r}")
        chosen.append((name, tuple(sorted(set(values)))))
    return tuple(chosen)


def filters_key(filters: Filters) -> str:
    return "&".join(f"{name}={','.join(values)}" for name, values in filters)


def parse_tile(z: str, x: str, y: str) -> tuple[int, int, int]:
    try:
        zi, xi, yi = int(z), int(x), int(y)
    except ValueError as exc:
        raise BadTile("z, x and y are whole numbers") from exc
    if not 0 <= zi <= MAX_ZOOM:
        raise BadTile(f"z must be 0 to {MAX_ZOOM}")
    if not (0 <= xi < 2**zi and 0 <= yi < 2**zi):
        raise BadTile(f"x and y must be 0 to {2**zi - 1} at zoom {zi}")
    return zi, xi, yi


def _features(queryset, columns: list[str]):
    return queryset.order_by().values(*columns)


# The features of the tile (the layer's scoped ORM query, wrapped as a subquery whose bounding
# box filter PostgreSQL pushes down onto the GiST index of the stored SRID 4326 column, so only
# the rows of the tile are transformed) become one MVT layer; when there are more than the
# layer allows, they are clustered on a pixel grid, each cluster with its count. The feature
# id is also a property ("id"): browsers' style functions see only properties. Identifiers
# come from the layer registry (code, never input); every value is a parameter.
TILE_SQL = """
WITH t AS MATERIALIZED (
    SELECT {attributes},
           ST_AsMVTGeom(ST_Transform(q.{geometry}, 3857), ST_TileEnvelope(%s, %s, %s),
                        {extent}, {buffer}, true) AS mvt
    FROM ({features}) q
    WHERE q.{bbox} && ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => %s), 4326)
)
SELECT CASE WHEN (SELECT count(*) FROM t WHERE mvt IS NOT NULL) <= %s
  THEN (SELECT ST_AsMVT(f.*, %s, {extent}, 'mvt', 'fid')
        FROM (SELECT t.*, t.fid AS id FROM t WHERE mvt IS NOT NULL) f)
  ELSE (SELECT ST_AsMVT(c.*, %s, {extent}, 'mvt', 'fid') FROM (
          SELECT min(fid) AS fid, min(fid) AS id, count(*) AS n,
                 ST_Centroid(ST_Collect(mvt)) AS mvt
          FROM t WHERE mvt IS NOT NULL
          GROUP BY ST_SnapToGrid(mvt, %s)
       ) c)
END
"""

# Compiling a layer's scoped queryset costs ~2 ms of Python, more than many tiles take in
# PostGIS; the SQL depends only on the layer, zoom band, scope, day and layer version, so
# each process keeps the last few hundred.
STATEMENTS: OrderedDict[tuple, tuple[str, tuple] | None] = OrderedDict()
STATEMENTS_KEPT = 512
_STATEMENTS_LOCK = threading.Lock()


def _filtered(layer: Layer, user, filters: Filters):
    queryset = layer.queryset(user)
    for name, values in filters:
        queryset = layer.filters[name].apply(queryset, list(values))
    return queryset


def _compiled(
    layer: Layer, user, aggregated: bool, filters: Filters = ()
) -> tuple[str, tuple] | None:
    if aggregated:
        source = layer.aggregation
        if source.of_features is not None:
            queryset = source.of_features(_filtered(layer, user, filters))
        else:
            queryset = source.queryset(user)
    else:
        source = layer
        queryset = _filtered(layer, user, filters)
    bbox = source.bbox_field or source.geometry
    columns = list(dict.fromkeys([*source.attributes, source.geometry, bbox]))
    try:
        sql, params = _features(queryset, columns).query.sql_with_params()
    except EmptyResultSet:
        return None
    qn = connection.ops.quote_name
    return (
        TILE_SQL.format(
            attributes=", ".join(f"q.{qn(a)}" for a in source.attributes),
            geometry=qn(source.geometry),
            bbox=qn(bbox),
            features=sql,
            extent=EXTENT,
            buffer=BUFFER,
        ),
        tuple(params),
    )


def tile_statement(
    layer: Layer,
    user,
    z: int,
    x: int,
    y: int,
    version: str | None = None,
    filters: Filters = (),
) -> tuple[str, list] | None:
    """The SQL and parameters of a tile, or None when the user's scope admits nothing (e.g.
    no regions for a grid worker). The benchmarks run the same statement as the reference."""
    aggregation = layer.aggregation
    aggregated = aggregation is not None and z < aggregation.below_zoom
    version = version or layer_version(layer.name)
    key = (layer.name, aggregated, scope_key(user), today(), version, filters)
    with _STATEMENTS_LOCK:
        found = key in STATEMENTS
        if found:
            STATEMENTS.move_to_end(key)
            compiled = STATEMENTS[key]
    if not found:
        compiled = _compiled(layer, user, aggregated, filters)
        with _STATEMENTS_LOCK:
            STATEMENTS[key] = compiled
            if len(STATEMENTS) > STATEMENTS_KEPT:
                STATEMENTS.popitem(last=False)
    if compiled is None:
        return None
    sql, params = compiled
    max_points = aggregation.max_points if aggregation else 10**9
    cluster = aggregation.cluster_pixels if aggregation else 1
    return sql, [
        z, x, y,
        *params,
        z, x, y, BUFFER / EXTENT,
        max_points, layer.name, layer.name, cluster,
    ]  # fmt: skip


def build_tile(
    layer: Layer,
    user,
    z: int,
    x: int,
    y: int,
    version: str | None = None,
    filters: Filters = (),
) -> bytes:
    """The tile's MVT bytes (empty when the tile holds nothing)."""
    statement = tile_statement(layer, user, z, x, y, version, filters)
    if statement is None:
        return b""
    aggregation = layer.aggregation
    if aggregation and aggregation.prepare and z < aggregation.below_zoom:
        aggregation.prepare()
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        (data,) = cursor.fetchone()
    return bytes(data or b"")


def scope_key(user) -> str:
    """Users with the same role and jurisdiction see the same tiles: the one jurisdiction key
    the wall screen's figures use too (signed into tile URLs and part of cached tiles' keys,
    so its format must not change)."""
    return jurisdiction_key(user)


def version_key(layer: str) -> str:
    return f"tile-version:{layer}"


def layer_version(layer: str) -> str:
    """The version the layer's cached tiles are kept under. With a shared cache it is a token
    in the cache, replaced by a new one after every committed change (forget_versions); with
    a per-process cache it is the database's counter, the only value all processes share."""
    if not settings.GRIDLINE_SHARED_CACHE:
        return str(TileVersion.current(layer))
    key = version_key(layer)
    version = cache.get(key)
    if version is None:
        token = uuid.uuid4().hex[:16]
        version = token if cache.add(key, token, None) else (cache.get(key) or token)
    return version


def invalidate_layers(layers: list[str]) -> None:
    """After a change to the data behind these layers, no request that starts after the
    commit gets one of their old tiles. The shared token is dropped only after the commit:
    dropped earlier, a request in between could cache the old data under the new token."""
    TileVersion.bump(layers)
    if settings.GRIDLINE_SHARED_CACHE:
        keys = [version_key(layer) for layer in layers]
        transaction.on_commit(lambda: cache.delete_many(keys))


@dataclass(frozen=True)
class Tile:
    gzipped: bytes
    etag: str


def _tile_key(
    layer: Layer, user, z: int, x: int, y: int, version: str, filters: Filters = ()
) -> str:
    key = f"tile:{layer.name}:{version}:{scope_key(user)}:{z}:{x}:{y}"
    return f"{key}:{filters_key(filters)}" if filters else key


def get_tile(layer: Layer, user, z: int, x: int, y: int, filters: Filters = ()) -> Tile:
    """The tile from the cache, or built and cached. The key holds the layer's version, so a
    change to the data behind it makes the old tiles unreachable: never a stale tile."""
    # Read once: a cold build compiles its statement under the same version as its key.
    version = layer_version(layer.name)
    key = _tile_key(layer, user, z, x, y, version, filters)
    tile = RECENT.get(key)
    if tile is None:
        tile = cache.get(key)
        if tile is None:
            data = build_tile(layer, user, z, x, y, version, filters)
            # Level 1: most tiles are small, and higher levels cost milliseconds for a few
            # percent.
            etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
            tile = Tile(gzip.compress(data, 1), f'"{etag}"')
            cache.set(key, tile, CACHE_SECONDS)
        RECENT.put(key, tile)
    return tile


class RecentTiles:
    """The most recently served tiles of this process, in front of the shared cache. A key
    holds the layer's version, which every request reads afresh, so what this keeps under a
    key is exactly what the shared cache holds under it: never stale, one round trip and
    the copy of up to hundreds of KB saved per tile."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.tiles: OrderedDict[str, Tile] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Tile | None:
        with self.lock:
            tile = self.tiles.get(key)
            if tile is not None:
                self.tiles.move_to_end(key)
            return tile

    def put(self, key: str, tile: Tile) -> None:
        with self.lock:
            if key in self.tiles:
                return
            self.tiles[key] = tile
            self.size += len(tile.gzipped)
            while self.size > self.max_bytes and self.tiles:
                _, old = self.tiles.popitem(last=False)
                self.size -= len(old.gzipped)

    def clear(self) -> None:
        with self.lock:
            self.tiles.clear()
            self.size = 0


RECENT = RecentTiles(settings.GRIDLINE_TILE_MEMORY_MB * 1024 * 1024)


def forget_tile(layer: Layer, user, z: int, x: int, y: int, filters: Filters = ()) -> None:
    """Drop one tile from both tile caches (the benchmarks' cold requests). The compiled
    statement of its layer and scope stays: it serves every tile of the layer, as when a
    user pans onto tiles nobody has asked for yet."""
    key = _tile_key(layer, user, z, x, y, layer_version(layer.name), filters)
    cache.delete(key)
    with RECENT.lock:
        if (tile := RECENT.tiles.pop(key, None)) is not None:
            RECENT.size -= len(tile.gzipped)


def forget_process_caches() -> None:
    """Empty this process's tiles and compiled statements (tests switch databases under it)."""
    from maps.fastpath import REVOKED  # imports this module

    RECENT.clear()
    REVOKED.forget()
    with _STATEMENTS_LOCK:
        STATEMENTS.clear()
