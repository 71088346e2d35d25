"""The ledger page (台账) of a grid, community or street for a period."""

from __future__ import annotations

from decimal import Decimal
from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from grids.models import Grid, Region, Role
from reports.models import Indicator, ValueType
from reports.periods import Period, PeriodType
from reports.services import ledger
from reports.views.common import LEVEL_LABELS, answers_refusals, last_complete, period_asked


def own_unit(user) -> Grid | Region | None:
    """The unit whose ledger a user keeps: a grid worker's grid, a community's or street's
    staff their community or street."""
    if user.role == Role.GRID_WORKER:
        return user.grid
    if user.role in (Role.COMMUNITY_STAFF, Role.STREET_CENTRE):
        return user.region
    return None


def _ledger_unit(user, raw: str) -> Grid | Region:
    """A ledger unit by code (or `level:id`, as reminders link) among those the user may
    see; 404 otherwise."""
    grids = Grid.objects.visible_to(user).current().select_related("community__parent")
    regions = (
        Region.objects.visible_to(user)
        .current()
        .filter(level__in=["community", "street"])
        .select_related("parent")
    )
    level, _sep, pk = raw.partition(":")
    if pk:
        if not (pk.isascii() and pk.isdecimal()):
            raise Http404("no such unit")
        unit = (
            grids.filter(pk=pk).first()
            if level == "grid"
            else regions.filter(pk=pk, level=level).first()
        )
    else:
        unit = grids.filter(code=raw).first() or regions.filter(code=raw).first()
    if unit is None:
        raise Http404(f"no grid, community or street {raw} in your jurisdiction")
    return unit


def _input_value(item: ledger.Item) -> str:
    """A stored value as the ledger's input shows it."""
    value = item.value
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if item.indicator.value_type == ValueType.BOOLEAN:
            return "1" if value else "0"
        value = value.normalize()
        return f"{value:f}"
    return str(value)


def _shown(indicator: Indicator, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        if indicator.value_type == ValueType.BOOLEAN:
            return "是" if value else "否"
        return f"{value.normalize():f}"
    return str(value)


def _step(indicator: Indicator) -> str:
    return "1" if indicator.value_type == ValueType.INTEGER else "any"


def _default_period(unit, open_periods: list[Period]) -> Period:
    """The period just ended while it is still open, else the running one."""
    today = timezone.localdate()
    begun = sorted((p for p in open_periods if p.start <= today), key=lambda p: p.end)
    for period in begun:
        if period.end <= today and not ledger.is_locked(unit, period):
            return period
    running = [p for p in begun if p.end > today]
    return running[0] if running else (begun[-1] if begun else last_complete(PeriodType.MONTH))


@login_required
@answers_refusals
def ledger_page(request):
    """The ledger (台账) of a grid, community or street for a period."""
    user = request.user
    raw = request.GET.get("unit") or ""
    unit = _ledger_unit(user, raw) if raw else own_unit(user)
    if unit is None:
        # Levels above keep no ledger of their own: they open units' ledgers from
        # completeness.
        return render(request, "reports/ledger_choose.html", {"unit": raw})
    level = ledger.level_of(unit)
    district = ledger.district_of(unit)
    open_periods = ledger.periods_open(level, district)
    period = request.GET.get("period")
    period = period_asked(period, None) if period else _default_period(unit, open_periods)
    if period not in open_periods:
        open_periods = [period, *open_periods]
    sheet = ledger.sheet(unit, period)
    editable = ledger.may_enter(user, unit) and not sheet["locked"]
    items = []
    for item in sheet["items"]:
        ind = item.indicator
        items.append(
            {
                "item": item,
                "indicator": ind,
                "value": _input_value(item),
                "previous": _shown(ind, item.previous),
                "previous_raw": _input_value(ledger.Item(ind, [], value=item.previous)),
                "step": _step(ind),
                "min": None if ind.min_value is None else f"{ind.min_value.normalize():f}",
                "max": None if ind.max_value is None else f"{ind.max_value.normalize():f}",
                "needed_by": "、".join(t.title for t in item.templates),
            }
        )
    groups = [
        (name, list(rows)) for name, rows in groupby(items, key=lambda i: i["indicator"].group.name)
    ]
    unit_code = unit.code
    config = {
        "unit": unit_code,
        "period": period.key,
        "versions": {i["indicator"].code: i["item"].version for i in items},
        "editable": editable,
        "urls": {
            "save": "/api/reports/ledger/",
            "submit": "/api/reports/ledger/submit/",
            "reopen": "/api/reports/ledger/reopen/",
            "history": "/api/reports/ledger/history/",
        },
    }
    return render(
        request,
        "reports/ledger.html",
        {
            "unit": unit,
            "level": level,
            "level_label": LEVEL_LABELS.get(level, level),
            "period": period,
            "periods": open_periods,
            "sheet": sheet,
            "groups": groups,
            "items_count": len(items),
            "missing": [i for i in items if i["indicator"].code in set(sheet["missing"])],
            "editable": editable,
            "may_enter": ledger.may_enter(user, unit),
            "may_reopen": sheet["locked"] and ledger.may_reopen(user, unit),
            "config": config,
        },
    )
