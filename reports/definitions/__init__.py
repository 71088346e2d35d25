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

from grids.models import Level, Region
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


def preview(
    definition: dict,
    region: Region,
    period: Period,
    grids: int = PREVIEW_GRIDS,
    small_cells: bool = False,
) -> dict:
    """The figure of `region` for `period` and the grids with the highest values: what the
    editor shows while a definition is written. The caller has validated the definition.

    With `small_cells` (a definer who may not see personal data), a grid's value of 1 or 2
    shows as "<3", and so does a street's or community's total: a count that small, with
    conditions of the definer's choosing, comes close to naming the people counted. The
    district's total stays exact (it mixes hundreds of grids)."""
    from reports.services.values import tree_under

    context = Context(period, [])
    tree = tree_under(region, context.on)
    context.grid_ids = tree.grid_ids
    values = compute(definition, context)
    units = tree.units.get("grid", {})
    ranked = sorted(values.items(), key=lambda kv: (-kv[1], units[kv[0]].code))
    total = sum(values.values(), Decimal(0))
    shown = masked if small_cells else _as_is
    return {
        "period": period.key,
        "on": context.on.isoformat(),
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "description": describe(definition),
        "total": total if region.level == Level.DISTRICT else shown(total),
        "grid_count": len(values),
        "grids_with_value": sum(1 for v in values.values() if v),
        "grids": [
            {"code": units[pk].code, "name": units[pk].name, "value": shown(value)}
            for pk, value in ranked[:grids]
        ],
    }


# Counts below this show as "<3" to definers who may not see personal data.
SMALL_CELL = 3


def masked(value: Decimal) -> Decimal | str:
    """A value of 1 or 2 (a cell small enough to point at people) as "<3"; others as they are."""
    if 0 < value < SMALL_CELL:
        return f"<{SMALL_CELL}"
    return value


def _as_is(value: Decimal) -> Decimal:
    return value
