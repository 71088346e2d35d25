"""A definition compiled onto its subject's rows: the filter as one Q, the period's "within"
as a range on the date, the measure as one aggregate, and one GROUP BY on the grid each row
was in on the period's last day. One statement per definition and period, whatever the
number of grids (decision 2)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from reports import subjects
from reports.derived import Context
from reports.subjects import CODE, DATE, DATETIME, TAGS, TEXT, Field, Subject


class DefinitionError(ValueError):
    """A stored definition that cannot be computed any more (its subject or a field is no
    longer registered): the caller names the indicator."""


def _field(subject: Subject, name) -> Field:
    f = subject.field(name)
    if f is None:
        raise DefinitionError(f"{subject.key} have no field {name!r}")
    return f


def _value(f: Field, value):
    if f.kind in (DATE, DATETIME) and isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def _code_q(f: Field, codes: list[str]) -> Q:
    """A code or any of its descendants: the row's node, its parent, its grandparent …
    joined in the same statement (catalogue trees are a few levels deep)."""
    q = Q()
    hop = f.path
    for _ in range(f.depth):
        q |= Q(**{f"{hop}__{f.code}__in": codes})
        hop = f"{hop}__{f.parent}"
    return q


def _date_q(f: Field, op: str, day: dt.date) -> Q:
    """A date compared on a timestamp: [day 00:00, next day 00:00) in local time, so that
    the timestamp's index applies (no cast to date)."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time()))
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
    path = f.path
    return {
        "=": Q(**{f"{path}__gte": start, f"{path}__lt": end}),
        "!=": ~Q(**{f"{path}__gte": start, f"{path}__lt": end}),
        "<": Q(**{f"{path}__lt": start}),
        "<=": Q(**{f"{path}__lt": end}),
        ">": Q(**{f"{path}__gte": end}),
        ">=": Q(**{f"{path}__gte": start}),
    }[op]


def condition_q(subject: Subject, item: dict, on: dt.date) -> Q:
    if "any" in item:
        q = Q()
        for part in item["any"]:
            q |= condition_q(subject, part, on)
        return q
    f = _field(subject, item.get("field"))
    op = item.get("op")
    value = item.get("value")
    if f.lookup is not None:
        return f.lookup(op, value, on)
    path = f.path
    if op in ("is_null", "not_null"):
        # "Not filled in": no tag, an empty text (forms store blanks as ""), or no value.
        if f.kind == TAGS:
            empty = Q(**{path: []})
        elif f.kind == TEXT:
            empty = Q(**{f"{path}__isnull": True}) | Q(**{path: ""})
        else:
            empty = Q(**{f"{path}__isnull": True})
        return empty if op == "is_null" else ~empty
    if f.kind == TAGS:
        if op == "has":
            q = Q(**{f"{path}__contains": [value]})
            if item.get("level") is not None:
                q &= Q(**{f"{f.level_path}__{value}": item["level"]})
            return q
        if op == "has_any":
            return Q(**{f"{path}__overlap": list(value)})
    if f.kind == CODE:
        if op in ("=", "!="):
            q = _code_q(f, [value])
        elif op in ("in", "not_in"):
            q = _code_q(f, list(value))
        else:
            raise DefinitionError(f"{op!r} on {f.name}")
        return ~q if op.startswith("!") or op == "not_in" else q
    if op in ("in", "not_in"):
        values = [_value(f, v) for v in value]
        if f.kind == DATETIME:
            q = Q()
            for day in values:
                q |= _date_q(f, "=", day)
        else:
            q = Q(**{f"{path}__in": values})
        return q if op == "in" else ~q
    if op == "between":
        low, high = (_value(f, v) for v in value)
        if f.kind == DATETIME:
            return _date_q(f, ">=", low) & _date_q(f, "<=", high)
        return Q(**{f"{path}__gte": low, f"{path}__lte": high})
    value = _value(f, value)
    if f.kind == DATETIME:
        return _date_q(f, op, value)
    lookups = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
    if op == "!=":
        return ~Q(**{path: value})
    if op not in lookups:
        raise DefinitionError(f"{op!r} on {f.name}")
    return Q(**{f"{path}__{lookups[op]}": value})


def where_q(subject: Subject, where: list, on: dt.date) -> Q:
    q = Q()
    for item in where or []:
        q &= condition_q(subject, item, on)
    return q


def within_q(f: Field, start: dt.date, end: dt.date) -> Q:
    """The field falls in [start, end)."""
    if f.kind == DATETIME:
        start, end = (timezone.make_aware(dt.datetime.combine(d, dt.time())) for d in (start, end))
    return Q(**{f"{f.path}__gte": start, f"{f.path}__lt": end})


def aggregate(subject: Subject, measure):
    if measure == "count":
        return Count("*")
    ((kind, name),) = measure.items()
    f = _field(subject, name)
    if kind == "sum":
        return Coalesce(Sum(f.path), 0)
    return Count(f.path, distinct=True)


def queryset(definition: dict, context: Context):
    """The one statement: rows of (grid_on, value)."""
    subject = subjects.get(definition.get("subject"))
    if subject is None:
        raise DefinitionError(f"no subject {definition.get('subject')!r} is registered")
    time = definition.get("time", "stock")
    stock = time == "stock"
    rows = subject.rows(context, stock).filter(
        where_q(subject, definition.get("where", []), context.on)
    )
    if not stock:
        f = _field(subject, time["within"])
        rows = rows.filter(within_q(f, context.period.start, context.period.end))
    return (
        rows.order_by()
        .values("grid_on")
        .annotate(value=aggregate(subject, definition.get("measure", "count")))
        .values_list("grid_on", "value")
    )


def compute(definition: dict, context: Context) -> dict[int, Decimal]:
    """{grid pk: value} for every grid of the context: a grid with no row counts 0 (a
    count, a sum or a distinct count of nothing)."""
    if not context.grid_ids:
        return {}
    found = dict(queryset(definition, context))
    return {pk: Decimal(str(found.get(pk) or 0)) for pk in context.grid_ids}
