"""Vector tiles (issue #3): the tile endpoint against the raw ST_AsMVT statement, the cache
against a cold build, and the largest tile of the district."""

from __future__ import annotations

import gzip
import math
import statistics
import time

from bench.harness import Case, CheckFailed, log

CORE = (105.927, 29.356)  # lon, lat of the urban core
LAYERS = ("households", "grids")
ZOOMS = (12, 14, 16)
# The tile holding the core and its four neighbours, at every zoom, for both layers.
NEIGHBOURS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
MAX_TILE_BYTES = 500_000
ADDITIVE_S = 0.005  # issue #3: cold p50 <= 1.2 x SQL + 5 ms
SIZE_TILES = 200
SIZE_ZOOMS = range(10, 17)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def core_tiles() -> list[tuple[str, int, int, int]]:
    tiles = []
    for layer in LAYERS:
        for z in ZOOMS:
            x, y = tile_of(*CORE, z)
            tiles += [(layer, z, x + dx, y + dy) for dx, dy in NEIGHBOURS]
    return tiles


def admin_user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="admin")


def tile_statement(layer, user, z: int, x: int, y: int):
    """The (sql, params) build_tile() executes for this tile: the same statement, without
    the view, the cache and gzip."""
    from maps.tiles import tile_statement as statement

    return statement(layer, user, z, x, y)


def run_sql(statement) -> bytes:
    from django.db import connection

    if statement is None:
        return b""
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        (data,) = cursor.fetchone()
    return bytes(data or b"")


