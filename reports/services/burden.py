"""The burden figures of 一表通 (减负): how many fields the grassroots filled for a month
before (every template's cells, each typed by hand) and now (each collected indicator once
per unit and period; derived indicators are typed by nobody), which indicators many
templates ask for, and which are asked at conflicting periodicities."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from grids.models import Region
from reports.models import ReportTemplate, Source
from reports.periods import Period, PeriodType
from reports.services.ledger import district_of
from reports.services.values import tree_under


def _ends_in(kind: str, month: Period) -> Period | None:
    """The period of type `kind` that ends with `month`, if one does."""
    period = Period.containing(month.start, kind)
    return period if period.end == month.end else None


def burden(region: Region, month: Period, templates=None) -> dict:
    """Fields filled in `region` for the reports falling due after `month` (monthly ones
    every month, quarterly ones after a quarter's last month, ...), before and now."""
    if month.type != PeriodType.MONTH:
        raise ValueError("the burden is counted per month")
    on = min(month.last_day, timezone.localdate())
    tree = tree_under(region, on)
    units = {level: len(tree.units.get(level, {})) for level in ("grid", "community", "street")}
    grids = units["grid"] or 1
    templates = list(
        (templates if templates is not None else ReportTemplate.objects.active())
        .filter(owner__district=district_of(region))
        .select_related("owner")
        .prefetch_related("columns__indicator")
    )
    before = 0
    per_template = []
    collected: dict[int, tuple] = {}
    asked_by: dict[int, list] = defaultdict(list)
    for template in templates:
        columns = list(template.columns.all())
        for column in columns:
            indicator = column.indicator
            if template not in asked_by[indicator.pk]:
                asked_by[indicator.pk].append(template)
        if _ends_in(template.period_type, month) is None:
            continue
        cells = units[template.row_level] * len(columns)
        before += cells
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
        for column in columns:
            indicator = column.indicator
            if indicator.source == Source.COLLECTED and _ends_in(indicator.period_type, month):
                collected[indicator.pk] = (indicator, units[indicator.level])
    now = sum(n for _indicator, n in collected.values())
    shared = []
    conflicts = []
    indicators = {c.indicator.pk: c.indicator for t in templates for c in t.columns.all()}
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
    return {
        "region": {"id": region.pk, "code": region.code, "name": region.name},
        "month": month.key,
        "units": units,
        "templates": per_template,
        "before": before,
        "now": now,
        "before_per_grid": round(before / grids, 1),
        "now_per_grid": round(now / grids, 1),
        "reduction": round(1 - now / before, 4) if before else None,
        "shared": shared,
        "conflicting_periods": conflicts,
    }


def burden_year(region: Region, year: int, templates=None) -> dict:
    """The twelve months of a year added up (quarterly and yearly forms fall in some)."""
    months = [
        burden(region, Period(dt.date(year, m, 1), PeriodType.MONTH), templates)
        for m in range(1, 13)
    ]
    before = sum(m["before"] for m in months)
    now = sum(m["now"] for m in months)
    return {
        "year": year,
        "before": before,
        "now": now,
        "reduction": round(1 - now / before, 4) if before else None,
        "months": [{"month": m["month"], "before": m["before"], "now": m["now"]} for m in months],
    }
