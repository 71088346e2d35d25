"""A recursive-descent parser of CQL2 text (OGC 21-065r2: basic CQL2, advanced comparison
operators, spatial functions) into ogc.cql2.nodes.

Hand-written rather than pygeofilter's grammar, which follows an older draft and refuses
one-letter names; this one reports the exact offset of every error. Keywords are
case-insensitive; property names are case-sensitive and may be double-quoted (GDAL quotes
them). Keywords that read like functions (DATE, POINT, S_INTERSECTS ...) are keywords only when
an opening parenthesis follows, so a property may be called "date".
"""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.geos import (
    GeometryCollection,
    LinearRing,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from ogc.cql2 import nodes
from ogc.cql2.lexer import Token, tokenize
from ogc.cql2.nodes import MAX_VERTICES, Budget, error

RESERVED = frozenset({"AND", "OR", "NOT", "LIKE", "ILIKE", "BETWEEN", "IN", "IS", "NULL"})
GEOMETRIES = frozenset(
    {
        "POINT",
        "LINESTRING",
        "POLYGON",
        "MULTIPOINT",
        "MULTILINESTRING",
        "MULTIPOLYGON",
        "GEOMETRYCOLLECTION",
        "BBOX",
        "ENVELOPE",
    }
)


def parse(text: str) -> nodes.Node:
    return _Parser(text).parse()


def parse_date(value: str, pos: int) -> dt.date:
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise error(_("%(value)r is not a date (YYYY-MM-DD)") % {"value": value}, pos) from None


def parse_timestamp(value: str, pos: int) -> dt.datetime:
    try:
        if len(value) < 11 or value[10] not in "Tt ":
            raise ValueError
        stamp = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise error(
            _("%(value)r is not a timestamp (YYYY-MM-DDThh:mm:ssZ)") % {"value": value}, pos
        ) from None
    # The grammar demands a zone (Z); without one the stamp is local time, as the API's
    # `datetime` parameter and Django read it.
    return stamp if stamp.tzinfo else timezone.make_aware(stamp)


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.i = 0
        self.budget = Budget()
        self.vertices = 0

    # -- tokens ---------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.tokens[self.i]
        if token.kind != "eof":
            self.i += 1
        return token

    def expect(self, text: str, after: str) -> Token:
        token = self.take()
        if token.text != text or token.kind not in ("punct", "op"):
            raise error(
                _("expected %(expected)r %(after)s, found %(found)s")
                % {"expected": text, "after": after, "found": token.describe()},
                token.pos,
            )
        return token

    def expect_keyword(self, word: str, after: str) -> Token:
        token = self.take()
        if not token.is_keyword(word):
            raise error(
                _("expected %(expected)s %(after)s, found %(found)s")
                % {"expected": word, "after": after, "found": token.describe()},
                token.pos,
            )
        return token

    def is_call(self, ahead: int = 0) -> bool:
        following = self.peek(ahead + 1)
        return following.kind == "punct" and following.text == "("

    # -- boolean expressions --------------------------------------------------------------
    def parse(self) -> nodes.Node:
        tree = self.or_expr(0)
        token = self.peek()
        if token.kind != "eof":
            raise error(
                _("unexpected %(found)s: expected AND, OR or the end of the filter")
                % {"found": token.describe()},
                token.pos,
            )
        return tree

    def or_expr(self, level: int) -> nodes.Node:
        first = self.and_expr(level)
        args = [first]
        while self.peek().is_keyword("OR"):
            self.budget.count(self.take().pos)
            args.append(self.and_expr(level))
        return args[0] if len(args) == 1 else nodes.Or(first.pos, args)

    def and_expr(self, level: int) -> nodes.Node:
        first = self.not_expr(level)
        args = [first]
        while self.peek().is_keyword("AND"):
            self.budget.count(self.take().pos)
            args.append(self.not_expr(level))
        return args[0] if len(args) == 1 else nodes.And(first.pos, args)

    def not_expr(self, level: int) -> nodes.Node:
        token = self.peek()
        if token.is_keyword("NOT"):
            self.take()
            self.budget.count(token.pos)
            Budget.depth(level + 1, token.pos)
            return nodes.Not(token.pos, self.not_expr(level + 1))
        return self.predicate(level)

    def predicate(self, level: int) -> nodes.Node:
        token = self.peek()
        if token.kind == "punct" and token.text == "(":
            Budget.depth(level + 1, token.pos)
            self.take()
            inner = self.or_expr(level + 1)
            self.expect(")", _("to close the parenthesis"))
            return inner
        if token.kind == "id" and token.text.lower() in nodes.SPATIAL_OPS and self.is_call():
            return self.spatial()
        lhs = self.scalar()
        return self.comparison(lhs)

    def comparison(self, lhs: nodes.Node) -> nodes.Node:
        token = self.peek()
        negated = False
        if token.is_keyword("NOT") and self.peek(1).is_keyword("LIKE", "ILIKE", "BETWEEN", "IN"):
            self.take()
            negated, token = True, self.peek()
        if token.kind == "op":
            self.take()
            self.budget.count(token.pos)
            return nodes.Compare(lhs.pos, token.text, lhs, self.scalar())
        if token.is_keyword("LIKE", "ILIKE"):
            self.take()
            self.budget.count(token.pos)
            casei = token.text.upper() == "ILIKE"
            return nodes.Like(lhs.pos, lhs, self.scalar(), negated=negated, casei=casei)
        if token.is_keyword("BETWEEN"):
            self.take()
            self.budget.count(token.pos)
            low = self.scalar()
            self.expect_keyword("AND", _("between the bounds of BETWEEN"))
            return nodes.Between(lhs.pos, lhs, low, self.scalar(), negated=negated)
        if token.is_keyword("IN"):
            self.take()
            self.budget.count(token.pos)
            self.expect("(", _("after IN"))
            values = [self.scalar()]
            while self.peek().kind == "punct" and self.peek().text == ",":
                self.take()
                values.append(self.scalar())
            self.expect(")", _("to close the IN list"))
            return nodes.In(lhs.pos, lhs, values, negated=negated)
        if token.is_keyword("IS"):
            self.take()
            self.budget.count(token.pos)
            is_not = False
            if self.peek().is_keyword("NOT"):
                self.take()
                is_not = True
            self.expect_keyword("NULL", _("after IS"))
            return nodes.IsNull(lhs.pos, lhs, negated=is_not)
        if isinstance(lhs, nodes.Literal) and lhs.kind == "boolean":
            return nodes.BoolConst(lhs.pos, lhs.value)
        if token.kind == "punct" and token.text in "+-*/^":
            raise error(_("arithmetic is not supported"), token.pos)
        raise error(
            _(
                "expected a comparison (=, <>, <, <=, >, >=), LIKE, BETWEEN, IN or IS NULL, "
                "found %(found)s"
            )
            % {"found": token.describe()},
            token.pos,
        )

    def spatial(self) -> nodes.Node:
        name = self.take()
        self.budget.count(name.pos)
        after = _("in %(name)s") % {"name": name.text}
        self.expect("(", after)
        a = self.scalar()
        self.expect(",", after)
        b = self.scalar()
        self.expect(")", after)
        return nodes.Spatial(name.pos, name.text.lower(), a, b)

    # -- values ---------------------------------------------------------------------------
    def scalar(self) -> nodes.Node:
        token = self.take()
        self.budget.count(token.pos)
        if token.kind == "punct" and token.text in "+-" and self.peek().kind == "num":
            number = self.take()
            value = -number.value if token.text == "-" else number.value
            return nodes.Literal(token.pos, "number", value)
        if token.kind == "num":
            return nodes.Literal(token.pos, "number", token.value)
        if token.kind == "str":
            return nodes.Literal(token.pos, "string", token.value)
        if token.kind == "qid":
            return nodes.Prop(token.pos, token.value)
        if token.kind == "id":
            return self.word(token)
        if token.kind == "punct" and token.text == "[":
            raise error(_("arrays are not supported"), token.pos)
        raise error(
            _("expected a property, a literal or a function, found %(found)s")
            % {"found": token.describe()},
            token.pos,
        )

    def word(self, token: Token) -> nodes.Node:
        upper = token.text.upper()
        if upper in ("TRUE", "FALSE"):
            return nodes.Literal(token.pos, "boolean", upper == "TRUE")
        if upper in RESERVED:
            raise error(
                _("unexpected keyword %(word)s: expected a property or a literal")
                % {"word": token.text},
                token.pos,
            )
        if upper in GEOMETRIES and self.peek().is_keyword("Z") and self.is_call():
            self.take()  # POINT Z (...): the third coordinate is read and dropped
        if not (self.peek().kind == "punct" and self.peek().text == "("):
            return nodes.Prop(token.pos, token.text)
        if upper in ("DATE", "TIMESTAMP"):
            self.expect("(", upper)
            text = self.take()
            if text.kind != "str":
                raise error(
                    _("%(word)s needs a quoted value, e.g. %(word)s('2024-01-31')")
                    % {"word": upper},
                    text.pos,
                )
            self.expect(")", _("to close %(word)s") % {"word": upper})
            if upper == "DATE":
                return nodes.Literal(token.pos, "date", parse_date(text.value, text.pos))
            return nodes.Literal(token.pos, "timestamp", parse_timestamp(text.value, text.pos))
        if upper == "CASEI":
            self.expect("(", upper)
            inner = self.scalar()
            self.expect(")", _("to close CASEI"))
            return nodes.CaseI(token.pos, inner)
        if upper == "ACCENTI":
            raise error(_("ACCENTI (accent-insensitive comparison) is not supported"), token.pos)
        if upper == "INTERVAL":
            raise error(_("intervals are not supported; compare dates instead"), token.pos)
        if upper == "ENVELOPE":
            raise error(
                _("ENVELOPE is an old draft's name: write BBOX(minx, miny, maxx, maxy)"), token.pos
            )
        if upper in GEOMETRIES:
            return nodes.Literal(token.pos, "geometry", self.geometry(upper))
        raise nodes.unsupported(token.text, token.pos)

    # -- WKT geometry literals ------------------------------------------------------------
    def geometry(self, kind: str):
        if kind == "BBOX":
            self.expect("(", kind)
            values = [self.number()]
            while self.peek().text == "," and self.peek().kind == "punct":
                self.take()
                values.append(self.number())
            close = self.expect(")", _("to close BBOX"))
            if len(values) not in (4, 6):
                raise error(_("BBOX takes 4 or 6 numbers"), close.pos)
            return ("bbox", values)
        if kind == "POINT":
            self.expect("(", kind)
            x, y = self.coordinate()
            self.expect(")", _("to close POINT"))
            return Point(x, y)
        if kind == "LINESTRING":
            return self.line()
        if kind == "POLYGON":
            return self.polygon()
        if kind == "MULTIPOINT":
            return MultiPoint(self.repeated(self.multipoint_member))
        if kind == "MULTILINESTRING":
            return MultiLineString(self.repeated(self.line))
        if kind == "MULTIPOLYGON":
            return MultiPolygon(self.repeated(self.polygon))
        return GeometryCollection(self.repeated(self.tagged))

    def repeated(self, member) -> list:
        self.expect("(", _("to open the list"))
        found = [member()]
        while self.peek().kind == "punct" and self.peek().text == ",":
            self.take()
            found.append(member())
        self.expect(")", _("to close the list"))
        return found

    def tagged(self):
        token = self.take()
        upper = token.text.upper() if token.kind == "id" else ""
        if upper not in GEOMETRIES or upper in ("BBOX", "ENVELOPE"):
            raise error(
                _("expected a WKT geometry, found %(found)s") % {"found": token.describe()},
                token.pos,
            )
        if self.peek().is_keyword("Z"):
            self.take()
        return self.geometry(upper)

    def multipoint_member(self):
        if self.peek().kind == "punct" and self.peek().text == "(":
            self.take()
            x, y = self.coordinate()
            self.expect(")", _("to close the point"))
            return Point(x, y)
        return Point(*self.coordinate())

    def line(self):
        start = self.peek().pos
        points = self.repeated(self.coordinate)
        if len(points) < 2:
            raise error(_("a line needs at least 2 points"), start)
        return LineString(points)

    def polygon(self):
        rings = []
        for start, points in self.repeated(self.ring):
            if len(points) < 4 or points[0] != points[-1]:
                raise error(_("a polygon ring needs at least 4 points and must be closed"), start)
            rings.append(LinearRing(points))
        return Polygon(*rings)

    def ring(self):
        return self.peek().pos, self.repeated(self.coordinate)

    def coordinate(self) -> tuple[float, float]:
        self.vertices += 1
        if self.vertices > MAX_VERTICES:
            raise error(
                _("geometry literals may have at most %(n)d vertices") % {"n": MAX_VERTICES},
                self.peek().pos,
            )
        x, y = self.number(), self.number()
        token = self.peek()
        if token.kind == "num" or (token.kind == "punct" and token.text in "+-"):
            self.number()  # a third (z) coordinate: the spatial functions are 2D
        return x, y

    def number(self) -> float:
        token = self.take()
        sign = 1
        if token.kind == "punct" and token.text in "+-":
            sign = -1 if token.text == "-" else 1
            token = self.take()
        if token.kind != "num":
            raise error(
                _("expected a number, found %(found)s") % {"found": token.describe()}, token.pos
            )
        return sign * float(token.value)
