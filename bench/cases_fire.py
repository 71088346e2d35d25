"""Fire response (issue #6) on 500,000 sensors: the API against the raw SQL of the same
queries, and the raw SQL against itself with index scans disabled.

Both cases ask about the same 20 fire points, spread over the forest street 茶山竹海街道
(where the demo puts 1,657 cameras, 73 voice poles and 58 water tanks) or, failing that,
over the district; both sides of a case must find the same tanks, cameras and poles.

`python -m bench.cases_fire synthesise` writes ~500,000 synthetic sensors on a database that
holds the demo district but not the sensors demo (for developing these cases without it).
"""

from __future__ import annotations

import statistics
import sys
import time

from bench.harness import Case, CheckFailed, log

FOREST_STREET = "茶山竹海街道"
FIRE_USER = "district"
POINTS = 20
SEED = 2260
TANKS = 5
POLES_WITHIN_M = 1000.0
ADDITIVE_S = 0.005
MIN_SENSORS = 400_000
# The statements one request runs: place, tanks, cameras, poles (the session's user and its
# district come from the cache, or from a query or two without it).
FIRE_QUERIES = 4

POINTS_SQL = """
SELECT ST_X(p.geom), ST_Y(p.geom)
FROM (
    SELECT (ST_Dump(ST_GeneratePoints(b.geom, %(n)s, %(seed)s))).geom
    FROM grids_regionboundary b JOIN grids_region r ON r.id = b.region_id
    WHERE b.valid_to IS NULL AND r.id = %(region)s
) p
"""


def _forest_or_district():
    from grids.models import Region

    district = Region.objects.current().get(level="district", code="500118")
    street = Region.objects.current().filter(parent=district, name=FOREST_STREET).first()
    return district, street or district


