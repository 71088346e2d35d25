"""Sensors for the demo district: the forest street and the rest of Yongchuan.

The forest street 茶山竹海街道 (97 % forest) has what the seeds report: 1,657 cameras along
its ridges and scattered over its hills (about 10 % pan-tilt-zoom, seeing all round), 73
voice poles spread over the street and 58 fire water tanks, at every named scale. The rest
of the district gets urban cameras, voice poles, smoke detectors, temperature/humidity
sensors and water tanks near where people live, to 500,000 devices at full scale (the
district's "500,000 sensing devices") and 20,000 at small scale. About 95 % are online with a
recent heartbeat; a few are offline, in fault or in maintenance. Water tanks and a share of
the temperature/humidity sensors have hourly readings over the last days, the newest one as
their latest value.

Every device is written by COPY and keyed to its grid in one statement; view sectors and
broadcast circles are computed for all devices at once on the spheroid. The demo's devices
are those whose code starts with DEMO_PREFIX: a rebuild removes them first. The same seed
always gives the same devices.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from pyproj import Geod, Transformer

from grids.models import Department, GridBoundary, Household, Region
from grids.services import crs as crs_service
from grids.services import demo as grids_demo
from grids.services.imports import NullProgress, Progress
from grids.signals import announce
from incidents.models import Category
from sensors import catalogue
from sensors.models import Gateway, GridCoverage, Role, Sensor, SensorType
from sensors.services.registry import ARC_STEP_DEGREES, CIRCLE_VERTICES, issue_token
from sensors.sql import demo as sql

SEED = 6_2026
DEMO_PREFIX = "YC-"
FOREST_STREET = "茶山竹海街道"
FOREST = {"camera": 1657, "voice_pole": 73, "water_tank": 58}
TOTALS = {"small": 20_000, "full": 500_000}
# Devices per household for a scale given as a number of households (full: 1,000,000).
PER_HOUSEHOLD = TOTALS["full"] / grids_demo.SCALES["full"]
# The rest of the district, by type: mostly detectors in buildings, cameras on streets.
URBAN_MIX = {
    "smoke_detector": 0.52,
    "temp_humidity": 0.27,
    "camera": 0.18,
    "water_tank": 0.02,
    "voice_pole": 0.01,
}
STATUSES = ["online", "offline", "fault", "maintenance"]
STATUS_P = [0.95, 0.025, 0.015, 0.01]
PTZ_SHARE = 0.10
# Metres a camera sees: far over forest slopes from masts and ridges, a street's length in town.
FOREST_CAMERA_RANGE = (150, 800)
URBAN_CAMERA_RANGE = (50, 200)
# Readings: hourly over the last days, for every water tank and as many temperature/humidity
# sensors as the budget allows (about 100,000 rows small, 1,500,000 full).
READING_DAYS = 3
READING_STEP = dt.timedelta(hours=1)
READINGS_PER_DEVICE = 5
READINGS_MAX = 1_500_000
# Owners, by demo department code (grids.services.demo.DEPARTMENTS).
FOREST_OWNER = "forestry"
URBAN_OWNERS = {
    "camera": "public-security",
    "voice_pole": "emergency",
    "water_tank": "emergency",
    "smoke_detector": "emergency",
    "temp_humidity": "urban-management",
}
# Gateways: (code, name, department code); devices by (forest?, type) -> gateway.
GATEWAYS = [
    ("demo-forest-video", "茶山竹海林区视频平台", "forestry"),
    ("demo-city-video", "雪亮工程视频平台", "public-security"),
    ("demo-broadcast", "应急广播平台", "emergency"),
    ("demo-iot", "城市物联感知平台", "urban-management"),
]
SYMBOL = {
    "camera": "CAM",
    "voice_pole": "VP",
    "water_tank": "WT",
    "smoke_detector": "SD",
    "temp_humidity": "TH",
}
LABEL = {
    "camera": "视频监控",
    "voice_pole": "广播杆",
    "water_tank": "消防水池",
    "smoke_detector": "烟感",
    "temp_humidity": "温湿度",
}
GEOD = Geod(ellps="WGS84")


@dataclass
class SensorsDemoResult:
    sensors: int
    cameras: int
    voice_poles: int
    water_tanks: int
    detectors: int
    forest_cameras: int
    gateways: int
    readings: int


def totals_for(scale: str | int) -> tuple[int, dict[str, int]]:
    """(devices in the whole district, the forest street's cameras, poles and tanks)."""
    if isinstance(scale, str):
        return TOTALS[scale], dict(FOREST)
    households = int(scale)
    total = int(round(households * PER_HOUSEHOLD))
    # A test-sized district keeps the forest's proportions, not its full count.
    share = min(1.0, households / grids_demo.SCALES["small"])
    forest = {k: max(1, int(round(v * share))) for k, v in FOREST.items()}
    return max(total, sum(forest.values()) * 2), forest


# --- places --------------------------------------------------------------------------------


class Ground:
    """The district in a local metric CRS, for sampling points in metres."""

    def __init__(self, district: Region):
        lon, lat = district.boundary_on().point_on_surface.coords
        metric = crs_service.local_metric_crs(lon, lat)
        self.to_metric = Transformer.from_crs(crs_service.WGS84, metric, always_xy=True)
        self.to_wgs84 = Transformer.from_crs(metric, crs_service.WGS84, always_xy=True)

    def metric(self, geom: GEOSGeometry):
        shape = shapely.from_wkb(bytes(geom.wkb))
        return shapely.transform(shape, lambda xy: np.column_stack(self.to_metric.transform(*xy.T)))

    def lonlat(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = self.to_wgs84.transform(xy[:, 0], xy[:, 1])
        return np.asarray(lon), np.asarray(lat)


def _uniform_in(rng, area, n: int) -> np.ndarray:
    shapely.prepare(area)
    minx, miny, maxx, maxy = area.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        m = max(64, (n - len(out)) * 3)
        pts = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        out = np.vstack([out, pts[shapely.contains_xy(area, pts[:, 0], pts[:, 1])]])
    return out[:n]


def _ridges(rng, area, n: int, lines: int = 14) -> np.ndarray:
    """Points along a few winding ridge lines across the area (a random walk each, 150 m
    steps with a slowly turning heading), 30 m either side, all inside the area."""
    shapely.prepare(area)
    vertices = []
    for start in _uniform_in(rng, area, lines):
        heading = rng.uniform(0, 2 * np.pi)
        turns = np.cumsum(rng.normal(0, 0.25, 60))
        xy = start + np.cumsum(
            150 * np.column_stack([np.cos(heading + turns), np.sin(heading + turns)]), axis=0
        )
        vertices.append(xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])])
    vertices = np.vstack(vertices)
    out = np.empty((0, 2))
    while len(out) < n:
        m = (n - len(out)) * 2
        pts = vertices[rng.integers(0, len(vertices), m)] + rng.normal(0, 30, (m, 2))
        out = np.vstack([out, pts[shapely.contains_xy(area, pts[:, 0], pts[:, 1])]])
    return out[:n]


