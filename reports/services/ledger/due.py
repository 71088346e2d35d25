"""What a unit's ledger is due to hold, when it is due, and when its period locks."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from grids.models import Grid, Region
from reports.models import (
    Indicator,
    LedgerReopening,
    ReportTemplate,
    Source,
    TemplateColumn,
    unit_filter,
)
from reports.periods import MONTHS, Period
from reports.services.ledger.access import district_of, level_of

# ---- what is due ----------------------------------------------------------------------------


def active_templates(district_id: int | None):
    templates = ReportTemplate.objects.active()
    if district_id is not None:
        templates = templates.filter(owner__district=district_id)
    return templates


def due_indicators(level: str, period_type: str, district_id: int | None) -> dict[Indicator, list]:
    """The collected indicators a unit of `level` enters per `period_type` period, with the
    templates that need each: entered once whatever their number."""
    columns = (
        TemplateColumn.objects.filter(
            template__in=active_templates(district_id),
            indicator__source=Source.COLLECTED,
            indicator__level=level,
            indicator__period_type=period_type,
        )
        .filter(
            Q(indicator__retired_on__isnull=True)
            | Q(indicator__retired_on__gt=timezone.localdate())
        )
        .select_related("indicator__group", "template__owner")
        .order_by("indicator__group__order", "indicator__code")
    )
    needed: dict[Indicator, list] = {}
    for column in columns:
        needed.setdefault(column.indicator, [])
        if column.template not in needed[column.indicator]:
            needed[column.indicator].append(column.template)
    return needed


def derived_for(level: str, period_type: str, district_id: int | None) -> list[Indicator]:
    """Derived indicators the same templates use: shown beside the ledger to confirm."""
    ids = TemplateColumn.objects.filter(
        template__in=active_templates(district_id), indicator__source=Source.DERIVED
    ).values("indicator")
    return list(
        Indicator.objects.filter(pk__in=ids)
        .select_related("group")
        .order_by("group__order", "code")
    )


def due_date(
    level: str, period: Period, district_id: int | None, needed: dict | None = None
) -> tuple[dt.date, int]:
    """When a unit's ledger for `period` is due, and the grace days after it: the earliest
    due date of the templates that need any of its indicators, else the district default.
    `needed` is `due_indicators(...)` when the caller has it already."""
    if needed is None:
        needed = due_indicators(level, period.type, district_id)
    templates = {t for ts in needed.values() for t in ts}
    if not templates:
        return period.due_on(settings.GRIDLINE_LEDGER_DUE_DAY), settings.GRIDLINE_LEDGER_GRACE_DAYS
    first = min(templates, key=lambda t: (t.due_date(period), t.grace_days))
    return first.due_date(period), first.grace_days


def lock_date(unit: Grid | Region, period: Period) -> dt.date:
    """The first day the period is locked for the unit."""
    due, grace = due_date(level_of(unit), period, district_of(unit))
    return due + dt.timedelta(days=grace + 1)


def reopened_until(unit: Grid | Region, period: Period) -> dt.date | None:
    return (
        LedgerReopening.objects.filter(
            unit_filter(unit), period_type=period.type, period_start=period.start
        )
        .order_by("-until")
        .values_list("until", flat=True)
        .first()
    )


def is_locked(unit: Grid | Region, period: Period, on: dt.date | None = None) -> bool:
    on = on or timezone.localdate()
    if on < lock_date(unit, period):
        return False
    until = reopened_until(unit, period)
    return until is None or on > until


def periods_open(level: str, district_id: int | None, on: dt.date | None = None) -> list[Period]:
    """The periods of each type with due indicators that a unit of `level` fills now: the
    current one and the one just ended."""
    on = on or timezone.localdate()
    types = set(
        TemplateColumn.objects.filter(
            template__in=active_templates(district_id),
            indicator__source=Source.COLLECTED,
            indicator__level=level,
        ).values_list("indicator__period_type", flat=True)
    )
    result = []
    for kind in sorted(types, key=lambda k: MONTHS[k]):
        current = Period.containing(on, kind)
        result += [current.previous(), current]
    return result
