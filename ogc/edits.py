"""Part 4 (Create, Replace, Update, Delete): what a client's feature must be before an editor
sees it, independent of HTTP (the views are ogc/views/edits.py).

A body is one GeoJSON Feature. Its geometry must be the collection's type, in the request's
`Content-Crs` (CRS84 when absent), and is stored as lon/lat in SRID 4326 (ogc.crs). Its
properties are the collection's: an unknown one is refused, naming it; a read-only one
(grid, member_count ...) is accepted only when it equals the current value, because desktop
clients (QGIS) send back every attribute they read; read-only times kept by the server
(updated_at, last_seen_at ...) are ignored, since a client may have rounded them. The
editor's own writable properties are passed on, and the editor's services check their
values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import math
from collections.abc import Mapping
from contextlib import contextmanager

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point
from django.db.models import F
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from grids import limits
from grids.models import AuditLog
from grids.problems import Problem, ProblemsError
from ogc import crs as ogc_crs
from ogc.registry import Collection, Feature

CREATE, REPLACE, UPDATE = "create", "replace", "update"

PART4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"
CONFORMANCE = (PART4 + "create-replace-delete", PART4 + "update")


def refused(field: str, message, code: str = "invalid") -> ProblemsError:
    return ProblemsError([Problem(code, str(message), field=field)])


def problems_of(error: ValidationError) -> ProblemsError:
    """A serializer's refusal (the API's own checks, reused) as problems naming the
    feature's member: `geometry` for the location however the serializer names it,
    `properties.<name>` otherwise."""
    found = []
    detail = error.detail if isinstance(error.detail, dict) else {"": error.detail}
    for name, messages in detail.items():
        if name in ("location", "lon", "lat", "crs"):
            field = "geometry"
        elif name in ("", "non_field_errors"):
            field = "properties"
        else:
            field = f"properties.{name}"
        for message in messages if isinstance(messages, list) else [messages]:
            found.append(Problem(getattr(message, "code", "invalid"), str(message), field=field))
    return ProblemsError(found)


@contextmanager
def service_fields(keep=("location", "geometry", "id")):
    """Problems a service raises name its own fields (`client_key`, `properties.bearing`);
    in a feature they are members of `properties` (the point stays `location`, which the
    view calls `geometry`)."""
    try:
        yield
    except ProblemsError as error:
        error.problems = [
            dataclasses.replace(p, field=f"properties.{p.field}")
            if p.field and p.field not in keep
            else p
            for p in error.problems
        ]
        raise


def content_crs(request) -> ogc_crs.Crs:
    """Part 2's `Content-Crs` header of a body (`<uri>`, or the bare URI); CRS84 when absent."""
    header = request.headers.get("Content-Crs")
    if header is None or not header.strip():
        return ogc_crs.DEFAULT
    return ogc_crs.parse(header, "Content-Crs")


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def geometry_of(collection: Collection, value, crs: ogc_crs.Crs) -> GEOSGeometry:
    """The GeoJSON geometry a client sent, of the collection's type, as lon/lat in 4326."""
    if not isinstance(value, Mapping):
        raise refused("geometry", _("the geometry must be a GeoJSON geometry object"))
    kind = value.get("type")
    if kind != collection.geometry_type:
        raise refused(
            "geometry",
            _("the features of this collection are of type %(type)s")
            % {"type": collection.geometry_type},
            "wrong_geometry_type",
        )
    coordinates = value.get("coordinates")
    if kind == "Point":
        if not (
            isinstance(coordinates, list)
            and len(coordinates) in (2, 3)
            and all(_number(c) for c in coordinates)
        ):
            raise refused("geometry", _("a Point's coordinates are two numbers"))
        if not all(math.isfinite(c) for c in coordinates):
            raise refused("geometry", _("the coordinates must be finite numbers"))
        geometry = Point(float(coordinates[0]), float(coordinates[1]))
    else:
        try:
            geometry = GEOSGeometry(json.dumps({"type": kind, "coordinates": coordinates}))
        except (GDALException, GEOSException, ValueError, TypeError) as error:
            raise refused(
                "geometry", _("not a valid GeoJSON geometry: %(error)s") % {"error": error}
            ) from None
    stored = ogc_crs.to_storage(geometry, crs, field="geometry")
    stored.srid = 4326
    if kind == "Point":
        problem = limits.lonlat_problem(stored.x, stored.y)
        if problem:
            name, reason = problem
            raise refused("geometry", f"{name} {reason}")
    return stored