def _spread(rng, area, n: int) -> np.ndarray:
    """n points spread evenly over the area (k-means centres of many uniform points), as
    voice poles are planned so that their circles tile the ground."""
    if n == 0:
        return np.empty((0, 2))
    candidates = _uniform_in(rng, area, max(n * 20, 200))
    labels = grids_demo.kmeans(rng, candidates, n, iterations=15)
    centres = np.array([candidates[labels == k].mean(0) for k in range(n)])
    # A centre of a concave area may fall outside it: take the member nearest to it instead.
    outside = ~shapely.contains_xy(area, centres[:, 0], centres[:, 1])
    for k in np.flatnonzero(outside):
        members = candidates[labels == k]
        centres[k] = members[((members - centres[k]) ** 2).sum(1).argmin()]
    return centres


def _near_homes(rng, ground: Ground, homes: np.ndarray, n: int, avoid, area) -> np.ndarray:
    """Urban devices near where people live (households, 60 m around), never inside `avoid`
    (the forest street, whose devices are counted exactly); uniform over `area` when the
    district has no households."""
    if len(homes) == 0:
        return _uniform_in(rng, area.difference(avoid) if avoid is not None else area, n)
    base = homes[rng.integers(0, len(homes), n)]
    xy = base + rng.normal(0, 60, (n, 2))
    if avoid is not None:
        shapely.prepare(avoid)
        inside = shapely.contains_xy(avoid, xy[:, 0], xy[:, 1])
        xy[inside] = base[inside]
    return xy


