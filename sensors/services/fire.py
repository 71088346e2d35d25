"""Fire response (issue #6): where smoke is seen, the nearest water and how full it is, the
cameras that can see the spot and the voice poles that can warn the people around it.

Which devices are offered: every device of the caller's district (administrators: every
district), not only those of the caller's own jurisdiction. A fire at a street's or grid's
edge needs the neighbour street's water tanks and cameras, and a fire team (a department:
林业局, 应急局) works across the district. Devices that are offline, faulty or in maintenance
are listed with their status so that the team sees them and skips them; they are not hidden.
The point (or area) itself must lie in a district the caller works in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.utils.translation import gettext as _

from grids import scoping
from grids.problems import Problem, ProblemsError
from sensors.services.registry import url_problem
from sensors.sql import fire as sql

MAX_TANKS = 50
MAX_POLES_WITHIN_M = 20_000.0


@dataclass(frozen=True)
class GridRef:
    id: int
    code: str
    name: str
    community: str
    street: str


@dataclass(frozen=True)
class Tank:
    id: int
    code: str
    name: str
    status: str
    location: tuple[float, float]
    distance_m: float
    level_pct: float | None
    level_at: object  # datetime of the reading the level comes from, or None
    capacity_m3: float | None
    volume_m3: float | None  # capacity × level: the water to count on


@dataclass(frozen=True)
class Camera:
    id: int
    code: str
    name: str
    status: str
    location: tuple[float, float]
    distance_m: float
    bearing: float | None  # degrees clockwise from north, from the camera to the spot
    fov: float
    range: float
    sector: dict  # GeoJSON Polygon
    stream: str | None


@dataclass(frozen=True)
class Pole:
    id: int
    code: str
    name: str
    status: str
    location: tuple[float, float]
    distance_m: float
    broadcast_radius: float
    covers: bool  # its broadcast circle reaches the spot


@dataclass
class FireResponse:
    point: Point | None
    area: Polygon | MultiPolygon | None
    grid: GridRef | None
    water_tanks: list[Tank] = field(default_factory=list)
    cameras: list[Camera] = field(default_factory=list)
    poles: list[Pole] = field(default_factory=list)


def _refuse(code: str, message: str, name: str) -> ProblemsError:
    return ProblemsError([Problem(code, message, field=name)])


def fire_response(
    *,
    point: Point | None = None,
    area: Polygon | MultiPolygon | None = None,
    user,
    tanks: int = 5,
    poles_within: float = 1000.0,
) -> FireResponse:
    """Water tanks nearest to, cameras seeing and voice poles covering or near a point or an
    area, in four queries (place, tanks, cameras, poles). Distances are metres on the
    spheroid; for an area, distances are to its edge (0 inside) and bearings point at a
    point inside it."""
    if (point is None) == (area is None):
        raise _refuse("required", _("give either a point or an area"), "geometry")
    if not 1 <= tanks <= MAX_TANKS:
        raise _refuse("out_of_range", _("tanks is 1 to %d") % MAX_TANKS, "tanks")
    if not 0 <= poles_within <= MAX_POLES_WITHIN_M:
        raise _refuse(
            "out_of_range", _("poles_within is 0 to %d metres") % MAX_POLES_WITHIN_M, "poles_within"
        )
    target = point if point is not None else area
    if target.srid != 4326:
        raise _refuse("invalid_srid", _("coordinates are WGS 84 (EPSG:4326)"), "geometry")
    if not target.valid:
        raise _refuse("invalid_geometry", target.valid_reason, "geometry")
    aim = point if point is not None else area.point_on_surface
    everywhere = scoping.sees_everything(user)
    values = sql.params(
        bytes(target.ewkb),
        bytes(aim.ewkb),
        district=None if everywhere else scoping.user_district(user),
        everywhere=everywhere,
        tanks=tanks,
        within=float(poles_within),
    )
    ((district_id, *grid),) = sql.run("place", values)
    if district_id is None:
        raise _refuse(
            "outside_district",
            _("the place lies outside the district you work in"),
            "area" if area is not None else "point",
        )
    return FireResponse(
        point=point,
        area=area,
        grid=GridRef(*grid) if grid[0] is not None else None,
        water_tanks=[_tank(row) for row in sql.run("tanks", values)],
        cameras=[_camera(row) for row in sql.run("cameras", values)],
        poles=[_pole(row) for row in sql.run("poles", values)],
    )


def _tank(row: tuple) -> Tank:
    id_, code, name, status, x, y, distance, level, level_at, capacity = row
    volume = capacity * level / 100 if capacity is not None and level is not None else None
    return Tank(id_, code, name, status, (x, y), distance, level, level_at, capacity, volume)


def _camera(row: tuple) -> Camera:
    id_, code, name, status, x, y, distance, bearing, fov, range_m, sector, stream = row
    # A stream stored before links were checked is not handed to the panel as a link.
    if not isinstance(stream, str) or url_problem(stream) is not None:
        stream = None
    return Camera(id_, code, name, status, (x, y), distance, bearing, fov, range_m, sector, stream)


def _pole(row: tuple) -> Pole:
    id_, code, name, status, x, y, distance, radius, covers = row
    return Pole(id_, code, name, status, (x, y), distance, radius, covers)
