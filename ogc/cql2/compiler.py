"""A parsed CQL2 filter into a Django Q over the collection's property paths (never SQL text:
every literal reaches PostgreSQL as a query parameter).

NOT is pushed down to the leaves (De Morgan), and each negated leaf is written so that a NULL
property makes it false: CQL2 is three-valued like SQL (its conformance tests expect
`"date" <> DATE('2022-04-16')` to skip the features without a date), whereas Django's
`~Q(x=1)` also returns the rows where x is NULL.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from django.db.models import Expression, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ogc.cql2 import geometry as literals
from ogc.cql2 import nodes
from ogc.cql2.nodes import located

LOOKUPS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
INVERSE = {"=": "<>", "<>": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
SPATIAL = {
    "s_intersects": "intersects",
    "s_equals": "equals",
    "s_disjoint": "disjoint",
    "s_touches": "touches",
    "s_within": "within",
    "s_overlaps": "overlaps",
    "s_crosses": "crosses",
    "s_contains": "contains",
}
# S_WITHIN(literal, geometry) is S_CONTAINS(geometry, literal); the rest are symmetric.
SPATIAL_SWAPPED = {"within": "contains", "contains": "within"}
TRUE = Q(pk__isnull=False)
FALSE = Q(pk__in=[])
# What a literal of each CQL2 kind may be compared with.
COMPATIBLE = {
    "string": {"string"},
    "integer": {"number"},
    "number": {"number"},
    "boolean": {"boolean"},
    "date": {"date"},
    "date-time": {"timestamp"},
    "geometry": {"geometry"},
}


@dataclass(frozen=True)
class Field:
    """A property a filter may name: a queryable, or the feature's geometry."""

    name: str
    source: str | Expression
    type: str


def fields(collection) -> dict[str, Field]:
    found = {p.name: Field(p.name, p.source, p.type) for p in collection.queryables}
    for name in ("geometry", collection.geometry):
        found.setdefault(name, Field(name, collection.geometry, "geometry"))
    return found


def compile_tree(tree: nodes.Node, collection, filter_crs=None) -> Q:
    return _Compiler(collection, filter_crs).predicate(tree, False)


def lookup(field: Field, name: str, value) -> Q:
    if isinstance(field.source, str):
        return Q(**{f"{field.source}__{name}": value})
    found = field.source.output_field.get_lookup(name)
    return Q(found(field.source, value))


def not_null(field: Field) -> Q:
    return lookup(field, "isnull", False)


def like_lookup(pattern: str, casei: bool) -> tuple[str, str]:
    """A CQL2 LIKE pattern (% any run, _ one character, \\ escapes the next) as a Django
    lookup: exact/startswith/endswith/contains when the wildcards allow it, else a regex
    anchored at both ends with every literal character escaped."""
    parts: list[tuple[bool, str]] = []  # (is_wildcard, text)
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            parts.append((False, pattern[i + 1]))
            i += 2
            continue
        parts.append((ch in "%_", ch))
        i += 1
    prefix = "i" if casei else ""
    if not any(wild for wild, _t in parts):
        return f"{prefix}exact", "".join(t for _w, t in parts)
    lead, trail = parts[0] == (True, "%"), parts[-1] == (True, "%")
    middle = parts[int(lead) : len(parts) - int(trail)] if len(parts) > 1 else []
    if (lead or trail) and not any(wild for wild, _t in middle):
        body = "".join(t for _w, t in middle)
        if lead and trail:
            return f"{prefix}contains", body
        return (f"{prefix}startswith" if trail else f"{prefix}endswith"), body
    regex = "".join((".*" if t == "%" else ".") if wild else re.escape(t) for wild, t in parts)
    return f"{prefix}regex", f"^{regex}$"