# --- devices -------------------------------------------------------------------------------


def _rings(lon, lat, start, sweep, distance, vertices: int, closed_at_centre: bool):
    """Outlines of sectors (from the device, along the arc, back) or of circles, for many
    devices at once on the spheroid: an array (n, vertices + 1 or + 2, 2)."""
    n = len(lon)
    fractions = np.linspace(0, 1, vertices) if closed_at_centre else np.arange(vertices) / vertices
    azimuths = start[:, None] + sweep[:, None] * fractions[None, :]
    lons, lats, _ = GEOD.fwd(
        np.repeat(lon, vertices),
        np.repeat(lat, vertices),
        azimuths.ravel(),
        np.repeat(distance, vertices),
    )
    arc = np.stack([lons.reshape(n, vertices), lats.reshape(n, vertices)], axis=-1)
    if closed_at_centre:
        centre = np.stack([lon, lat], axis=-1)[:, None, :]
        return np.concatenate([centre, arc, centre], axis=1)
    return np.concatenate([arc, arc[:, :1]], axis=1)


def _ewkb_hex(rings: np.ndarray) -> np.ndarray:
    polygons = shapely.set_srid(shapely.polygons(rings), 4326)
    return shapely.to_wkb(polygons, hex=True, include_srid=True)


def _camera_properties(rng, n: int, lon, lat, codes, reach) -> tuple[list[str], np.ndarray]:
    ptz = rng.random(n) < PTZ_SHARE
    bearing = np.round(rng.uniform(0, 360, n), 1)
    fov = np.where(ptz, 360.0, np.round(rng.uniform(60, 120, n)))
    rng_m = np.round(rng.uniform(*reach, n), -1)
    height = np.round(rng.uniform(4, 30, n), 1)
    coverage = np.empty(n, dtype=object)
    arc = int(np.ceil(120 / ARC_STEP_DEGREES)) + 1
    sectors = ~ptz
    if sectors.any():
        coverage[sectors] = _ewkb_hex(
            _rings(
                lon[sectors],
                lat[sectors],
                bearing[sectors] - fov[sectors] / 2,
                fov[sectors],
                rng_m[sectors],
                arc,
                True,
            )
        )
    if ptz.any():
        k = int(ptz.sum())
        coverage[ptz] = _ewkb_hex(
            _rings(lon[ptz], lat[ptz], np.zeros(k), np.full(k, 360.0), rng_m[ptz],
                   CIRCLE_VERTICES, False)
        )  # fmt: skip
    properties = [
        json.dumps(
            {
                "bearing": float(bearing[i]),
                "fov": float(fov[i]),
                "range": float(rng_m[i]),
                "ptz": bool(ptz[i]),
                "height": float(height[i]),
                "stream": f"rtsp://video.yongchuan.demo/{codes[i]}",
            }
        )
        for i in range(n)
    ]
    return properties, coverage


def _pole_properties(rng, n: int, lon, lat) -> tuple[list[str], np.ndarray]:
    radius = np.round(rng.uniform(300, 800, n), -1)
    speakers = rng.integers(1, 5, n)
    coverage = (
        _ewkb_hex(_rings(lon, lat, np.zeros(n), np.full(n, 360.0), radius, CIRCLE_VERTICES, False))
        if n
        else np.empty(0, dtype=object)
    )
    properties = [
        json.dumps(
            {"broadcast_radius": float(radius[i]), "speakers": int(speakers[i]), "talkback": True}
        )
        for i in range(n)
    ]
    return properties, coverage


def _tank_properties(rng, n: int) -> list[str]:
    capacity = np.round(rng.uniform(50, 500, n), -1)
    level = np.round(rng.uniform(20, 100, n), 1)
    return [
        json.dumps({"capacity_m3": float(capacity[i]), "level_pct": float(level[i])})
        for i in range(n)
    ]


def _detector_properties(rng, n: int) -> list[str]:
    battery = np.round(rng.uniform(15, 100, n))
    return [json.dumps({"battery_pct": float(b)}) for b in battery]


def _status(rng, n: int, now: dt.datetime) -> tuple[np.ndarray, np.ndarray]:
    status = rng.choice(STATUSES, n, p=STATUS_P)
    ago = np.select(
        [status == "online", status == "fault", status == "offline"],
        [rng.uniform(5, 240, n), rng.uniform(60, 3600, n), rng.uniform(3600, 10 * 86400, n)],
        rng.uniform(3600, 3 * 86400, n),
    )
    seen = pd.Timestamp(now) - pd.to_timedelta(ago, unit="s")
    return status, seen.round("s").to_numpy()


