"""The query parameters of /ogc/ (OGC API - Features Part 1 and the shared contract of issue
#19): each is read by one function here that returns the value or raises OgcError 400 naming
the parameter, so no bad value reaches a query."""

from __future__ import annotations

import datetime as dt
import math
import re

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.timestamps import LATEST_YEAR
from ogc.errors import OgcError
from ogc.registry import Interval

DEFAULT_LIMIT = 100
_DIGITS = re.compile(r"[0-9]+")
# A number as a client writes it in bbox: no "nan", "inf", hex or underscores, which
# float() would accept.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
OPEN = {"", ".."}

ITEMS = frozenset(
    {
        "f",
        "limit",
        "bbox",
        "bbox-crs",
        "crs",
        "datetime",
        "filter",
        "filter-lang",
        "filter-crs",
        "after",
    }
)


def invalid(field: str, message) -> OgcError:
    return OgcError(400, "invalid", field, message)


def single(params, name: str) -> str | None:
    """The value of a parameter given at most once (None when absent)."""
    values = params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise invalid(name, _("is given more than once"))
    return values[0]


def refuse_unknown(params, known) -> None:
    for name in params:
        if name not in known:
            raise OgcError(
                400, "unknown_parameter", name, _("is not a parameter of this operation")
            )


def output_format(request) -> str:
    """ "json" or "html": `f` when given, else the Accept header (browsers ask for text/html
    first), else JSON."""
    chosen = single(request.query_params, "f")
    if chosen is not None:
        chosen = chosen.strip().lower()
        if chosen in {"json", "geojson", "application/json", "application/geo+json"}:
            return "json"
        if chosen in {"html", "text/html"}:
            return "html"
        raise invalid("f", _("is json or html"))
    accept = request.META.get("HTTP_ACCEPT", "").lower()
    html = accept.find("text/html")
    if html < 0:
        return "json"
    json_at = [at for at in (accept.find("application/json"), accept.find("json")) if at >= 0]
    return "html" if not json_at or html < min(json_at) else "json"


def wants_html(request) -> bool:
    """Whether the request asks for HTML, never refusing (for error pages)."""
    try:
        return output_format(request) == "html"
    except OgcError:
        return False


def limit(params) -> int:
    """`limit`: default 100, larger than GRIDLINE_OGC_MAX_LIMIT is clamped to it (Part 1
    allows a server its own maximum), below 1 or not an integer is refused."""
    value = single(params, "limit")
    if value is None:
        return min(DEFAULT_LIMIT, settings.GRIDLINE_OGC_MAX_LIMIT)
    value = value.strip()
    if not _DIGITS.fullmatch(value):
        raise invalid("limit", _("is a whole number from 1"))
    # A huge number of digits is a huge limit: clamped, never parsed.
    number = int(value) if len(value) <= 12 else math.inf
    if number < 1:
        raise invalid("limit", _("is a whole number from 1"))
    return int(min(number, settings.GRIDLINE_OGC_MAX_LIMIT))


def numbers(value: str, field: str) -> list[float]:
    parts = value.split(",")
    found = []
    for part in parts:
        part = part.strip()
        if not _NUMBER.fullmatch(part):
            raise invalid(field, _("is a comma-separated list of numbers"))
        number = float(part)
        if not math.isfinite(number):
            raise invalid(field, _("is a comma-separated list of finite numbers"))
        found.append(number)
    return found


def bbox(params) -> list[float] | None:
    """`bbox`: 4 numbers (min x, min y, max x, max y) or 6 (with heights, which are dropped:
    every geometry here is 2D), in bbox-crs's axis order."""
    value = single(params, "bbox")
    if value is None:
        return None
    found = numbers(value, "bbox")
    if len(found) == 6:
        found = [found[0], found[1], found[3], found[4]]
    elif len(found) != 4:
        raise invalid("bbox", _("has 4 or 6 numbers"))
    return found


def _moment(text: str, end: bool) -> dt.datetime:
    """One end of `datetime` as an aware datetime in UTC. A date (2024-05-01) means that
    local day: its first moment as a start, its last as an end."""
    if "T" not in text.upper() and len(text) == 10:
        day = dt.date.fromisoformat(text)
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time()))
        if end:
            moment += dt.timedelta(days=1) - dt.timedelta(microseconds=1)
        return moment.astimezone(dt.UTC)
    moment = dt.datetime.fromisoformat(text.replace("z", "Z"))
    if moment.tzinfo is None:
        moment = timezone.make_aware(moment)
    return moment.astimezone(dt.UTC)


def _in_range(moment: dt.datetime) -> bool:
    return settings.GRIDLINE_EARLIEST_DATE.year <= moment.year <= LATEST_YEAR


def datetime_interval(params) -> Interval | None:
    """`datetime` (RFC 3339): an instant, a date, or an interval `start/end` whose ends may
    be open (`..` or empty). An instant outside the years the platform keeps is refused; an
    interval's end beyond them is as good as open (nothing exists there)."""
    value = single(params, "datetime")
    if value is None:
        return None
    text = value.strip()
    try:
        if "/" not in text:
            if text in OPEN:
                raise ValueError(text)
            # A date is an instant too: the state on that day (its first local moment).
            start = _moment(text, end=False)
            if not _in_range(start):
                raise OgcError(
                    400,
                    "out_of_range",
                    "datetime",
                    _("is outside the years %(first)d to %(last)d")
                    % {"first": settings.GRIDLINE_EARLIEST_DATE.year, "last": LATEST_YEAR},
                )
            return Interval(start, start)
        first, _sep, second = text.partition("/")
        if "/" in second:
            raise ValueError(text)
        start = None if first.strip() in OPEN else _moment(first.strip(), end=False)
        end = None if second.strip() in OPEN else _moment(second.strip(), end=True)
    except (ValueError, OverflowError) as exc:
        raise invalid(
            "datetime",
            _(
                "is an RFC 3339 date-time (2024-05-01T08:00:00Z), a date (2024-05-01) or "
                "an interval start/end with '..' for an open end"
            ),
        ) from exc
    if start is not None and end is not None and start > end:
        raise invalid("datetime", _("the interval's start is after its end"))
    floor = timezone.make_aware(dt.datetime.combine(settings.GRIDLINE_EARLIEST_DATE, dt.time()))
    if start is not None and start < floor:
        start = None
    if end is not None and end.year > LATEST_YEAR:
        end = None
    if end is not None and end < floor:
        raise OgcError(
            400,
            "out_of_range",
            "datetime",
            _("ends before %(first)s, before anything the platform keeps")
            % {"first": settings.GRIDLINE_EARLIEST_DATE.isoformat()},
        )
    return Interval(start, end)


def after(params, collection) -> int | str | None:
    """`after`: the keyset cursor, the id of the last feature of the previous page."""
    value = single(params, "after")
    if value is None:
        return None
    if collection.id_type == "integer":
        if not _DIGITS.fullmatch(value) or len(value) > 18:
            raise invalid("after", _("is the id of a feature (a whole number)"))
        return int(value)
    if not value or len(value) > 200:
        raise invalid("after", _("is the id of a feature"))
    return value