class _Compiler:
    def __init__(self, collection, filter_crs):
        self.collection = collection
        self.crs = filter_crs
        self.fields = fields(collection)

    # -- boolean structure ----------------------------------------------------------------
    def predicate(self, node: nodes.Node, negate: bool) -> Q:
        if isinstance(node, nodes.And | nodes.Or):
            parts = [self.predicate(arg, negate) for arg in node.args]
            conjunction = isinstance(node, nodes.And) != negate
            combined = parts[0]
            for part in parts[1:]:
                combined = (combined & part) if conjunction else (combined | part)
            return combined
        if isinstance(node, nodes.Not):
            return self.predicate(node.arg, not negate)
        if isinstance(node, nodes.BoolConst):
            return TRUE if node.value != negate else FALSE
        if isinstance(node, nodes.Compare):
            return self.compare(node, negate)
        if isinstance(node, nodes.Like):
            return self.like(node, negate)
        if isinstance(node, nodes.Between):
            return self.between(node, negate != node.negated)
        if isinstance(node, nodes.In):
            return self.in_list(node, negate != node.negated)
        if isinstance(node, nodes.IsNull):
            return self.is_null(node, negate != node.negated)
        if isinstance(node, nodes.Spatial):
            return self.spatial(node, negate)
        raise located(_("expected a predicate"), node)

    # -- operands -------------------------------------------------------------------------
    def field(self, node: nodes.Prop) -> Field:
        found = self.fields.get(node.name)
        if found is None:
            names = ", ".join(self.fields)
            raise located(
                _("unknown property %(name)r; the queryables are: %(names)s")
                % {"name": node.name, "names": names},
                node,
            )
        return found

    def operand(self, node: nodes.Node) -> tuple[Field | nodes.Literal, bool]:
        """A property or a literal, and whether CASEI wrapped it."""
        if isinstance(node, nodes.CaseI):
            inner, _wrapped = self.operand(node.arg)
            if (
                isinstance(inner, Field)
                and inner.type != "string"
                or (isinstance(inner, nodes.Literal) and inner.kind != "string")
            ):
                raise located(_("CASEI applies to text only"), node)
            return inner, True
        if isinstance(node, nodes.Prop):
            return self.field(node), False
        if isinstance(node, nodes.Literal):
            return node, False
        raise located(_("expected a property or a literal"), node)

    def value(self, field: Field, literal: nodes.Literal):
        """The literal as the Python value the property's column compares with, or a 400."""
        kind = literal.kind
        if field.type in ("date", "date-time") and kind == "string":
            return self.loose_instant(field, literal)
        if kind not in COMPATIBLE.get(field.type, ()):
            raise located(
                _("property %(name)s is of type %(type)s and cannot be compared with a %(kind)s")
                % {"name": field.name, "type": field.type, "kind": kind},
                literal,
            )
        if kind == "geometry":
            return literals.to_storage(literal, self.crs)
        return literal.value

    @staticmethod
    def loose_instant(field: Field, literal: nodes.Literal):
        """A date or timestamp written as a plain string, as GDAL's OAPIF driver writes them
        ('2024-01-31', '2024-01-31T', '2024-01-31T08:00:00Z'): accepted beside DATE(...)."""
        text = literal.value.strip()
        try:
            if field.type == "date":
                text = text[:-1] if text.endswith(("T", "t")) else text
                if len(text) == 10:
                    return dt.date.fromisoformat(text)
                # GDAL writes a date field's value as a timestamp at midnight.
                stamp = dt.datetime.fromisoformat(text.replace("z", "Z"))
                if len(text) < 11 or text[10] not in "Tt" or stamp.time() != dt.time():
                    raise ValueError(text)
                return stamp.date()
            stamp = dt.datetime.fromisoformat(text.rstrip("Tt").replace("z", "Z"))
        except ValueError:
            wanted = _("a date") if field.type == "date" else _("a timestamp")
            raise located(
                _("property %(name)s is of type %(type)s: %(value)r is not %(wanted)s")
                % {
                    "name": field.name,
                    "type": field.type,
                    "value": literal.value,
                    "wanted": wanted,
                },
                literal,
            ) from None
        return stamp if stamp.tzinfo else timezone.make_aware(stamp)

    def scalar_field(self, field: Field, node: nodes.Node, what: str) -> None:
        if field.type == "geometry":
            raise located(
                _(
                    "%(name)s is a geometry: use a spatial function such as S_INTERSECTS, "
                    "not %(what)s"
                )
                % {"name": field.name, "what": what},
                node,
            )

    # -- comparisons ----------------------------------------------------------------------
    def compare(self, node: nodes.Compare, negate: bool) -> Q:
        left, left_casei = self.operand(node.lhs)
        right, right_casei = self.operand(node.rhs)
        op = node.op
        if not isinstance(left, Field) and isinstance(right, Field):
            left, right, op = right, left, FLIPPED[op]
        if negate:
            op = INVERSE[op]
        casei = left_casei or right_casei
        if isinstance(left, nodes.Literal):
            return self.constant(left, right, op, node)
        self.scalar_field(left, node, op)
        if left.type == "boolean" and op not in ("=", "<>"):
            raise located(_("booleans compare with = and <> only"), node)
        if casei and op not in ("=", "<>"):
            raise located(_("CASEI is supported with =, <> and LIKE"), node)
        if isinstance(right, Field):
            return self.compare_fields(left, right, op, node)
        value = self.value(left, right)
        if left.type == "integer" and isinstance(value, float) and not value.is_integer():
            return self.fractional(left, op, value)
        if op == "<>":
            return ~lookup(left, "iexact" if casei else "exact", value) & not_null(left)
        return lookup(left, "iexact" if casei and op == "=" else LOOKUPS[op], value)

    @staticmethod
    def fractional(field: Field, op: str, value: float) -> Q:
        """An integer property against 2.5: the bound rounded the way the operator means (the
        column's parameter would otherwise be truncated to 2)."""
        if op == "=":
            return FALSE
        if op == "<>":
            return not_null(field)
        if op in ("<", "<="):
            return lookup(field, "lte", math.floor(value))
        return lookup(field, "gte", math.ceil(value))

    def compare_fields(self, left: Field, right: Field, op: str, node) -> Q:
        self.scalar_field(right, node, op)
        families = {"integer": "number"}
        if families.get(left.type, left.type) != families.get(right.type, right.type):
            raise located(
                _("%(a)s (%(ta)s) and %(b)s (%(tb)s) cannot be compared")
                % {"a": left.name, "ta": left.type, "b": right.name, "tb": right.type},
                node,
            )
        other = F(right.source) if isinstance(right.source, str) else right.source
        both = not_null(left) & not_null(right)
        if op == "<>":
            return ~lookup(left, "exact", other) & both
        return lookup(left, LOOKUPS[op], other) & both

    def constant(self, left: nodes.Literal, right, op: str, node) -> Q:
        """Two literals (`1 = 1`): decided here, after the same type check."""
        if (
            not isinstance(right, nodes.Literal)
            or left.kind != right.kind
            or left.kind == "geometry"
        ):
            raise located(_("these two values cannot be compared"), node)
        a, b = left.value, right.value
        if left.kind == "boolean" and op not in ("=", "<>"):
            raise located(_("booleans compare with = and <> only"), node)
        outcome = {
            "=": a == b,
            "<>": a != b,
            "<": a < b,
            "<=": a <= b,
            ">": a > b,
            ">=": a >= b,
        }[op]
        return TRUE if outcome else FALSE

    def like(self, node: nodes.Like, negate: bool) -> Q:
        field, casei = self.operand(node.lhs)
        pattern, pattern_casei = self.operand(node.pattern)
        if not isinstance(field, Field) or field.type != "string":
            raise located(_("LIKE needs a text property on its left"), node.lhs)
        if not isinstance(pattern, nodes.Literal) or pattern.kind != "string":
            raise located(_("LIKE needs a quoted pattern on its right"), node.pattern)
        name, value = like_lookup(pattern.value, casei or pattern_casei or node.casei)
        found = lookup(field, name, value)
        if negate != node.negated:
            return ~found & not_null(field)
        return found

    def between(self, node: nodes.Between, negate: bool) -> Q:
        field, casei = self.operand(node.lhs)
        if not isinstance(field, Field) or casei:
            raise located(_("BETWEEN needs a property on its left"), node.lhs)
        self.scalar_field(field, node, "BETWEEN")
        if field.type == "boolean":
            raise located(_("booleans compare with = and <> only"), node)
        bounds = []
        for bound in (node.low, node.high):
            literal, _wrapped = self.operand(bound)
            if not isinstance(literal, nodes.Literal):
                raise located(_("the bounds of BETWEEN must be literals"), bound)
            bounds.append(self.value(field, literal))
        low, high = bounds
        if field.type == "integer":
            low, high = math.ceil(low), math.floor(high)
        if negate:
            return lookup(field, "lt", low) | lookup(field, "gt", high)
        return lookup(field, "gte", low) & lookup(field, "lte", high)

    def in_list(self, node: nodes.In, negate: bool) -> Q:
        field, casei = self.operand(node.lhs)
        if not isinstance(field, Field):
            raise located(_("IN needs a property on its left"), node.lhs)
        if casei:
            raise located(_("CASEI is supported with =, <> and LIKE"), node.lhs)
        self.scalar_field(field, node, "IN")
        values = []
        for item in node.values:
            literal, _wrapped = self.operand(item)
            if not isinstance(literal, nodes.Literal):
                raise located(_("the values of an IN list must be literals"), item)
            value = self.value(field, literal)
            if field.type == "integer" and isinstance(value, float):
                if not value.is_integer():
                    continue  # can never equal an integer
                value = int(value)
            values.append(value)
        if not values:
            return not_null(field) if negate else FALSE
        found = lookup(field, "in", values)
        return ~found & not_null(field) if negate else found

    def is_null(self, node: nodes.IsNull, negate: bool) -> Q:
        operand, _casei = self.operand(node.arg)
        if isinstance(operand, nodes.Literal):
            return TRUE if negate else FALSE  # a literal is never null
        return lookup(operand, "isnull", not negate)

    def spatial(self, node: nodes.Spatial, negate: bool) -> Q:
        a, _ca = self.operand(node.a)
        b, _cb = self.operand(node.b)
        name = SPATIAL[node.op]
        for operand, source in ((a, node.a), (b, node.b)):
            if isinstance(operand, Field) and operand.type != "geometry":
                raise located(
                    _("%(op)s compares geometries; %(name)s is of type %(type)s")
                    % {"op": node.op.upper(), "name": operand.name, "type": operand.type},
                    source,
                )
            if isinstance(operand, nodes.Literal) and operand.kind != "geometry":
                raise located(
                    _("%(op)s compares geometries; this is a %(kind)s")
                    % {"op": node.op.upper(), "kind": operand.kind},
                    source,
                )
        if isinstance(a, Field) and isinstance(b, Field):
            raise located(_("one argument of a spatial function must be a geometry literal"), node)
        if isinstance(a, nodes.Literal) and isinstance(b, nodes.Literal):
            first, second = (literals.to_storage(x, self.crs) for x in (a, b))
            outcome = getattr(first, name)(second)
            return TRUE if outcome != negate else FALSE
        if isinstance(a, nodes.Literal):
            a, b, name = b, a, SPATIAL_SWAPPED.get(name, name)
        found = lookup(a, name, literals.to_storage(b, self.crs))
        return ~found & not_null(a) if negate else found