def _table(
    rng,
    type_code: str,
    xy: np.ndarray,
    ground: Ground,
    *,
    forest: bool,
    start: int,
    types: dict[str, SensorType],
    departments: dict[str, int],
    gateways: dict[str, int],
    now: dt.datetime,
) -> pd.DataFrame:
    n = len(xy)
    lon, lat = ground.lonlat(xy) if n else (np.empty(0), np.empty(0))
    place = "CSZH-" if forest else ""
    width = 4 if forest else 6
    codes = [f"{DEMO_PREFIX}{place}{SYMBOL[type_code]}-{i:0{width}d}" for i in range(1, n + 1)]
    names = [
        f"{'茶山竹海林区' if forest else ''}{LABEL[type_code]}{i:0{width}d}号"
        for i in range(1, n + 1)
    ]
    coverage = np.full(n, None, dtype=object)
    if type_code == "camera":
        reach = FOREST_CAMERA_RANGE if forest else URBAN_CAMERA_RANGE
        properties, coverage = _camera_properties(rng, n, lon, lat, codes, reach)
    elif type_code == "voice_pole":
        properties, coverage = _pole_properties(rng, n, lon, lat)
    elif type_code == "water_tank":
        properties = _tank_properties(rng, n)
    else:
        properties = _detector_properties(rng, n)
    status, seen = _status(rng, n, now)
    owner = FOREST_OWNER if forest else URBAN_OWNERS[type_code]
    if type_code == "camera":
        gateway = "demo-forest-video" if forest else "demo-city-video"
    elif type_code == "voice_pole":
        gateway = "demo-broadcast"
    else:
        gateway = "demo-iot"
    installed = np.datetime64("2019-01-01") + rng.integers(0, 6 * 365, n).astype("timedelta64[D]")
    sensor_type = types[type_code]
    return pd.DataFrame(
        {
            "row": np.arange(start, start + n),
            "code": codes,
            "type_id": sensor_type.pk,
            "role": sensor_type.role,
            "name": names,
            "lon": lon,
            "lat": lat,
            "department_id": pd.array([departments.get(owner)] * n, dtype="Int64"),
            "gateway_id": pd.array([gateways.get(gateway)] * n, dtype="Int64"),
            "installed_on": installed.astype("datetime64[D]").astype(object),
            "status": status,
            "last_seen_at": seen,
            "properties": properties,
            "coverage": coverage,
        }
    )


def _gateways(district: Region, departments: dict[str, int]) -> tuple[dict[str, int], dict]:
    ids, tokens = {}, {}
    for code, name, department in GATEWAYS:
        gateway, _ = Gateway.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "district": district,
                "department_id": departments.get(department),
                "active": True,
            },
        )
        tokens[code] = issue_token(gateway)
        ids[code] = gateway.pk
    return ids, tokens


def _forest_area(ground: Ground, street: Region | None):
    if street is None:
        return None
    boundaries = GridBoundary.objects.current().filter(grid__community__parent=street)
    shapes = [ground.metric(b.geom) for b in boundaries]
    return shapely.union_all(shapes) if shapes else None


def _home_points(ground: Ground, forest_street: Region | None) -> np.ndarray:
    homes = Household.objects.existing_on().filter(grid__isnull=False)
    if forest_street is not None:
        homes = homes.exclude(grid__community__parent=forest_street)
    points = np.array(
        [(p.x, p.y) for p in homes.values_list("location", flat=True).iterator(chunk_size=20000)]
    ).reshape(-1, 2)
    if not len(points):
        return points
    x, y = ground.to_metric.transform(points[:, 0], points[:, 1])
    return np.column_stack([x, y])


