"""Derived indicators defined as data (issue #17): a subject registered by an app, a filter
over the subject's declared fields and a measure, compiled into one set-based statement per
period for all grids. See reports/subjects.py for the registry of subjects.

    {"subject": "residents",
     "where": [{"field": "age", "op": ">=", "value": 80},
               {"field": "tags", "op": "has", "value": "disabled", "level": "一级"},
               {"any": [cond, cond]}],
     "measure": "count" | {"sum": "<field>"} | {"distinct": "<field>"},
     "time": "stock" | {"within": "<date field>"}}

Public: validate(), compute(), describe(), preview()."""

from __future__ import annotations

from decimal import Decimal

from grids.models import Region
from reports.definitions.compiler import DefinitionError, queryset
from reports.definitions.compiler import compute as _compute
from reports.definitions.validation import ALL_OPS, validate
from reports.definitions.wording import describe
from reports.derived import Context
from reports.periods import Period

__all__ = [
    "ALL_OPS",
    "DefinitionError",
    "compute",
    "describe",
    "preview",
    "queryset",
    "validate",
]

PREVIEW_GRIDS = 8


def compute(definition: dict, context: Context) -> dict[int, Decimal]:
    """{grid pk: value} for every grid of `context`, in one statement."""
    return _compute(definition, context)


def preview(definition: dict, region: Region, period: Period, grids: int = PREVIEW_GRIDS) -> dict:
    """The figure of `region` for `period` and the grids with the highest values: what the
    editor shows while a definition is written. The caller has validated the definition."""
    from reports.services.values import tree_under

    context = Context(period, [])
    tree = tree_under(region, context.on)
    context.grid_ids = tree.grid_ids
    values = compute(definition, context)
    units = tree.units.get("grid", {})
    ranked = sorted(values.items(), key=lambda kv: (-kv[1], units[kv[0]].code))
    return {
        "period": period.key,
        "on": context.on.isoformat(),
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "description": describe(definition),
        "total": sum(values.values(), Decimal(0)),
        "grid_count": len(values),
        "grids_with_value": sum(1 for v in values.values() if v),
        "grids": [
            {"code": units[pk].code, "name": units[pk].name, "value": value}
            for pk, value in ranked[:grids]
        ],
    }