def _fields(data: bytes):
    """(field number, wire type, value) of a protobuf message; enough for MVT."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            value, i = data[i : i + size], i + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, i = data[i : i + size], i + size
        else:
            raise ValueError(f"protobuf wire type {wire}")
        yield number, wire, value


def _varint(data: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, i
        shift += 7


def mvt_features(data: bytes):
    """The tile as a sorted list of (layer, extent, id, type, properties, geometry), every
    property resolved from the layer's key and value tables: the same for two tiles that
    hold the same features in another order."""
    out = []
    for number, _, layer in _fields(data):
        if number != 3:
            continue
        name, extent, keys, values, features = b"", 4096, [], [], []
        for n, _, v in _fields(layer):
            if n == 1:
                name = v
            elif n == 2:
                features.append(v)
            elif n == 3:
                keys.append(v)
            elif n == 4:
                values.append(v)
            elif n == 5:
                extent = v
        for feature in features:
            fid, kind, tags, geometry = None, 0, [], b""
            for n, _, v in _fields(feature):
                if n == 1:
                    fid = v
                elif n == 2:
                    j = 0
                    while j < len(v):
                        t, j = _varint(v, j)
                        tags.append(t)
                elif n == 3:
                    kind = v
                elif n == 4:
                    geometry = v
            props = tuple(
                sorted((keys[tags[k]], values[tags[k + 1]]) for k in range(0, len(tags), 2))
            )
            out.append((name, extent, fid or 0, kind, props, geometry))
    return sorted(out)


def compare_tiles(tiles, ours: list[bytes], reference: list[bytes]) -> dict:
    """Byte-identical, or else the same features in another order (PostgreSQL returns the
    rows of a tile in no fixed order, e.g. under a parallel scan); anything else fails."""
    reordered = []
    for tile, a, b in zip(tiles, ours, reference, strict=True):
        if a == b:
            continue
        if mvt_features(a) != mvt_features(b):
            raise CheckFailed(f"tile {tile} holds other features than the SQL's")
        reordered.append("/".join(map(str, tile)))
    return {
        "byte_identical_tiles": len(tiles) - len(reordered),
        "same_features_other_order": reordered,
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


class TileCase(Case):
    """Shared: a logged-in test client for the admin, the tiles, per-tile timings."""

    tiles: list[tuple[str, int, int, int]] = []

    def setup(self) -> None:
        from django.core.cache import cache
        from django.test import Client

        from maps import registry
        from maps.tiles import forget_process_caches

        self.admin = admin_user()
        self.client = Client(HTTP_HOST="127.0.0.1")
        self.client.force_login(self.admin)
        self.tiles = core_tiles()
        self.statements = [
            tile_statement(registry.get(layer), self.admin, z, x, y)
            for layer, z, x, y in self.tiles
        ]
        self.tile_s: dict[str, list[float]] = {"ours": [], "reference": []}
        self.run_s: dict[str, list[float]] = {"ours": [], "reference": []}
        cache.clear()
        forget_process_caches()
        log(f"{self.name}: {len(self.tiles)} tiles, layers {', '.join(LAYERS)}, zooms {ZOOMS}")

    def request(self, layer: str, z: int, x: int, y: int):
        response = self.client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf", HTTP_ACCEPT_ENCODING="gzip")
        if response.status_code != 200:
            raise CheckFailed(f"/tiles/{layer}/{z}/{x}/{y}.pbf answered {response.status_code}")
        return response

    def endpoint(self, side: str, *, cold: bool) -> list[bytes]:
        """GET every tile; with cold=True the tile is dropped from every cache (shared cache,
        the process's recent tiles, compiled statements) before each request, not counted
        in the per-tile times; the session stays, as for a user panning the map. Returns
        the decoded MVT bytes."""
        from maps import registry
        from maps.tiles import forget_tile

        bodies, total = [], 0.0
        for layer, z, x, y in self.tiles:
            if cold:
                forget_tile(registry.get(layer), self.admin, z, x, y)
            start = time.perf_counter()
            response = self.request(layer, z, x, y)
            elapsed = time.perf_counter() - start
            self.tile_s[side].append(elapsed)
            total += elapsed
            body = response.content
            if response.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            bodies.append(body)
        self.run_s[side].append(total)
        return bodies

    def p50(self, side: str) -> float:
        return statistics.median(self.tile_s[side])

    def compare(self, ours: list[bytes], reference: list[bytes]) -> dict:
        return compare_tiles(self.tiles, ours, reference)

    def teardown(self) -> None:
        from django.core.cache import cache

        cache.clear()
        self.client = None


class TileColdVsSql(TileCase):
    name = "tile_cold_vs_sql"
    description = (
        "30 vector tiles around the urban core (the tile holding lon 105.927 lat 29.356 and "
        "its 4 neighbours, zooms 12/14/16, layers households and grids), as the admin. "
        "Ours: GET /tiles/<layer>/<z>/<x>/<y>.pbf through django.test.Client (logged in, "
        "Accept-Encoding gzip) with the tile dropped from every cache before each "
        "request. Reference: the "
        "same TILE_SQL (ST_AsMVT) statement build_tile() runs, executed directly on a "
        "cursor. Issue #3's target is cold p50 <= 1.2 x SQL + 5 ms per tile; the harness "
        "ratio (total of the 30 tiles) is held to 1.2 without the 5 ms, and the check "
        "reports the per-tile p50s and the additive verdict."
    )
    ours_label = "tile endpoint, tile uncached"
    reference_label = "TILE_SQL on a cursor"
    target = 1.2
    repeats = 5
    warmup = True

    def ours(self):
        return self.endpoint("ours", cold=True)

    def reference(self):
        bodies, total = [], 0.0
        for statement in self.statements:
            start = time.perf_counter()
            bodies.append(run_sql(statement))
            elapsed = time.perf_counter() - start
            self.tile_s["reference"].append(elapsed)
            total += elapsed
        self.run_s["reference"].append(total)
        return bodies

    def check(self, ours, reference) -> dict:
        same = self.compare(ours, reference)
        # Timings of the warm-up runs are dropped: the first len(tiles) of each side.
        n = len(self.tiles)
        for side in self.tile_s:
            self.tile_s[side] = self.tile_s[side][n:]
            self.run_s[side] = self.run_s[side][1:]
        p50_ours, p50_sql = self.p50("ours"), self.p50("reference")
        limit = 1.2 * p50_sql + ADDITIVE_S
        total_ours = statistics.median(self.run_s["ours"])
        total_sql = statistics.median(self.run_s["reference"])
        total_limit = 1.2 * total_sql + ADDITIVE_S * n
        verdict = "PASS" if p50_ours <= limit else "FAIL"
        log(
            f"{self.name}: per-tile p50 endpoint {ms(p50_ours)}, SQL {ms(p50_sql)}; issue "
            f"target 1.2 x SQL + 5 ms = {ms(limit)}: {verdict}"
        )
        per_layer = {}
        for layer in LAYERS:
            for z in ZOOMS:
                idx = [i for i, t in enumerate(self.tiles) if t[0] == layer and t[1] == z]
                runs = len(self.tile_s["ours"]) // n
                o = [self.tile_s["ours"][r * n + i] for r in range(runs) for i in idx]
                s = [self.tile_s["reference"][r * n + i] for r in range(runs) for i in idx]
                per_layer[f"{layer}/{z}"] = {
                    "p50_endpoint_ms": round(statistics.median(o) * 1000, 2),
                    "p50_sql_ms": round(statistics.median(s) * 1000, 2),
                    "max_bytes": max(len(ours[i]) for i in idx),
                }
                log(
                    f"{self.name}:   {layer:<10} z{z}: endpoint {ms(statistics.median(o))}, "
                    f"SQL {ms(statistics.median(s))}"
                )
        return {
            "tiles": n,
            **same,
            "tile_bytes_total": sum(len(b) for b in ours),
            "per_tile_p50_endpoint_ms": round(p50_ours * 1000, 2),
            "per_tile_p50_sql_ms": round(p50_sql * 1000, 2),
            "issue_target": "cold p50 <= 1.2 x SQL p50 + 5 ms",
            "issue_target_limit_ms": round(limit * 1000, 2),
            "issue_target_status": verdict,
            "total_additive_limit_ms": round(total_limit * 1000, 1),
            "total_additive_status": "PASS" if total_ours <= total_limit else "FAIL",
            "per_layer_zoom": per_layer,
        }


class TileCachedVsCold(TileCase):
    name = "tile_cached_vs_cold"
    description = (
        "The same 30 tiles as tile_cold_vs_sql, as the admin through django.test.Client. "
        "Ours: the tiles already in the cache (warmed after every cold run, not timed). "
        "Reference: the tile dropped from every cache before each request (a cold build)."
    )
    ours_label = "tile endpoint, warm cache"
    reference_label = "tile endpoint, tile uncached"
    target = 0.05
    repeats = 5
    warmup = True

    def setup(self) -> None:
        super().setup()
        self.warm()

    def warm(self) -> None:
        for layer, z, x, y in self.tiles:
            self.request(layer, z, x, y)

    def ours(self):
        return self.endpoint("ours", cold=False)

    def reference(self):
        return self.endpoint("reference", cold=True)

    def after_reference(self, result) -> None:
        self.warm()

    def check(self, ours, reference) -> dict:
        same = self.compare(ours, reference)
        p50_ours, p50_cold = self.p50("ours"), self.p50("reference")
        log(f"{self.name}: per-tile p50 cached {ms(p50_ours)}, cold {ms(p50_cold)}")
        return {
            "tiles": len(self.tiles),
            **same,
            "per_tile_p50_cached_ms": round(p50_ours * 1000, 2),
            "per_tile_p50_cold_ms": round(p50_cold * 1000, 2),
        }


def district_tiles(extent) -> list[tuple[str, int, int, int]]:
    """SIZE_TILES tiles over the district's extent, half per layer, spread over zooms 10-16:
    at every zoom, the tiles nearest the urban core (the densest) and, for the rest of
    the quota, tiles evenly spaced over the extent."""
    west, south, east, north = extent
    per_layer = SIZE_TILES // len(LAYERS)
    zooms = list(SIZE_ZOOMS)
    chosen: list[tuple[int, int, int]] = []
    for i, z in enumerate(zooms):
        x0, y0 = tile_of(west, north, z)
        x1, y1 = tile_of(east, south, z)
        all_tiles = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        # What a low zoom cannot fill (it has few tiles) goes to the next zooms.
        quota = min(len(all_tiles), (per_layer - len(chosen)) // (len(zooms) - i))
        cx, cy = tile_of(*CORE, z)
        near = sorted(all_tiles, key=lambda t: (t[0] - cx) ** 2 + (t[1] - cy) ** 2)
        picked = near[: (quota + 1) // 2]
        rest = [t for t in all_tiles if t not in set(picked)]
        want = quota - len(picked)
        if rest and want > 0:
            step = max(len(rest) / want, 1)
            picked += [rest[int(i * step)] for i in range(min(want, len(rest)))]
        chosen += [(z, x, y) for x, y in picked]
    return [(layer, z, x, y) for layer in LAYERS for z, x, y in chosen]


class TileSizeMax(Case):
    name = "tile_size_max"
    description = (
        "The largest of 200 tiles over the district's extent (100 per layer, households and "
        "grids, zooms 10-16: at each zoom the tiles nearest the urban core and tiles evenly "
        "spaced over the extent), as the admin. Issue #3's target is a largest tile <= 500 "
        "KB (500,000 bytes of MVT before gzip): the check fails the case (ERROR) when it is "
        "larger, since the harness compares times only. The timed sides: "
        "maps.tiles.build_tile() for every tile against the same TILE_SQL statement, "
        "compiled from the same querysets and run on a cursor (one warm-up run of each side "
        "first, then 1 run each; ratio target 1.2: build_tile adds little over its SQL)."
    )
    ours_label = "build_tile() x 200"
    reference_label = "TILE_SQL on a cursor x 200"
    target = 1.2
    repeats = 1
    warmup = True

    def setup(self) -> None:
        from grids.models import Region
        from maps import registry

        self.admin = admin_user()
        district = Region.objects.visible_to(self.admin).filter(parent__isnull=True).first()
        self.tiles = district_tiles(district.boundary_on().extent)
        self.layers = {name: registry.get(name) for name in LAYERS}
        self.statements = [
            tile_statement(self.layers[layer], self.admin, z, x, y) for layer, z, x, y in self.tiles
        ]
        log(f"{self.name}: {len(self.tiles)} tiles over the district {district.name}")

    def ours(self):
        from maps.tiles import build_tile

        return [
            build_tile(self.layers[layer], self.admin, z, x, y) for layer, z, x, y in self.tiles
        ]

    def reference(self):
        return [
            run_sql(tile_statement(self.layers[layer], self.admin, z, x, y))
            for layer, z, x, y in self.tiles
        ]

    def check(self, ours, reference) -> dict:
        same = compare_tiles(self.tiles, ours, reference)
        sizes = [len(b) for b in ours]
        largest = max(range(len(sizes)), key=sizes.__getitem__)
        gzipped = len(gzip.compress(ours[largest], 6))
        per_zoom = {}
        for layer in LAYERS:
            for z in SIZE_ZOOMS:
                s = [sizes[i] for i, t in enumerate(self.tiles) if t[0] == layer and t[1] == z]
                per_zoom[f"{layer}/{z}"] = {"tiles": len(s), "max_bytes": max(s, default=0)}
        details = {
            "tiles": len(sizes),
            "empty_tiles": sum(1 for s in sizes if s == 0),
            "max_bytes": sizes[largest],
            "max_tile": "/".join(map(str, self.tiles[largest])),
            "max_gzipped_bytes": gzipped,
            "target_max_bytes": MAX_TILE_BYTES,
            "size_status": "PASS" if sizes[largest] <= MAX_TILE_BYTES else "FAIL",
            "per_layer_zoom": per_zoom,
            **same,
        }
        log(
            f"{self.name}: largest tile {details['max_tile']} {sizes[largest]:,} bytes "
            f"({gzipped:,} gzipped), target <= {MAX_TILE_BYTES:,}: {details['size_status']}"
        )
        if sizes[largest] > MAX_TILE_BYTES:
            raise CheckFailed(
                f"largest tile {details['max_tile']} is {sizes[largest]:,} bytes "
                f"> {MAX_TILE_BYTES:,}"
            )
        return details


# The composite tile of the command-centre map (issue #16), in a module of its own.
from bench.cases_composite import CompositeTiles  # noqa: E402

CASES = [TileColdVsSql, TileCachedVsCold, TileSizeMax, CompositeTiles]