def _readings(now: dt.datetime, total: int, progress: Progress) -> int:
    from sensors.services import readings

    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=READING_DAYS)
    per_device = int((end - start) / READING_STEP) + 1
    budget = min(total * READINGS_PER_DEVICE, READINGS_MAX) // per_device
    demo = Sensor.objects.filter(code__startswith=DEMO_PREFIX)
    tanks = list(demo.filter(role=Role.WATER_TANK).order_by("pk").values_list("pk", flat=True))
    climate = list(
        demo.filter(type__code="temp_humidity")
        .order_by("pk")
        .values_list("pk", flat=True)[: max(0, budget - len(tanks))]
    )
    ids = tanks + climate
    progress.stage("readings", len(ids) * per_device)
    readings.ensure_partitions(start.date(), end.date())
    return sql.write_readings(ids, start, end, READING_STEP, settings.TIME_ZONE)


@transaction.atomic
def build(
    scale: str | int = "small",
    progress: Progress | None = None,
    *,
    tokens: dict[str, str] | None = None,
) -> SensorsDemoResult:
    """(Re)build the demo's devices on the demo district, in one transaction. The gateways'
    new tokens are put into `tokens` when given (shown once by the caller, never stored)."""
    progress = progress or NullProgress()
    rng = np.random.default_rng(SEED)
    now = timezone.now().replace(microsecond=0)
    catalogue.seed(SensorType, Category)
    district = Region.objects.get(code=grids_demo.DISTRICT_CODE)
    total, forest_counts = totals_for(scale)

    progress.stage("removing the demo's sensors", None)
    sql.remove_sensors(DEMO_PREFIX)
    types = {t.code: t for t in SensorType.objects.filter(code__in=SYMBOL)}
    departments = dict(Department.objects.filter(district=district).values_list("code", "pk"))
    gateway_ids, issued = _gateways(district, departments)
    if tokens is not None:
        tokens.update(issued)

    progress.stage("placing sensors", total)
    ground = Ground(district)
    street = Region.objects.filter(
        Q(parent=district) & Q(name=FOREST_STREET), valid_to__isnull=True
    ).first()
    forest = _forest_area(ground, street)
    whole = ground.metric(district.boundary_on())
    common = {
        "types": types,
        "departments": departments,
        "gateways": gateway_ids,
        "now": now,
        "ground": ground,
    }
    frames = []
    row = 1
    if forest is not None:
        placed = {
            "camera": np.vstack(
                [
                    _ridges(rng, forest, int(round(forest_counts["camera"] * 0.65))),
                    _uniform_in(
                        rng,
                        forest,
                        forest_counts["camera"] - int(round(forest_counts["camera"] * 0.65)),
                    ),
                ]
            ),
            "voice_pole": _spread(rng, forest, forest_counts["voice_pole"]),
            "water_tank": _uniform_in(rng, forest, forest_counts["water_tank"]),
        }
        for type_code, xy in placed.items():
            frames.append(_table(rng, type_code, xy, forest=True, start=row, **common))
            row += len(xy)
    rest = total - (row - 1)
    homes = _home_points(ground, street)
    counts = {k: int(round(rest * share)) for k, share in URBAN_MIX.items()}
    counts["smoke_detector"] += rest - sum(counts.values())
    for type_code, n in counts.items():
        xy = _near_homes(rng, ground, homes, n, forest, whole)
        frames.append(_table(rng, type_code, xy, forest=False, start=row, **common))
        row += n
    table = pd.concat(frames, ignore_index=True)
    progress.advance(len(table))

    progress.stage("writing sensors", len(table))
    inserted = sql.copy_sensors(table, district.pk)
    written = _readings(now, total, progress)

    progress.stage("camera coverage of grids", None)
    from sensors.services import coverage

    coverage.refresh_coverage(None)
    announce(Sensor)
    announce(GridCoverage)
    by_role = dict(
        Sensor.objects.filter(code__startswith=DEMO_PREFIX)
        .order_by()
        .values_list("role")
        .annotate(n=Count("pk"))
    )
    forest_cameras = (
        Sensor.objects.filter(role=Role.CAMERA, grid__community__parent=street).count()
        if street is not None
        else 0
    )
    return SensorsDemoResult(
        sensors=inserted,
        cameras=by_role.get(Role.CAMERA, 0),
        voice_poles=by_role.get(Role.VOICE_POLE, 0),
        water_tanks=by_role.get(Role.WATER_TANK, 0),
        detectors=by_role.get(Role.DETECTOR, 0),
        forest_cameras=forest_cameras,
        gateways=len(gateway_ids),
        readings=written,
    )


def analyse() -> None:
    """After a build has committed: planner statistics for the new rows."""
    sql.analyse()
