"""CQL2 JSON (OGC 21-065r2, the cql2-json schema) into ogc.cql2.nodes.

A syntax error in the JSON text has its character offset; an error in the structure is named
by a JSON pointer in the message (e.g. "/args/1/property"), since the decoded JSON no longer
knows where its members were.
"""

from __future__ import annotations

import json
import math

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils.translation import gettext as _

from ogc.cql2 import nodes
from ogc.cql2.nodes import MAX_TEXT, MAX_VERTICES, Budget, error
from ogc.cql2.text import parse_date, parse_timestamp

COMPARISONS = {"=", "<>", "<", "<=", ">", ">="}
GEOJSON_TYPES = {
    "Point",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
}


def parse(source: str | dict | bool) -> nodes.Node:
    if isinstance(source, str):
        if len(source) > MAX_TEXT:
            raise error(_("the filter is longer than %(n)d characters") % {"n": MAX_TEXT}, MAX_TEXT)
        try:
            source = json.loads(source)
        except json.JSONDecodeError as exc:
            raise error(_("not valid JSON: %(reason)s") % {"reason": exc.msg}, exc.pos) from None
        except ValueError:  # an integer of thousands of digits
            raise error(_("a number in the filter is out of range")) from None
        except RecursionError:
            raise error(
                _("the filter is nested more than %(n)d levels deep") % {"n": nodes.MAX_DEPTH}
            ) from None
    return _Walker().expression(source, "", 1)


