"""Limits on what a request may carry, checked before anything is parsed or queried.

Python's JSON parser recurses once per nesting level and PostgreSQL refuses text with NUL
characters: without these checks a request could turn either into a 500. Every rule here is
one function that the request middleware (grids.middleware), the API's parsers
(grids.api.parsers) and the fields that read JSON out of a text field all share, so a bad
value is refused the same way wherever it arrives.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.utils.translation import gettext as _

MB = 1024 * 1024

# A JSON string literal (escapes included) and the brackets that nest.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
# One pass of this removes exactly one level: the pairs with nothing inside.
_INNERMOST = re.compile(rb"\[\]|\{\}")
# NUL and lone surrogates: PostgreSQL stores neither (and psycopg cannot encode the second).
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
# The same in a JSON text, as escapes; only a hit needs the slow look at the parsed value.
_BAD_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


class InputRefused(Exception):
    """The request is refused before it reaches a view: a status, a machine-readable code, the
    field (parameter, path part or body field) when there is one, and the reason."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.extra = extra

    def as_error(self) -> dict:
        error = {"code": self.code, "message": self.message, **self.extra}
        if self.field:
            error["field"] = self.field
        return error


# --- body size ---------------------------------------------------------------------------------


def is_upload(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def body_limit(content_type: str) -> int:
    """The largest body, in bytes, a request of this content type may send: uploads (photos,
    spreadsheets, boundary and sensor files) may be larger than everything else."""
    if is_upload(content_type):
        return int(settings.GRIDLINE_UPLOAD_MAX_MB * MB)
    return int(settings.GRIDLINE_BODY_MAX_MB * MB)


def too_large(limit: int) -> InputRefused:
    return InputRefused(
        413,
        "too_large",
        _("the request body is larger than the limit of %(limit)s") % {"limit": size(limit)},
        limit=limit,
    )


def check_body_size(content_type: str, content_length: str | None) -> None:
    try:
        length = int(content_length or 0)
    except ValueError:
        raise InputRefused(
            400, "invalid", _("Content-Length is not a number"), field="Content-Length"
        ) from None
    limit = body_limit(content_type)
    if length > limit:
        raise too_large(limit)


def size(limit: int) -> str:
    return f"{limit / MB:g} MB" if limit >= MB else f"{limit} B"


# --- JSON --------------------------------------------------------------------------------------


def check_json_depth(text: bytes | str) -> None:
    """Refuse JSON nested deeper than GRIDLINE_JSON_MAX_DEPTH, without parsing it. Brackets
    inside strings do not count; invalid JSON is left to the parser to name."""
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    limit = settings.GRIDLINE_JSON_MAX_DEPTH
    brackets = _JSON_STRING.sub(b"", text).translate(None, _NOT_BRACKET)
    # Each pass drops the innermost pairs: what survives `limit` passes nests deeper (or
    # does not balance, which the count below tells apart), at C speed for a 10 MB GeoJSON.
    left = brackets
    for _pass in range(limit):
        if not left:
            return
        left = _INNERMOST.sub(b"", left)
    if not left:
        return
    depth = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            raise InputRefused(
                400,
                "too_deep",
                _("JSON is nested deeper than %(limit)d levels") % {"limit": limit},
                limit=limit,
            )


def bad_text_in(value, path: str = "") -> tuple[str, str] | None:
    """The first string (key or value) of a parsed JSON value or form that PostgreSQL cannot
    store, as (field path, reason); None when all are fine. The path names keys with dots and
    list items by their index: `properties.tags.2`."""
    if isinstance(value, str):
        found = _BAD_CHARACTER.search(value)
        if found is None:
            return None
        if found.group() == "\x00":
            return path, _("contains a NUL character")
        return path, _("contains an unpaired surrogate character")
    if isinstance(value, Mapping):
        items: Iterable = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        name = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and _BAD_CHARACTER.search(key):
            return bad_text_in(key, name)
        found = bad_text_in(item, name)
        if found:
            return found
    return None


def refuse_bad_text(value, path: str = "") -> None:
    found = bad_text_in(value, path)
    if found:
        field, reason = found
        raise InputRefused(400, "invalid_character", reason, field=field or None)


def refuse_bad_form(data, files=None) -> None:
    """Every key and value of a form (a QueryDict: query string or POST) and the name of
    every uploaded file, each named by its key."""
    for key, values in data.lists():
        refuse_bad_text(key, key)
        for value in values:
            refuse_bad_text(value, key)
    for key, uploads in files.lists() if files is not None else ():
        for upload in uploads:
            refuse_bad_text(upload.name or "", key)


def may_hold_bad_text(text: bytes) -> bool:
    """Whether a JSON text may decode to a NUL or lone surrogate (a raw NUL is invalid JSON)."""
    return _BAD_ESCAPE.search(text) is not None


def load_json(text: bytes | str, field: str | None = None):
    """json.loads for text a client sent (a form field, a file): nesting limited and every
    string storable. ValueError (the parser's own, or InputRefused's reason) when not."""
    try:
        check_json_depth(text)
        value = json.loads(text)
        refuse_bad_text(value, field or "")
    except InputRefused as refused:
        raise ValueError(refused.message) from refused
    return value


# --- coordinates -------------------------------------------------------------------------------


def finite_problem(value) -> str | None:
    """Why a coordinate is not a usable number (any coordinate system), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _("is not a number")
    try:
        if not math.isfinite(value):
            return _("is not a finite number")
    except OverflowError:  # an int too large for a float
        return _("is not a finite number")
    return None


def lonlat_problem(lon, lat) -> tuple[str, str] | None:
    """Which of a WGS84 point's coordinates is wrong and why, as ("lon" | "lat", reason), or
    None when both are finite degrees within -180..180 and -90..90. The one rule for every
    point the platform accepts."""
    for name, value, bound in (("lon", lon, 180), ("lat", lat, 90)):
        problem = finite_problem(value)
        if problem is None and not -bound <= value <= bound:
            problem = _("is outside %(low)d..%(high)d degrees") % {"low": -bound, "high": bound}
        if problem:
            return name, problem
    return None
