"""The ledger sheet of a unit and period as the page and the API show it, and its history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from grids.models import Grid, Region
from reports.models import Indicator, LedgerEntry, LedgerRevision, LedgerSubmission, unit_filter
from reports.periods import Period
from reports.services.ledger.access import district_of, level_of
from reports.services.ledger.due import (
    derived_for,
    due_date,
    due_indicators,
    is_locked,
    reopened_until,
)
from reports.services.values import RANK, Values, display, tree_under

# ---- the sheet --------------------------------------------------------------------------


@dataclass
class Item:
    indicator: Indicator
    templates: list
    value: object = None
    version: int = 0
    previous: object = None
    updated_at: dt.datetime | None = None
    updated_by: str = ""


def _root(unit: Grid | Region) -> Region:
    return unit.community if isinstance(unit, Grid) else unit


def derived_values(unit: Grid | Region, period: Period, indicators) -> dict[int, object]:
    """Values of derived indicators for one unit, aggregated if the unit is a region."""
    on = min(period.last_day, timezone.localdate())
    values = Values(tree_under(_root(unit), on), period)
    level = level_of(unit)
    result = {}
    for indicator in indicators:
        cell = values.at(indicator, level).get(unit.pk)
        result[indicator.pk] = cell.value if cell else None
    return result


def sheet(unit: Grid | Region, period: Period) -> dict:
    """Everything the ledger page and API show for a unit and period."""
    level = level_of(unit)
    district = district_of(unit)
    needed = due_indicators(level, period.type, district)
    entries = {
        e.indicator_id: e for e in LedgerEntry.objects.of(unit, period).select_related("updated_by")
    }
    previous = {e.indicator_id: e.value for e in LedgerEntry.objects.of(unit, period.previous())}
    items = []
    for indicator, templates in needed.items():
        entry = entries.get(indicator.pk)
        items.append(
            Item(
                indicator=indicator,
                templates=templates,
                value=entry.value if entry else None,
                version=entry.version if entry else 0,
                previous=previous.get(indicator.pk),
                updated_at=entry.updated_at if entry else None,
                updated_by=(entry.updated_by.get_full_name() or entry.updated_by.username)
                if entry and entry.updated_by
                else "",
            )
        )
    derived = [i for i in derived_for(level, period.type, district) if RANK[i.level] <= RANK[level]]
    computed = derived_values(unit, period, derived)
    due, grace = due_date(level, period, district, needed)
    submission = (
        LedgerSubmission.objects.filter(
            unit_filter(unit), period_type=period.type, period_start=period.start
        )
        .select_related("submitted_by")
        .first()
    )
    return {
        "unit": unit,
        "level": level,
        "period": period,
        "due": due,
        "grace_days": grace,
        "locked": is_locked(unit, period),
        "reopened_until": reopened_until(unit, period),
        "submission": submission,
        "items": items,
        "derived": [(i, display(i, computed.get(i.pk), level != i.level)) for i in derived],
        "missing": [item.indicator.code for item in items if item.value in (None, "")],
    }


def history(unit: Grid | Region, period: Period) -> list[LedgerRevision]:
    return list(
        LedgerRevision.objects.filter(entry__in=LedgerEntry.objects.of(unit, period))
        .select_related("entry__indicator", "by")
        .order_by("-at", "-version")
    )