def _text(value: str, where: str) -> str:
    """A string of the filter, refused when PostgreSQL could not take it (a NUL, or a lone
    surrogate from a \\ud800 escape, which UTF-8 cannot encode)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(_("the filter contains a character that is not valid Unicode"), where) from None
    if "\x00" in value:
        raise _fail(_("the filter may not contain a NUL character"), where)
    return value


def _number(value: int | float, where: str) -> int | float:
    """JSON allows 1e999 (read as infinity), NaN and integers no column holds."""
    if isinstance(value, float) and not math.isfinite(value) or abs(value) > 10**38:
        raise _fail(_("a number in the filter is out of range"), where)
    return value


def _fail(message, where: str) -> nodes.OgcError:
    return error(nodes.at(str(message), where or "/"))


class _Walker:
    def __init__(self):
        self.budget = Budget()

    def expression(self, value, where: str, level: int) -> nodes.Node:
        Budget.depth(level, None, where or "/")
        self.budget.count(None, where or "/")
        if isinstance(value, bool):
            return nodes.BoolConst(None, value, where=where)
        if not isinstance(value, dict) or "op" not in value:
            raise _fail(
                _('expected a predicate: an object with "op" and "args", or true/false'), where
            )
        op, args = self.operation(value, where)
        low = op.lower()
        sub = [f"{where}/args/{i}" for i in range(len(args))]
        if low in ("and", "or"):
            self.arity(args, 2, None, op, where)
            parts = [self.expression(a, sub[i], level + 1) for i, a in enumerate(args)]
            return (nodes.And if low == "and" else nodes.Or)(None, parts, where=where)
        if low == "not":
            self.arity(args, 1, 1, op, where)
            return nodes.Not(None, self.expression(args[0], sub[0], level + 1), where=where)
        if op in COMPARISONS:
            self.arity(args, 2, 2, op, where)
            lhs, rhs = (self.scalar(a, sub[i], level + 1) for i, a in enumerate(args))
            return nodes.Compare(None, op, lhs, rhs, where=where)
        if low == "like":
            self.arity(args, 2, 2, op, where)
            lhs, pattern = (self.scalar(a, sub[i], level + 1) for i, a in enumerate(args))
            return nodes.Like(None, lhs, pattern, where=where)
        if low == "between":
            self.arity(args, 3, 3, op, where)
            lhs, lo, hi = (self.scalar(a, sub[i], level + 1) for i, a in enumerate(args))
            return nodes.Between(None, lhs, lo, hi, where=where)
        if low == "in":
            self.arity(args, 2, 2, op, where)
            if not isinstance(args[1], list) or not args[1]:
                raise _fail(_('the second argument of "in" must be a non-empty array'), sub[1])
            values = [self.scalar(v, f"{sub[1]}/{i}", level + 1) for i, v in enumerate(args[1])]
            return nodes.In(None, self.scalar(args[0], sub[0], level + 1), values, where=where)
        if low == "isnull":
            self.arity(args, 1, 1, op, where)
            return nodes.IsNull(None, self.scalar(args[0], sub[0], level + 1), where=where)
        if low in nodes.SPATIAL_OPS:
            self.arity(args, 2, 2, op, where)
            a, b = (self.scalar(x, sub[i], level + 1) for i, x in enumerate(args))
            return nodes.Spatial(None, low, a, b, where=where)
        raise nodes.unsupported(op, None, where or "/")

    @staticmethod
    def operation(value: dict, where: str):
        op, args = value.get("op"), value.get("args", [])
        unknown = set(value) - {"op", "args"}
        if unknown:
            raise _fail(_("unexpected member %(name)r") % {"name": sorted(unknown)[0]}, where)
        if not isinstance(op, str):
            raise _fail(_('"op" must be a string'), where)
        _text(op, where)
        if not isinstance(args, list):
            raise _fail(_('"args" must be an array'), where)
        return op, args

    @staticmethod
    def arity(args: list, least: int, most: int | None, op: str, where: str) -> None:
        if len(args) < least or (most is not None and len(args) > most):
            wanted = str(least) if least == most else f"{least}+"
            raise _fail(
                _("%(op)s takes %(n)s arguments, got %(got)d")
                % {"op": op, "n": wanted, "got": len(args)},
                where,
            )

    def scalar(self, value, where: str, level: int) -> nodes.Node:
        Budget.depth(level, None, where)
        self.budget.count(None, where)
        if isinstance(value, bool):
            return nodes.Literal(None, "boolean", value, where=where)
        if isinstance(value, int | float):
            return nodes.Literal(None, "number", _number(value, where), where=where)
        if isinstance(value, str):
            return nodes.Literal(None, "string", _text(value, where), where=where)
        if isinstance(value, list):
            raise _fail(_("arrays are not supported here"), where)
        if not isinstance(value, dict):
            raise _fail(_("expected a property, a literal or a function"), where)
        if "property" in value:
            name = value["property"]
            if not isinstance(name, str) or len(value) != 1:
                raise _fail(_('a property is {"property": "<name>"}'), where)
            return nodes.Prop(None, _text(name, where), where=where)
        if "date" in value or "timestamp" in value:
            return self.instant(value, where)
        if "bbox" in value:
            box = value["bbox"]
            if (
                len(value) != 1
                or not isinstance(box, list)
                or len(box) not in (4, 6)
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
            ):
                raise _fail(_('a bbox is {"bbox": [4 or 6 numbers]}'), where)
            box = [float(_number(v, where)) for v in box]
            return nodes.Literal(None, "geometry", ("bbox", box), where=where)
        if "interval" in value:
            raise _fail(_("intervals are not supported; compare dates instead"), where)
        if value.get("type") in GEOJSON_TYPES:
            return nodes.Literal(None, "geometry", self.geojson(value, where), where=where)
        if "op" in value:
            op, args = self.operation(value, where)
            if op.lower() == "casei":
                self.arity(args, 1, 1, op, where)
                inner = self.scalar(args[0], f"{where}/args/0", level + 1)
                return nodes.CaseI(None, inner, where=where)
            if op.lower() == "accenti":
                raise _fail(_("ACCENTI (accent-insensitive comparison) is not supported"), where)
            raise nodes.unsupported(op, None, where)
        raise _fail(_("expected a property, a literal or a function"), where)

    @staticmethod
    def instant(value: dict, where: str) -> nodes.Node:
        (kind, text), *rest = value.items()
        if rest or not isinstance(text, str):
            raise _fail(
                _('a date is {"date": "YYYY-MM-DD"}, a timestamp {"timestamp": "...Z"}'), where
            )
        try:
            if kind == "date":
                return nodes.Literal(None, "date", parse_date(text, None), where=where)
            return nodes.Literal(None, "timestamp", parse_timestamp(text, None), where=where)
        except nodes.OgcError as exc:
            raise _fail(exc.message, where) from None

    @staticmethod
    def geojson(value: dict, where: str):
        count = _vertices(value.get("coordinates", value.get("geometries")))
        if count > MAX_VERTICES:
            raise _fail(
                _("geometry literals may have at most %(n)d vertices") % {"n": MAX_VERTICES}, where
            )
        if not _well_formed(value):
            raise _fail(_("not a valid GeoJSON geometry"), where)
        try:
            geometry = GEOSGeometry(json.dumps(value))
        except (ValueError, TypeError, GEOSException, GDALException):
            raise _fail(_("not a valid GeoJSON geometry"), where) from None
        geometry.srid = None  # GeoJSON says WGS 84; the filter's CRS decides (filter-crs)
        return geometry


# How deep each GeoJSON type nests its positions.
NESTING = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


def _well_formed(value, level: int = 0) -> bool:
    """The GeoJSON's structure checked before GEOS reads it: GEOS logs an error for each
    malformed literal a client sends (a one-point line, an open ring)."""
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "GeometryCollection":
        members = value.get("geometries")
        return (
            level < 4
            and isinstance(members, list)
            and bool(members)
            and all(_well_formed(member, level + 1) for member in members)
        )
    return kind in NESTING and _coordinates_ok(value.get("coordinates"), NESTING[kind], kind)


def _position(value) -> bool:
    return (
        isinstance(value, list)
        and 2 <= len(value) <= 3
        and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in value
        )
    )


def _coordinates_ok(coordinates, depth: int, kind: str) -> bool:
    if depth == 0:
        return _position(coordinates)
    if not isinstance(coordinates, list) or not coordinates:
        return False
    if depth > 1:
        return all(_coordinates_ok(c, depth - 1, kind) for c in coordinates)
    if not all(_position(p) for p in coordinates):
        return False
    if kind in ("Polygon", "MultiPolygon"):  # a ring
        return len(coordinates) >= 4 and coordinates[0] == coordinates[-1]
    return kind == "MultiPoint" or len(coordinates) >= 2


def _vertices(value) -> int:
    """How many numbers a GeoJSON coordinates array holds (an upper bound of its vertices),
    counted without recursion so a hostile nesting cannot overflow the stack."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.append(item.get("coordinates", item.get("geometries")))
        else:
            count += 1
    return count // 2