def _fire_points(region_id: int) -> list[tuple[float, float]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(POINTS_SQL, {"n": POINTS, "seed": SEED, "region": region_id})
        return [(round(x, 6), round(y, 6)) for x, y in cursor.fetchall()]


def _ensure_sensors() -> int:
    """The sensors demo at full scale (500,000 devices), built once when missing."""
    from sensors.models import Sensor

    count = Sensor.objects.count()
    if count >= MIN_SENSORS:
        return count
    from grids.management.progress import TqdmProgress
    from sensors.services import demo

    log(f"{count:,} sensors in this database: building the sensors demo (500,000)")
    start = time.perf_counter()
    progress = TqdmProgress()
    result = demo.build("full", progress)
    demo.analyse()
    progress.close()
    log(f"sensors demo built in {time.perf_counter() - start:.0f} s: {result}")
    return Sensor.objects.count()


def _sql_side(values_per_point: list[dict], samples: list[float], *, no_index: bool):
    """The four statements of sensors.sql.fire for every point, on a cursor; the ids found.
    With `no_index`, in a transaction that forbids index, bitmap and index-only scans."""
    from django.db import connection, transaction

    from sensors.sql import fire as sql

    found = []
    for values in values_per_point:
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            if no_index:
                cursor.execute(
                    "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; "
                    "SET LOCAL enable_indexonlyscan = off"
                )
            rows = {}
            for name in ("place", "tanks", "cameras", "poles"):
                cursor.execute(sql.STATEMENTS[name], values)
                rows[name] = cursor.fetchall()
        samples.append(time.perf_counter() - start)
        found.append(
            (
                rows["place"][0][1],
                [r[0] for r in rows["tanks"]],
                [r[0] for r in rows["cameras"]],
                [(r[0], r[8]) for r in rows["poles"]],
            )
        )
    return found


class _FireCase(Case):
    warmup = True
    repeats = 7

    def setup(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.gis.geos import Point

        from grids import scoping
        from sensors.sql import fire as sql

        self.sensors = _ensure_sensors()
        self.user = get_user_model().objects.get(username=FIRE_USER)
        district, self.region = _forest_or_district()
        self.points = _fire_points(self.region.pk)
        self.district = scoping.user_district(self.user)
        self.values = []
        for lon, lat in self.points:
            ewkb = bytes(Point(lon, lat, srid=4326).ewkb)
            self.values.append(
                sql.params(
                    ewkb,
                    ewkb,
                    district=self.district,
                    everywhere=scoping.sees_everything(self.user),
                    tanks=TANKS,
                    within=POLES_WITHIN_M,
                )
            )
        self.samples: dict[str, list[float]] = {"ours": [], "reference": []}
        log(
            f"{self.name}: {self.sensors:,} sensors, {len(self.points)} fire points in "
            f"{self.region.name}, as {FIRE_USER!r}"
        )

    def _p50s(self) -> tuple[float, float]:
        skip = len(self.points) if self.warmup else 0
        return (
            statistics.median(self.samples["ours"][skip:]),
            statistics.median(self.samples["reference"][skip:]),
        )

    def _same(self, ours, reference) -> dict:
        if ours != reference:
            for i, (a, b) in enumerate(zip(ours, reference, strict=True)):
                if a != b:
                    raise CheckFailed(f"point {self.points[i]}: ours {a!r}, reference {b!r}")
        return {
            "points": len(self.points),
            "region": self.region.name,
            "sensors": self.sensors,
            "tanks_per_point": TANKS,
            "cameras_per_point_p50": statistics.median(len(r[2]) for r in ours),
            "poles_per_point_p50": statistics.median(len(r[3]) for r in ours),
            "same_ids": True,
        }


class FireApiVsSql(_FireCase):
    name = "fire_api_vs_sql"
    description = (
        f"Fire response on 500,000 sensors: {POINTS} points in the forest street "
        f"{FOREST_STREET}, GET /api/sensors/fire-response/?lon=&lat=&tanks={TANKS}"
        f"&poles_within={POLES_WITHIN_M:.0f} as the district centre user through "
        "django.test.Client with a session, against the raw SQL of the same four statements "
        "(place, tanks, cameras, poles) on a cursor. Both find the same ids. Issue #6's "
        "target, reported in the check: API p50 <= 2 x SQL p50 + 5 ms per point. The "
        "harness ratio (totals) is held to 3.5: the rule's 2 + 5 ms / SQL p50 at an SQL p50 "
        "of 3.3 ms; at a slower SQL the rule is the stricter, and the check holds it."
    )
    ours_label = "fire-response API (test client)"
    reference_label = "its four SQL statements on a cursor"
    target = 3.5

    def setup(self) -> None:
        from django.test import Client

        super().setup()
        self.client = Client(HTTP_HOST="127.0.0.1")
        self.client.force_login(self.user)
        self.urls = [
            f"/api/sensors/fire-response/?lon={lon}&lat={lat}&tanks={TANKS}"
            f"&poles_within={POLES_WITHIN_M:.0f}"
            for lon, lat in self.points
        ]

    def ours(self):
        import json

        found = []
        for url in self.urls:
            start = time.perf_counter()
            response = self.client.get(url)
            self.samples["ours"].append(time.perf_counter() - start)
            if response.status_code != 200:
                raise CheckFailed(
                    f"{url} answered {response.status_code}: {response.content[:200]!r}"
                )
            body = json.loads(response.content)
            found.append(
                (
                    body["grid"]["id"] if body["grid"] else None,
                    [t["id"] for t in body["water_tanks"]],
                    [c["id"] for c in body["cameras"]],
                    [(p["id"], p["covers"]) for p in body["poles"]],
                )
            )
        return found

    def reference(self):
        return _sql_side(self.values, self.samples["reference"], no_index=False)

    def check(self, ours, reference) -> dict:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        details = self._same(ours, reference)
        with CaptureQueriesContext(connection) as queries:
            self.client.get(self.urls[0])
        statements = [q["sql"] for q in queries.captured_queries]
        fire = [s for s in statements if "sensors_sensor" in s or "grids_regionboundary" in s]
        if len(fire) != FIRE_QUERIES:
            raise CheckFailed(f"a request ran {len(fire)} fire statements, not {FIRE_QUERIES}")
        api, sql = self._p50s()
        limit = 2 * sql + ADDITIVE_S
        verdict = "PASS" if api <= limit else "FAIL"
        log(
            f"{self.name}: API p50 {api * 1000:.2f} ms, SQL p50 {sql * 1000:.2f} ms, limit "
            f"2 x SQL + 5 ms = {limit * 1000:.2f} ms: {verdict}; {len(statements)} queries "
            "per request"
        )
        return details | {
            "api_p50_ms": round(api * 1000, 2),
            "sql_p50_ms": round(sql * 1000, 2),
            "limit_ms": round(limit * 1000, 2),
            "issue_target": "API p50 <= 2 x SQL p50 + 5 ms",
            "issue_target_status": verdict,
            "queries_per_request": len(statements),
            "queries": [s[:120] for s in statements],
        }

    def teardown(self) -> None:
        self.client = None


# The indexes each statement must run on at full size.
PLAN_INDEXES = {
    "tanks": ("sensor_tank_geog",),
    "cameras": ("sensor_coverage_gist",),
    "poles": ("sensor_coverage_gist", "sensor_pole_geog"),
}


class FireSqlVsNoIndex(_FireCase):
    name = "fire_sql_vs_noindex"
    description = (
        f"The fire-response SQL (place, tanks, cameras, poles) for {POINTS} points in the "
        f"forest street on 500,000 sensors, against the same statements in a transaction "
        "with SET LOCAL enable_indexscan, enable_bitmapscan and enable_indexonlyscan off. "
        "Both find the same ids; the check also shows that each statement's plan uses its "
        "index (sensor_tank_geog, sensor_coverage_gist, sensor_pole_geog). Issue #6's "
        "target: >= 100 x faster, ratio <= 0.01."
    )
    ours_label = "fire SQL with its indexes"
    reference_label = "the same SQL, index scans off"
    target = 0.01
    repeats = 5

    def ours(self):
        return _sql_side(self.values, self.samples["ours"], no_index=False)

    def reference(self):
        return _sql_side(self.values, self.samples["reference"], no_index=True)

    def check(self, ours, reference) -> dict:
        from django.db import connection

        from sensors.sql import fire as sql

        details = self._same(ours, reference)
        plans = {}
        with connection.cursor() as cursor:
            for name, indexes in PLAN_INDEXES.items():
                cursor.execute("EXPLAIN " + sql.STATEMENTS[name], self.values[0])
                plan = "\n".join(row[0] for row in cursor.fetchall())
                missing = [index for index in indexes if index not in plan]
                if missing:
                    raise CheckFailed(f"the {name} statement does not use {missing}:\n{plan}")
                plans[name] = plan
        indexed, scanned = self._p50s()
        log(
            f"{self.name}: per point p50 {indexed * 1000:.2f} ms with indexes, "
            f"{scanned * 1000:.1f} ms without ({scanned / indexed:.0f} x)"
        )
        return details | {
            "indexed_p50_ms": round(indexed * 1000, 3),
            "no_index_p50_ms": round(scanned * 1000, 2),
            "speed_up": round(scanned / indexed, 1),
            "issue_target": ">= 100 x",
            "issue_target_status": "PASS" if scanned >= 100 * indexed else "FAIL",
            "plans": plans,
        }


CASES = [FireApiVsSql, FireSqlVsNoIndex]


# --- synthetic sensors, for developing without the sensors demo -----------------------------

# Cameras (2,000 in the forest street with sectors of 60-120° or, one in ten, all round,
# 150-800 m; 30,000 urban ones of 50-200 m over the district), 100 voice poles and 60 water
# tanks in the forest street, the rest detectors over the district; written in one statement
# each, keyed to grids afterwards. Pseudo-random numbers come from hashes of the row number.
_RANDOM = "((hashtext({i} || '{salt}')::bigint + 2147483648) / 4294967296.0)"

SYNTHETIC_SENSORS = """
WITH area AS (
    SELECT geom FROM grids_regionboundary WHERE region_id = %(region)s AND valid_to IS NULL
), place AS (
    SELECT row_number() OVER () AS i, d.geom AS location
    FROM area, ST_Dump(ST_GeneratePoints(area.geom, %(n)s, %(seed)s)) d
), device AS (
    SELECT i, location,
           round((360 * {r_bearing})::numeric, 1)::float8 AS bearing,
           CASE WHEN {r_ptz} < 0.1 THEN 360.0
                ELSE round((60 + 60 * {r_fov})::numeric)::float8 END AS fov,
           round((%(reach_min)s + (%(reach_max)s - %(reach_min)s) * {r_range})::numeric, -1)::float8
               AS reach,
           round((300 + 500 * {r_range})::numeric, -1)::float8 AS radius,
           CASE WHEN {r_status} < 0.95 THEN 'online' WHEN {r_status} < 0.975 THEN 'offline'
                WHEN {r_status} < 0.99 THEN 'fault' ELSE 'maintenance' END AS status
    FROM place
)
INSERT INTO sensors_sensor
    (code, type_id, role, name, location, district_id, status, last_seen_at, properties,
     latest, coverage, token_hash, created_at, updated_at)
SELECT %(prefix)s || i, %(type)s, %(role)s, '', location, %(district)s, status, now(),
       CASE %(role)s
           WHEN 'camera' THEN jsonb_build_object('bearing', bearing, 'fov', fov, 'range', reach)
           WHEN 'voice_pole' THEN jsonb_build_object('broadcast_radius', radius)
           WHEN 'water_tank' THEN jsonb_build_object(
               'capacity_m3', 50 + 10 * (i %% 45), 'level_pct', 20 + (i %% 80))
           ELSE '{{}}'::jsonb END,
       '{{}}'::jsonb,
       CASE
           WHEN %(role)s = 'camera' AND fov >= 360 THEN
               ST_Buffer(location::geography, reach, 'quad_segs=18')::geometry
           WHEN %(role)s = 'camera' THEN ST_MakePolygon(ST_MakeLine(
               location || ARRAY(
                   SELECT ST_Project(location::geography, reach,
                                     radians(bearing - fov / 2 + fov * k / 24))::geometry
                   FROM generate_series(0, 24) k ORDER BY k)
               || location))
           WHEN %(role)s = 'voice_pole' THEN
               ST_Buffer(location::geography, radius, 'quad_segs=18')::geometry
       END,
       '', now(), now()
FROM device
""".format(
    r_bearing=_RANDOM.format(i="i", salt="b"),
    r_ptz=_RANDOM.format(i="i", salt="p"),
    r_fov=_RANDOM.format(i="i", salt="f"),
    r_range=_RANDOM.format(i="i", salt="r"),
    r_status=_RANDOM.format(i="i", salt="s"),
)

SYNTHETIC_KEY_GRIDS = """
UPDATE sensors_sensor s SET grid_id = k.grid_id
FROM (
    SELECT DISTINCT ON (s.id) s.id, g.id AS grid_id
    FROM grids_gridboundary b
    JOIN grids_grid g ON g.id = b.grid_id
    JOIN sensors_sensor s ON ST_Intersects(b.geom, s.location)
    WHERE b.valid_to IS NULL AND g.valid_to IS NULL AND g.theme = 'governance'
      AND s.code LIKE 'SYN-%%'
    ORDER BY s.id, g.code
) k
WHERE k.id = s.id
"""


def synthesise(total: int = 500_000) -> int:
    """About `total` synthetic sensors (codes SYN-...) on the demo district, replacing any
    made before; the number written."""
    from django.db import connection, transaction

    from sensors.models import SensorType

    district, forest = _forest_or_district()
    types = dict(SensorType.objects.values_list("code", "pk"))
    plan = [
        # code prefix, type, role, region, n, (reach min, max)
        ("SYN-FC-", "camera", "camera", forest, 2000, (150, 800)),
        ("SYN-UC-", "camera", "camera", district, 30_000, (50, 200)),
        ("SYN-VP-", "voice_pole", "voice_pole", forest, 100, (0, 0)),
        ("SYN-WT-", "water_tank", "water_tank", forest, 60, (0, 0)),
    ]
    rest = total - sum(row[4] for row in plan)
    plan += [
        ("SYN-SD-", "smoke_detector", "detector", district, rest * 2 // 3, (0, 0)),
        ("SYN-TH-", "temp_humidity", "detector", district, rest - rest * 2 // 3, (0, 0)),
    ]
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # One statement, not the ORM's delete(): no per-camera signal for 32,000 cameras.
        cursor.execute("DELETE FROM sensors_sensor WHERE code LIKE 'SYN-%%'")
        for seed, (prefix, type_code, role, region, n, (low, high)) in enumerate(plan, SEED):
            start = time.perf_counter()
            cursor.execute(
                SYNTHETIC_SENSORS,
                {
                    "region": region.pk,
                    "n": n,
                    "seed": seed,
                    "reach_min": low,
                    "reach_max": high,
                    "prefix": prefix,
                    "type": types[type_code],
                    "role": role,
                    "district": district.pk,
                },
            )
            written += cursor.rowcount
            log(f"{prefix}: {cursor.rowcount:,} in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        cursor.execute(SYNTHETIC_KEY_GRIDS)
        log(f"keyed {cursor.rowcount:,} to grids in {time.perf_counter() - start:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE sensors_sensor")
    return written


if __name__ == "__main__" and sys.argv[1:] == ["synthesise"]:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    log(f"{synthesise():,} synthetic sensors written")
