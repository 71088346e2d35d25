"""The tree both CQL2 encodings parse into (text and JSON), and the one error they raise.

Every node carries `pos`: the 0-based offset in the text where it starts (None for JSON, whose
nodes are named by a JSON pointer instead), so the compiler's type errors point at the
literal or property at fault just as the parser's syntax errors do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from ogc.errors import OgcError

# Guards against filters built to exhaust the server (deep recursion, huge IN lists, a
# polygon of a million vertices); a real desktop filter is far below each.
MAX_NODES = 200
MAX_DEPTH = 32
MAX_TEXT = 65536
MAX_VERTICES = 10000


def error(message, pos: int | None = None, field: str = "filter") -> OgcError:
    """A 400 on the filter. `pos` is 0-based here; the body carries it 1-based."""
    return OgcError(400, "invalid", field, message, None if pos is None else pos + 1)


@dataclass
class Node:
    pos: int | None
    where: str = field(default="", kw_only=True)  # a JSON pointer (cql2-json), for messages


@dataclass
class Prop(Node):
    name: str


@dataclass
class Literal(Node):
    """A scalar. kind: "string", "number", "boolean", "date", "timestamp", "geometry"
    (value: a GEOS geometry in the filter's CRS, not yet transformed)."""

    kind: str
    value: Any


@dataclass
class CaseI(Node):
    """CASEI(...) around a property or a string literal: compare case-insensitively."""

    arg: Node


@dataclass
class And(Node):
    args: list


@dataclass
class Or(Node):
    args: list


@dataclass
class Not(Node):
    arg: Node


@dataclass
class Compare(Node):
    op: str  # "=", "<>", "<", "<=", ">", ">="
    lhs: Node
    rhs: Node


@dataclass
class Like(Node):
    lhs: Node
    pattern: Node  # a string Literal, possibly inside CaseI
    negated: bool = False
    casei: bool = False  # ILIKE (GDAL's OAPIF driver sends it)


@dataclass
class Between(Node):
    lhs: Node
    low: Node
    high: Node
    negated: bool = False


@dataclass
class In(Node):
    lhs: Node
    values: list
    negated: bool = False


@dataclass
class IsNull(Node):
    arg: Node
    negated: bool = False


@dataclass
class Spatial(Node):
    op: str  # "s_intersects", ...
    a: Node
    b: Node


@dataclass
class BoolConst(Node):
    value: bool


SPATIAL_OPS = frozenset(
    {
        "s_intersects",
        "s_equals",
        "s_disjoint",
        "s_touches",
        "s_within",
        "s_overlaps",
        "s_crosses",
        "s_contains",
    }
)
# Named in the standard but not implemented here: a precise 400 rather than "unknown function".
TEMPORAL_OPS = frozenset(
    {
        "t_after",
        "t_before",
        "t_contains",
        "t_disjoint",
        "t_during",
        "t_equals",
        "t_finishedby",
        "t_finishes",
        "t_intersects",
        "t_meets",
        "t_metby",
        "t_overlappedby",
        "t_overlaps",
        "t_startedby",
        "t_starts",
    }
)
ARRAY_OPS = frozenset({"a_equals", "a_contains", "a_containedby", "a_overlaps"})


def unsupported(name: str, pos: int | None, where: str = "") -> OgcError:
    if name.lower() in TEMPORAL_OPS:
        message = _("temporal operators such as %(name)s are not supported; compare dates instead")
    elif name.lower() in ARRAY_OPS:
        message = _("array operators such as %(name)s are not supported")
    else:
        message = _("unknown function or operator %(name)s")
    return error(at(message % {"name": name}, where), pos)


def at(message: str, where: str) -> str:
    return f"{message} ({_('at %(where)s') % {'where': where}})" if where else message


def located(message, node: Node) -> OgcError:
    """An error on a node: the text's offset, or the JSON pointer in the message."""
    return error(at(str(message), getattr(node, "where", "")), node.pos)


class Budget:
    """Counts nodes while parsing, so a filter over the limits is refused before it is built."""

    def __init__(self):
        self.nodes = 0

    def count(self, pos: int | None, where: str = "") -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise error(
                at(_("the filter has more than %(n)d terms") % {"n": MAX_NODES}, where), pos
            )

    @staticmethod
    def depth(level: int, pos: int | None, where: str = "") -> None:
        if level > MAX_DEPTH:
            raise error(
                at(_("the filter is nested more than %(n)d levels deep") % {"n": MAX_DEPTH}, where),
                pos,
            )
