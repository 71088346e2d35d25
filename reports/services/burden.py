"""The burden figures of 一表通 (减负): how many fields the grassroots type for a month
before (every cell of every form falling due, each typed by hand) and now (each collected
item once per unit of its own level and per period of its own type, as the ledger asks it;
derived items are typed by nobody), per community, per grid worker and per department, the
items still typed and why, the items many forms ask for, and those asked at conflicting
periodicities.

Why an item is still typed:
- policy: a judgement someone answers for (yes/no, a choice, text), typed by rule;
- no_definition: the platform holds what it is counted from, but the item is not defined
  over it: an equivalent computed item exists (`could_be`) or the form's vocabulary reads
  a definition in its name (`definition`); defining it would take it off the list;
- no_data: the platform holds nothing it could be counted from.
An item typed at a finer level than any form asking for it needs is flagged apart
(`finer_than_needed`, reports.services.levels)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from grids.models import Region, Role, User
from reports import definitions
from reports.models import Indicator, ReportTemplate, Source, UnitLevel, ValueType
from reports.periods import Period, PeriodType
from reports.services import levels, matching
from reports.services.ledger import district_of
from reports.services.values import tree_under

NO_DATA = "no_data"
NO_DEFINITION = "no_definition"
POLICY = "policy"
JUDGEMENTS = frozenset({ValueType.TEXT, ValueType.BOOLEAN, ValueType.CHOICE})


def _ends_in(kind: str, month: Period) -> Period | None:
    """The period of type `kind` that ends with `month`, if one does."""
    period = Period.containing(month.start, kind)
    return period if period.end == month.end else None


def change(before: float, after: float) -> float | None:
    """after / before − 1: negative when fewer fields are typed; None with nothing before."""
    return round(after / before - 1, 4) if before else None


def _per(fields: float, units: int) -> float | None:
    return round(fields / units, 1) if units else None


def _templates(region: Region, templates) -> list[ReportTemplate]:
    return list(
        (templates if templates is not None else ReportTemplate.objects.active())
        .filter(owner__district=district_of(region))
        .select_related("owner")
        .prefetch_related("columns__indicator")
    )


def _grid_workers(grid_ids: list[int]) -> int:
    return User.objects.filter(role=Role.GRID_WORKER, is_active=True, grid_id__in=grid_ids).count()


def burden(region: Region, month: Period, templates=None, *, explain: bool = True) -> dict:
    """Fields typed in `region` for `month`: before, every cell of the forms falling due
    after it (monthly ones every month, quarterly ones after a quarter's last month, ...);
    now, each collected item the forms ask for, once per unit of its level, in the months
    its own period ends. `explain` adds why each item is still typed."""
    if month.type != PeriodType.MONTH:
        raise ValueError("the burden is counted per month")
    on = min(month.last_day, timezone.localdate())
    tree = tree_under(region, on)
    units = {level: len(tree.units.get(level, {})) for level in UnitLevel.values}
    workers = _grid_workers(tree.grid_ids)
    templates = _templates(region, templates)
    before_by_level: dict[str, int] = defaultdict(int)
    per_template = []
    asked_by: dict[int, list[ReportTemplate]] = defaultdict(list)
    indicators: dict[int, Indicator] = {}
    departments: dict[str, dict] = {}
    for template in templates:
        columns = list(template.columns.all())
        department = departments.setdefault(
            template.owner.name, {"department": template.owner.name, "before": 0, "now": 0}
        )
        for column in columns:
            indicators[column.indicator.pk] = column.indicator
            if template not in asked_by[column.indicator.pk]:
                asked_by[column.indicator.pk].append(template)
        if _ends_in(template.period_type, month) is None:
            continue
        cells = units[template.row_level] * len(columns)
        before_by_level[template.row_level] += cells
        department["before"] += cells
        per_template.append(
            {
                "template": template.code,
                "title": template.title,
                "department": template.owner.name,
                "period_type": template.period_type,
                "row_level": template.row_level,
                "rows": units[template.row_level],
                "columns": len(columns),
                "cells": cells,
                "derived_columns": sum(c.indicator.source == Source.DERIVED for c in columns),
            }
        )
    # The ledger asks a collected item every period of its own type, of every unit of its
    # level, whatever the periods of the forms that need it (reports.services.ledger.due).
    now_by_level: dict[str, int] = defaultdict(int)
    typed = []
    for pk, indicator in indicators.items():
        if indicator.source != Source.COLLECTED or indicator.retired(on):
            continue
        if _ends_in(indicator.period_type, month) is None:
            continue
        fields = units[indicator.level]
        now_by_level[indicator.level] += fields
        asking = asked_by[pk]
        names = sorted({t.owner.name for t in asking})
        for name in names:
            departments[name]["now"] += fields
        typed.append(
            {
                "indicator": indicator.code,
                "name": indicator.name,
                "unit": indicator.unit,
                "level": indicator.level,
                "period_type": indicator.period_type,
                "units": units[indicator.level],
                "fields": fields,
                "departments": names,
                "templates": sorted(t.title for t in asking),
            }
        )
    typed.sort(key=lambda row: (-row["fields"], row["indicator"]))
    if explain:
        _explain(typed, indicators, district_of(region))
    before = sum(before_by_level.values())
    now = sum(now_by_level.values())
    shared, conflicts = _overlaps(asked_by, indicators)
    return {
        "region": {"id": region.pk, "code": region.code, "name": region.name},
        "month": month.key,
        "units": units,
        "grid_workers": workers,
        "templates": per_template,
        "before": before,
        "now": now,
        "before_by_level": {level: before_by_level[level] for level in UnitLevel.values},
        "now_by_level": {level: now_by_level[level] for level in UnitLevel.values},
        "before_per_grid": round(before / (units["grid"] or 1), 1),
        "now_per_grid": round(now / (units["grid"] or 1), 1),
        "per_community": {
            "before": _per(before, units["community"]),
            "now": _per(now, units["community"]),
        },
        # What grid workers type: the grid rows of the forms before, the grid-level items now.
        "per_grid_worker": {
            "workers": workers,
            "before": _per(before_by_level["grid"], workers),
            "now": _per(now_by_level["grid"], workers),
            "change": change(before_by_level["grid"], now_by_level["grid"]),
        },
        "change": change(before, now),
        "reduction": round(1 - now / before, 4) if before else None,
        "departments": _by_department(departments),
        "typed": typed,
        "shared": shared,
        "conflicting_periods": conflicts,
    }


def _by_department(departments: dict[str, dict]) -> list[dict]:
    rows = [
        row | {"change": change(row["before"], row["now"])}
        for row in departments.values()
        if row["before"] or row["now"]
    ]
    return sorted(rows, key=lambda row: (-row["before"], row["department"]))


def _overlaps(asked_by: dict, indicators: dict) -> tuple[list[dict], list[dict]]:
    shared = []
    conflicts = []
    for pk, asking in asked_by.items():
        indicator = indicators[pk]
        if len(asking) > 1:
            shared.append(
                {
                    "indicator": indicator.code,
                    "name": indicator.name,
                    "source": indicator.source,
                    "templates": len(asking),
                    "departments": sorted({t.owner.name for t in asking}),
                }
            )
        kinds = {t.period_type for t in asking}
        if len(kinds) > 1:
            conflicts.append(
                {
                    "indicator": indicator.code,
                    "name": indicator.name,
                    "collected": indicator.period_type,
                    "asked": {
                        kind: sorted(t.title for t in asking if t.period_type == kind)
                        for kind in sorted(kinds)
                    },
                }
            )
    shared.sort(key=lambda row: (-row["templates"], row["indicator"]))
    conflicts.sort(key=lambda row: row["indicator"])
    return shared, conflicts


def _explain(typed: list[dict], indicators: dict[int, Indicator], district) -> None:
    """Why each item is still typed (the module's docstring)."""
    from reports.services.forms import computing  # the forms' vocabulary of definitions

    by_code = {i.code: i for i in indicators.values()}
    computed = list(Indicator.objects.active().filter(source=Source.DERIVED))
    finer = {row["indicator"]: row["needed"] for row in levels.over_collected(district)}
    for row in typed:
        indicator = by_code[row["indicator"]]
        row["could_be"] = None
        row["definition"] = None
        row["finer_than_needed"] = finer.get(indicator.code)
        if indicator.value_type in JUDGEMENTS:
            row["reason"] = POLICY
            continue
        candidates = matching.rank(indicator.name, indicator.unit, computed, limit=1)
        # A tie between computed items still says "a computed item means this".
        if candidates and candidates[0].score >= matching.MATCHED:
            row["reason"] = NO_DEFINITION
            row["could_be"] = {"code": candidates[0].code, "name": candidates[0].name}
            continue
        reading = computing.read(indicator.name, indicator.unit)
        if reading is not None and not definitions.validate(reading):
            row["reason"] = NO_DEFINITION
            row["definition"] = definitions.describe(reading)
            continue
        row["reason"] = NO_DATA


def burden_year(region: Region, year: int, templates=None) -> dict:
    """The twelve months of a year added up (quarterly and yearly forms fall in some), in
    all, per community, per grid worker and per department."""
    months = [
        burden(region, Period(dt.date(year, m, 1), PeriodType.MONTH), templates, explain=False)
        for m in range(1, 13)
    ]
    before = sum(m["before"] for m in months)
    now = sum(m["now"] for m in months)
    last = months[-1]
    communities = last["units"]["community"]
    workers = last["grid_workers"]
    grid_before = sum(m["before_by_level"]["grid"] for m in months)
    grid_now = sum(m["now_by_level"]["grid"] for m in months)
    departments: dict[str, dict] = {}
    for m in months:
        for row in m["departments"]:
            total = departments.setdefault(
                row["department"], {"department": row["department"], "before": 0, "now": 0}
            )
            total["before"] += row["before"]
            total["now"] += row["now"]
    return {
        "year": year,
        "before": before,
        "now": now,
        "change": change(before, now),
        "reduction": round(1 - now / before, 4) if before else None,
        # Per community and per grid worker in an average month of the year.
        "per_community_month": {
            "before": _per(before / 12, communities),
            "now": _per(now / 12, communities),
        },
        "per_grid_worker_month": {
            "workers": workers,
            "before": _per(grid_before / 12, workers),
            "now": _per(grid_now / 12, workers),
            "change": change(grid_before, grid_now),
        },
        "departments": _by_department(departments),
        "months": [{"month": m["month"], "before": m["before"], "now": m["now"]} for m in months],
    }
