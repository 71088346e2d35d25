"""The sensor registry: properties checked against their type's schema, the grid stored on
write, and the ground a device covers (a camera's view sector, a pole's broadcast circle)
computed from its properties."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
from django.contrib.gis.geos import Point, Polygon
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, ValidationError
from pyproj import Geod

from grids import scoping
from grids import sql as grids_sql
from grids.models import Department, Grid, Region
from grids.problems import Problem, ProblemsError
from grids.services.households import check_in_jurisdiction, grid_for_point
from grids.signals import announce
from sensors.models import Gateway, Role, Sensor, SensorType, Status
from sensors.services import live

GEOD = Geod(ellps="WGS84")
# One vertex per this many degrees of a sector's arc (a 90° camera: 19 vertices), and the
# vertices of a broadcast circle: the drawn edge strays under 0.2 % of the radius.
ARC_STEP_DEGREES = 5.0
CIRCLE_VERTICES = 72


# --- schemas -------------------------------------------------------------------------------


def check_schema(schema: dict, field: str) -> None:
    """A district's own type brings its own JSON Schema: it must itself be valid."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ProblemsError([Problem("invalid_schema", exc.message, field=field)]) from exc
    check_url_schemes(schema, field)


# A property whose schema says `"format": "uri"` is a link a page may render: only these
# schemes, plus those the property itself lists under `x-schemes` (never a scheme that
# runs code in the browser). JSON Schema leaves `format` unchecked by default.
URL_FORMATS = frozenset({"uri", "iri", "uri-reference", "iri-reference"})
URL_SCHEMES = frozenset({"http", "https", "rtsp"})
NEVER_SCHEMES = frozenset({"javascript", "vbscript", "data", "file", "blob", "about"})
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
# Browsers drop these from a URL before reading its scheme ("java\tscript:").
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]")


def url_problem(value: str, extra_schemes=()) -> str | None:
    """Why a property value is not a link of an accepted scheme, or None."""
    allowed = URL_SCHEMES | {str(s).lower() for s in extra_schemes} - NEVER_SCHEMES
    if _URL_NOISE.search(value):
        return f"{value[:80]!r} is not a link: it holds spaces or control characters"
    try:
        parts = urlsplit(value)
    except ValueError as error:
        return f"{value[:80]!r} is not a link ({error})"
    if parts.scheme.lower() not in allowed:
        return f"{value[:80]!r} is not a link of an accepted scheme ({', '.join(sorted(allowed))})"
    if not parts.netloc:
        return f"{value[:80]!r} is not a link: it names no host"
    return None


def _url_format(validator, format_, instance, schema):
    if format_ not in URL_FORMATS or not validator.is_type(instance, "string"):
        return
    problem = url_problem(instance, schema.get("x-schemes") or ())
    if problem:
        yield ValidationError(problem)


# Draft 2020-12 with `format` asserted for links (other formats stay annotations).
PropertyValidator = validators.extend(Draft202012Validator, {"format": _url_format})


def check_url_schemes(schema, field: str) -> None:
    """A type may widen the schemes of a link property (`x-schemes`), but only to scheme
    names, and never to one that runs code in the browser."""
    problems = []

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            if "x-schemes" in node:
                schemes = node["x-schemes"]
                names = schemes if isinstance(schemes, list) else [schemes]
                for name in names:
                    if not isinstance(name, str) or not _SCHEME.match(name.lower()):
                        problems.append(f"{path}x-schemes: {name!r} is not a scheme name")
                    elif name.lower() in NEVER_SCHEMES:
                        problems.append(f"{path}x-schemes: {name!r} is never accepted in a link")
            for key, value in node.items():
                walk(value, f"{path}{key}.")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}{i}.")

    walk(schema, "")
    if problems:
        raise ProblemsError([Problem("invalid_schema", p, field=field) for p in problems])


_validators: dict[tuple[int, str], tuple[str, Draft202012Validator]] = {}


def _validator(sensor_type: SensorType, which: str) -> Draft202012Validator:
    schema = getattr(sensor_type, which)
    key = (sensor_type.pk, which)
    fingerprint = repr(schema)
    cached = _validators.get(key)
    if cached is None or cached[0] != fingerprint:
        cached = (fingerprint, PropertyValidator(schema))
        _validators[key] = cached
    return cached[1]