def merge_patch(target, patch):
    """RFC 7396 JSON Merge Patch: members of `patch` replace those of `target`, objects
    merge member by member, null removes a member."""
    if not isinstance(patch, Mapping):
        return patch
    merged = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def jsonable(value):
    """A stored value as the JSON of a GET gives it, for comparing with what a client sent."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _same(sent, current) -> bool:
    if _number(sent) and _number(current):
        return float(sent) == float(current)
    return sent == current


def current_values(collection: Collection, user, obj, names) -> dict:
    """The values of `names` as the collection reads them for `obj` (one query)."""
    aliases = {}
    for name in names:
        source = collection.property(name).source
        aliases[f"current_{name}"] = F(source) if isinstance(source, str) else source
    row = collection.queryset(user).filter(pk=obj.pk).values(**aliases).first() or {}
    return {name: jsonable(row.get(f"current_{name}")) for name in names}


def feature_of(collection: Collection, body, crs, *, mode: str, user, obj=None, fid=None):
    """The Feature an editor gets, from a request's body, or a ProblemsError naming every
    member at fault (nothing has been written)."""
    editor = collection.editor
    # A merge patch carries only what changes (QGIS sends {"geometry": ...} alone).
    patch_without_type = mode == UPDATE and isinstance(body, Mapping) and "type" not in body
    if not patch_without_type and (not isinstance(body, Mapping) or body.get("type") != "Feature"):
        found = body.get("type") if isinstance(body, Mapping) else None
        message = (
            _("send one Feature per request, not a FeatureCollection")
            if found == "FeatureCollection"
            else _('the body must be one GeoJSON Feature ("type": "Feature")')
        )
        raise refused("type", message)
    problems: list[Problem] = []
    if mode != CREATE and "id" in body and body["id"] is not None and str(body["id"]) != fid:
        problems.append(Problem("read_only", _("the id of a feature cannot change"), field="id"))
    properties = body.get("properties")
    if properties is None:
        properties = {}
    elif not isinstance(properties, Mapping):
        raise refused("properties", _("a Feature's properties are a JSON object"))

    geometry = None
    if "geometry" in body and body["geometry"] is not None:
        geometry = geometry_of(collection, body["geometry"], crs)
    elif mode != UPDATE or "geometry" in body:
        # Created and replaced features need one; a merge patch's null would remove it.
        problems.append(
            Problem(
                "required", _("a feature of this collection needs a geometry"), field="geometry"
            )
        )

    known = {p.name for p in collection.properties} | set(editor.writable)
    for name in properties:
        if name not in known:
            problems.append(
                Problem(
                    "unknown_property",
                    _("this collection has no property of this name"),
                    field=f"properties.{name}",
                )
            )
    read_only = [
        name
        for name in properties
        if name in known and name not in editor.writable and properties[name] is not None
    ]
    # Times the server keeps are ignored: a client may send them back rounded.
    read_only = [n for n in read_only if collection.property(n).type != "date-time"]
    if read_only:
        current = current_values(collection, user, obj, read_only) if obj is not None else {}
        for name in read_only:
            if obj is None or not _same(properties[name], current[name]):
                problems.append(
                    Problem(
                        "read_only",
                        _("this property is read-only: the server keeps it"),
                        field=f"properties.{name}",
                    )
                )
    if mode in (CREATE, REPLACE):
        for name in editor.required:
            if properties.get(name) is None:
                problems.append(
                    Problem("required", _("this property is required"), field=f"properties.{name}")
                )
    if problems:
        raise ProblemsError(problems)
    writable = {name: value for name, value in properties.items() if name in editor.writable}
    return Feature(geometry=geometry, properties=writable)


def audit(request, collection: Collection, obj) -> AuditLog:
    """Every OGC write is on the audit trail: who, what, which row, through which path."""
    return AuditLog.objects.create(
        user=request.user if getattr(request.user, "pk", None) else None,
        action=AuditLog.Action.EDIT,
        model=obj._meta.model_name,
        object_ids=[obj.pk],
        channel="ogc",
        path=request.get_full_path()[:255],
    )
