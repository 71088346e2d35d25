"""OGC API – Features Part 3 (Filtering) with CQL2 (OGC 21-065r2), text and JSON.

    compile(expression, lang, collection, filter_crs=None) -> Q
    language(value) -> "cql2-text" | "cql2-json"          (the `filter-lang` parameter)
    parameters_q(collection, querydict) -> Q               (queryables as query parameters)
    parameter_names(collection) -> set[str]

Every refusal is ogc.errors.OgcError(400, field="filter" or the parameter, position=the 1-based
offset in the text where the problem is). The filter becomes a Q over the collection's
Property.source paths: the ORM writes the SQL and passes every literal as a parameter.
"""

from __future__ import annotations

import datetime as dt
import math

from django.db.models import Q
from django.utils.translation import gettext as _

from ogc import conformance, params
from ogc.cql2 import jsonform, nodes, text
from ogc.cql2.compiler import Field, compile_tree, fields, lookup
from ogc.errors import OgcError

LANGUAGES = ("cql2-text", "cql2-json")
# GDAL's OAPIF driver (3.6 to 3.12) pushes a -where down only when filter-lang offers the old
# draft's name "cql-text", and sends that name; what it writes is CQL2 text as parsed here.
ALIASES = {"cql-text": "cql2-text"}

_PART3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
# Only the classes tests/test_ogc_filter.py exercises.
CONFORMANCE = (
    _PART3 + "queryables",
    _PART3 + "queryables-query-parameters",
    _PART3 + "filter",
    _PART3 + "features-filter",
    _CQL2 + "cql2-text",
    _CQL2 + "cql2-json",
    _CQL2 + "basic-cql2",
    _CQL2 + "advanced-comparison-operators",
    _CQL2 + "basic-spatial-functions",
    _CQL2 + "basic-spatial-functions-plus",
    _CQL2 + "spatial-functions",
    _CQL2 + "property-property",
)
conformance.declare(*CONFORMANCE)


def language(value: str | None) -> str:
    """The `filter-lang` parameter (absent: cql2-text; GDAL's "cql-text" is read as it)."""
    if value is None or value.strip() == "":
        return "cql2-text"
    value = ALIASES.get(value.strip(), value.strip())
    if value not in LANGUAGES:
        raise OgcError(
            400,
            "invalid",
            "filter-lang",
            _("%(value)r is not a filter language here: use cql2-text or cql2-json")
            % {"value": value},
        )
    return value


def compile(expression: str | dict | bool, lang: str, collection, filter_crs=None) -> Q:  # noqa: A001
    """The filter as a Q over the collection's rows (those the view already scoped)."""
    lang = language(lang)
    if lang == "cql2-text":
        if not isinstance(expression, str):
            raise nodes.error(_("a cql2-text filter is text"))
        if not expression.strip():
            raise nodes.error(_("the filter is empty"), 0)
        tree = text.parse(expression)
    else:
        tree = jsonform.parse(expression)
    return compile_tree(tree, collection, filter_crs)


def parameter_names(collection) -> set[str]:
    """The queryables a client may give as `?name=value` (Part 3 queryables-query-parameters):
    those with a simple value, except where an items parameter (params.ITEMS) has the
    name: it cannot be shadowed."""
    return {
        name
        for name, field in fields(collection).items()
        if field.type not in ("geometry", "object") and name not in params.ITEMS
    }


def parameters_q(collection, querydict) -> Q:
    """Equality on each queryable given as a query parameter, typed like the filter's
    literals; a wrong value is a 400 naming the parameter."""
    found = Q()
    known = fields(collection)
    for name in sorted(parameter_names(collection)):
        if name not in querydict:
            continue
        values = querydict.getlist(name) if hasattr(querydict, "getlist") else [querydict[name]]
        if len(values) != 1:
            raise OgcError(400, "invalid", name, _("give this parameter once"))
        field = known[name]
        found &= lookup(field, "exact", _parameter_value(field, values[0]))
    return found


def _parameter_value(field: Field, raw: str):
    value = raw.strip() if field.type != "string" else raw
    try:
        if "\x00" in value:
            raise ValueError(value)
        if field.type == "integer":
            if not value.lstrip("+-").isdigit() or len(value) > 20:
                raise ValueError(value)
            return int(value)
        if field.type == "number":
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return number
        if field.type == "boolean":
            if value.lower() not in ("true", "false"):
                raise ValueError(value)
            return value.lower() == "true"
        if field.type == "date":
            return dt.date.fromisoformat(value) if len(value) == 10 else _bad(value)
        if field.type == "date-time":
            return text.parse_timestamp(value, None)
    except (ValueError, OgcError):
        raise OgcError(
            400,
            "invalid",
            field.name,
            _("%(value)r is not a valid %(type)s") % {"value": raw, "type": field.type},
        ) from None
    return value


def _bad(value: str):
    raise ValueError(value)