def schema_problems(
    sensor_type: SensorType,
    values: dict,
    *,
    which: str = "properties_schema",
    field: str = "properties",
    row: int | None = None,
    feature: str | None = None,
) -> list[Problem]:
    """Each violation of the type's schema, naming the property (`properties.bearing`)."""
    if not isinstance(values, dict):
        return [
            Problem(
                "not_an_object",
                _("expected an object of named values"),
                row=row,
                field=field,
                feature=feature,
            )
        ]
    problems = []
    for error in sorted(_validator(sensor_type, which).iter_errors(values), key=str):
        path = ".".join(str(part) for part in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path = missing
        elif error.validator == "additionalProperties":
            path = path or ""
        problems.append(
            Problem(
                f"schema_{error.validator}",
                f"{sensor_type.code}: {error.message}",
                row=row,
                field=f"{field}.{path}" if path else field,
                feature=feature,
            )
        )
    return problems


# --- coverage geometry ---------------------------------------------------------------------


def sector_ring(lon: float, lat: float, bearing: float, fov: float, range_m: float):
    """The outline of a view sector on the spheroid: the camera, then the arc from
    bearing - fov/2 to bearing + fov/2 at `range_m` metres; a full circle when fov >= 360."""
    if fov >= 360:
        return circle_ring(lon, lat, range_m)
    steps = max(2, int(np.ceil(fov / ARC_STEP_DEGREES)) + 1)
    azimuths = np.linspace(bearing - fov / 2, bearing + fov / 2, steps)
    lons, lats, _back = GEOD.fwd(
        np.full(steps, lon), np.full(steps, lat), azimuths, np.full(steps, range_m)
    )
    return [(lon, lat), *zip(lons.tolist(), lats.tolist(), strict=True), (lon, lat)]


def circle_ring(lon: float, lat: float, radius_m: float):
    azimuths = np.linspace(0, 360, CIRCLE_VERTICES, endpoint=False)
    n = len(azimuths)
    lons, lats, _back = GEOD.fwd(np.full(n, lon), np.full(n, lat), azimuths, np.full(n, radius_m))
    ring = list(zip(lons.tolist(), lats.tolist(), strict=True))
    return [*ring, ring[0]]


# What fire response and coverage read off a device of each role: a type of that role must
# require these as numbers (services.types), or its devices would have no sector or circle.
ROLE_PROPERTIES = {Role.CAMERA: ("bearing", "fov", "range"), Role.VOICE_POLE: ("broadcast_radius",)}


def coverage_for(role: str, location: Point, properties: dict) -> Polygon | None:
    """What a device reaches on the ground, from its (already validated) properties. A
    district's own camera or pole type must ask for the same properties (types.py checks
    its schema); a device without them is refused, naming them."""

    def number(value) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    missing = [name for name in ROLE_PROPERTIES.get(role, ()) if not number(properties.get(name))]
    if missing:
        raise ProblemsError(
            [
                Problem("required", f"a {role} needs a number {name!r}", field=f"properties.{name}")
                for name in missing
            ]
        )
    if role == Role.CAMERA:
        ring = sector_ring(
            location.x,
            location.y,
            float(properties["bearing"]),
            float(properties["fov"]),
            float(properties["range"]),
        )
    elif role == Role.VOICE_POLE:
        ring = circle_ring(location.x, location.y, float(properties["broadcast_radius"]))
    else:
        return None
    return Polygon(ring, srid=4326)


# --- writing sensors -----------------------------------------------------------------------


@dataclass(frozen=True)
class SensorSpec:
    code: str
    type: str  # type code
    location: Point
    name: str = ""
    properties: dict | None = None
    department: str | None = None  # department code
    installed_on: dt.date | None = None
    status: str | None = None


def _problem(code: str, message: str, field: str) -> ProblemsError:
    return ProblemsError([Problem(code, message, field=field)])


def types_for_district(district_id: int | None):
    """Built-in types and the district's own."""
    return SensorType.objects.filter(active=True).filter(
        Q(district__isnull=True) | Q(district=district_id)
    )


def _resolve(spec: SensorSpec, district_id: int | None) -> tuple[SensorType, Department | None]:
    sensor_type = types_for_district(district_id).filter(code=spec.type).first()
    if sensor_type is None:
        # Codes sent are not echoed (here and below): they may be another district's.
        raise _problem("unknown_type", _("no sensor type with this code in the district"), "type")
    department = None
    if spec.department:
        # Department codes are unique, but a device may only belong to its own district's.
        department = Department.objects.filter(code=spec.department, district=district_id).first()
        if department is None:
            raise _problem(
                "unknown_department",
                _("no department with this code in the district"),
                "department",
            )
    if spec.status and spec.status not in Status.values:
        raise _invalid_status()
    if not spec.code or len(spec.code) > 64:
        raise _problem("invalid_code", _("a code of 1 to 64 characters is required"), "code")
    if problems := schema_problems(sensor_type, spec.properties or {}):
        raise ProblemsError(problems)
    return sensor_type, department


def _district_of(point: Point, grid) -> Region | None:
    if grid is not None:
        return grid.community.parent.parent
    return Region.objects.containing(point).filter(level="district").first()


def _place(location: Point, user) -> tuple[Grid | None, Region]:
    """The grid and district of a location, checked against the user's jurisdiction: only
    the district centre (of that district) and administrators place devices in no grid.

    Called inside the write's transaction: the shared tree lock, held to the commit, keeps
    a boundary change from re-keying the area between this look-up and the commit (the
    device would stay in the old grid for good)."""
    grids_sql.lock_tree(shared=True)
    grid = grid_for_point(location)
    district = _district_of(location, grid)
    if district is None:
        raise _problem("outside_district", _("the location lies in no district"), "location")
    if user is not None and not scoping.sees_everything(user):
        if grid is not None:
            check_in_jurisdiction(user, grid)
        elif not (user.role == "district_centre" and scoping.user_district(user) == district.pk):
            raise _problem(
                "outside_jurisdiction", _("the location is outside your jurisdiction"), "location"
            )
    return grid, district


def _duplicate_code() -> ProblemsError:
    return _problem("duplicate_code", _("a sensor with this code exists already"), "code")


def _invalid_status() -> ProblemsError:
    return _problem(
        "invalid_status",
        _("status is one of %(values)s") % {"values": ", ".join(Status.values)},
        "status",
    )


def create_sensor(spec: SensorSpec, *, user=None) -> Sensor:
    """Register one device at its location, keyed to the grid it lies in."""
    with transaction.atomic():
        grid, district = _place(spec.location, user)
        # The location's district decides which district types and departments apply.
        sensor_type, department = _resolve(spec, district.pk)
        if Sensor.objects.filter(code=spec.code).exists():
            raise _duplicate_code()
        properties = spec.properties or {}
        try:
            # Two registrations of one code race past the check above: the unique
            # constraint keeps one, the other is the same refusal, not a 500.
            with transaction.atomic():
                sensor = Sensor.objects.create(
                    code=spec.code,
                    type=sensor_type,
                    role=sensor_type.role,
                    name=spec.name,
                    location=spec.location,
                    grid=grid,
                    district=district,
                    department=department,
                    installed_on=spec.installed_on,
                    status=spec.status or Status.OFFLINE,
                    properties=properties,
                    coverage=coverage_for(sensor_type.role, spec.location, properties),
                )
        except IntegrityError:
            if not Sensor.objects.filter(code=spec.code).exists():
                raise
            raise _duplicate_code() from None
    announce(Sensor)
    return sensor


def update_sensor(
    sensor: Sensor,
    *,
    location: Point | None = None,
    properties: dict | None = None,
    name: str | None = None,
    status: str | None = None,
    user=None,
) -> Sensor:
    """Move a device, change its properties or set its status by hand (maintenance)."""
    if properties is not None and (problems := schema_problems(sensor.type, properties)):
        raise ProblemsError(problems)
    if status is not None and status not in Status.values:
        raise _invalid_status()
    with transaction.atomic():
        if location is not None:
            # The tree lock before the row, the order a boundary change takes them (tree,
            # then the rows it re-keys); the other order can deadlock against it.
            grids_sql.lock_tree(shared=True)
        sensor = Sensor.objects.select_for_update().get(pk=sensor.pk)
        if location is not None:
            sensor.grid, district = _place(location, user)
            if district.pk != sensor.district_id:
                raise _problem(
                    "outside_district", _("a device cannot move to another district"), "location"
                )
            sensor.location = location
        if properties is not None:
            sensor.properties = properties
        if name is not None:
            sensor.name = name
        changed = status is not None and status != sensor.status
        if status is not None:
            sensor.status = status
        sensor.coverage = coverage_for(sensor.role, sensor.location, sensor.properties)
        sensor.save()
        if changed:
            live.statuses([sensor.pk])
    announce(Sensor)
    return sensor


def delete_sensor(sensor: Sensor) -> None:
    """Remove a device registered by mistake. One with broadcasts or alerts is history the
    incidents and dispatch records point to: set it to maintenance instead. Its readings go
    with it (ON DELETE CASCADE)."""
    with transaction.atomic():
        sensor = Sensor.objects.select_for_update().get(pk=sensor.pk)
        if sensor.deliveries.exists() or sensor.alerts.exists():
            error = _problem(
                "sensor_in_use",
                _(
                    "the device has broadcasts or alerts on record: set its status to "
                    "maintenance instead"
                ),
                "id",
            )
            error.status_code = 409
            raise error
        sensor.delete()
    announce(Sensor)


# --- tokens --------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(holder: Gateway | Sensor) -> str:
    """A new secret for a gateway or a device, shown once; only its hash is kept, and the
    old token stops working."""
    token = secrets.token_urlsafe(32)
    holder.token_hash = hash_token(token)
    holder.save(update_fields=["token_hash"])
    return token


def holder_of(token: str) -> Gateway | Sensor | None:
    if not token:
        return None
    digest = hash_token(token)
    gateway = Gateway.objects.filter(token_hash=digest, active=True).first()
    if gateway is not None:
        return gateway
    return Sensor.objects.filter(token_hash=digest).select_related("type").first()


def spoken_for_q(gateway: Gateway, prefix: str = "") -> Q:
    """The devices a gateway may speak for: its own, and any device of its district without
    a gateway of its own (`prefix` for a relation to the device, e.g. "pole__")."""
    return Q(**{f"{prefix}district": gateway.district_id}) & (
        Q(**{f"{prefix}gateway": gateway}) | Q(**{f"{prefix}gateway__isnull": True})
    )


def sensors_of(holder: Gateway | Sensor, codes: Sequence[str]) -> dict[str, Sensor]:
    """The sensors among `codes` the holder may speak for (spoken_for_q); a device only
    itself."""
    if isinstance(holder, Sensor):
        return {holder.code: holder} if holder.code in codes else {}
    found = Sensor.objects.filter(spoken_for_q(holder), code__in=codes)
    return {sensor.code: sensor for sensor in found}
