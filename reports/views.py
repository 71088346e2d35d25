"""The pages of 一表通 (#5): the reports hub with one-click generation, the ledger of a unit
and period, completeness, the burden before and now, bringing a department's Excel form in,
and the shared indicator catalogue. Data comes only through the scoped querysets and the
services here, and the API (/api/reports/...) from the pages' scripts."""

from __future__ import annotations

from decimal import Decimal
from functools import wraps
from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.api.errors import refusal
from grids.limits import InputRefused
from grids.models import Department, Grid, Region, Role
from reports.models import (
    Indicator,
    IndicatorGroup,
    ReportTemplate,
    Source,
    UnitLevel,
    ValueType,
)
from reports.periods import Period, PeriodType
from reports.services import burden as burden_service
from reports.services import completeness as completeness_service
from reports.services import ledger
from reports.services.values import tree_under

# Who brings departments' forms in and generates reports (as the API decides).
DEFINERS = frozenset({Role.DISTRICT_CENTRE, Role.DEPARTMENT, Role.ADMINISTRATOR})
GENERATORS = frozenset(
    {Role.COMMUNITY_STAFF, Role.STREET_CENTRE, Role.DISTRICT_CENTRE, Role.DEPARTMENT}
)
PERIOD_CHOICES = 12  # how many past periods the pickers offer
STATUS_LABELS = {"on_time": _("on time"), "late": _("late"), "missing": _("missing")}
STATUS_ORDER = {"missing": 0, "late": 1, "on_time": 2}
UNIT_ROWS = 300  # units listed at most; the rest by choosing a street or a status
LEVEL_LABELS = dict(UnitLevel.choices) | {"district": _("district")}


def may_generate(user) -> bool:
    return scoping.sees_everything(user) or user.role in GENERATORS


def may_import(user) -> bool:
    return scoping.sees_everything(user) or user.role in DEFINERS


def _top_region(user) -> Region | None:
    """The region a user's reports, completeness and burden start from."""
    region = scoping.jurisdiction_region(user)
    if region is None and scoping.sees_everything(user):
        region = Region.objects.current().filter(level="district").order_by("code").first()
    return region


def _regions(user) -> list[Region]:
    """The user's jurisdiction and its children: the regions a report can be made for."""
    top = _top_region(user)
    if top is None:
        return []
    children = Region.objects.current().filter(parent=top).order_by("code")
    return [top, *children]


def _region(user, raw: str | None) -> Region:
    """The region asked for among those the user may see (404 otherwise), else theirs."""
    if not raw:
        region = _top_region(user)
        if region is None:
            raise Http404("no region in your jurisdiction")
        return region
    region = Region.objects.visible_to(user).current().filter(code=raw).first()
    if region is None:
        raise Http404(f"no region {raw} in your jurisdiction")
    return region


def _period(raw: str | None, default: Period | None, name: str = "period") -> Period:
    if not raw:
        return default
    try:
        return Period.parse(raw)
    except ValueError as error:
        # A period the page cannot show is the address's fault (400), not a missing record.
        raise InputRefused(400, "bad_period", str(error), field=name) from error


def _answers_refusals(view):
    """A page whose address is refused answers a short page naming the parameter and why
    (grids.api.errors.refusal), in the user's language."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except InputRefused as refused:
            return refusal(request, refused)

    return wrapped


def last_complete(kind: str, on=None) -> Period:
    return Period.containing(on or timezone.localdate(), kind).previous()


def running_option(kind: str) -> dict:
    running = Period.containing(timezone.localdate(), kind)
    return {"key": running.key, "label": running.label, "running": True}


def period_options(kind: str, count: int = PERIOD_CHOICES) -> list[dict]:
    """The last `count` complete periods of a type, newest first."""
    last = last_complete(kind)
    return [{"key": p.key, "label": p.label} for p in (last.shifted(-i) for i in range(count))]


# ---- the hub ------------------------------------------------------------------------------


@login_required
def hub(request):
    """Templates grouped by department, the generate panel and the log of generated
    reports; a grid worker gets their ledger instead of the generate panel."""
    user = request.user
    templates = list(
        ReportTemplate.objects.visible_to(user)
        .active()
        .select_related("owner")
        .annotate(
            column_count=Count("columns"),
            derived_count=Count("columns", filter=Q(columns__indicator__source=Source.DERIVED)),
        )
        .order_by("owner__name", "title")
    )
    departments = [
        (owner, list(rows)) for owner, rows in groupby(templates, key=lambda t: t.owner.name)
    ]
    can_generate = may_generate(user)
    regions = _regions(user) if can_generate else []
    selected = request.GET.get("template") or ""
    if selected not in {t.code for t in templates}:
        selected = templates[0].code if templates else ""
    config = {
        "selected": selected,
        "templates": {
            t.code: {
                "title": t.title,
                "period_type": t.period_type,
                "default_period": last_complete(t.period_type).key,
            }
            for t in templates
        },
        # The running period (a partial report) first; the default is the last complete.
        "periods": {
            kind: [running_option(kind), *period_options(kind)] for kind in PeriodType.values
        },
        "urls": {
            "generate": "/api/reports/templates/{code}/generate/",
            "runs": "/api/reports/runs/",
            "ledger": "/reports/ledger/",
        },
    }
    return render(
        request,
        "reports/hub.html",
        {
            "departments": departments,
            "template_count": len(templates),
            "can_generate": can_generate,
            "can_import": may_import(user),
            "regions": regions,
            "selected": selected,
            "own_unit": _own_unit(user),
            "config": config,
        },
    )


# ---- the ledger ---------------------------------------------------------------------------


def _own_unit(user) -> Grid | Region | None:
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
@_answers_refusals
def ledger_page(request):
    """The ledger (台账) of a grid, community or street for a period."""
    user = request.user
    raw = request.GET.get("unit") or ""
    unit = _ledger_unit(user, raw) if raw else _own_unit(user)
    if unit is None:
        # Levels above keep no ledger of their own: they open units' ledgers from
        # completeness.
        return render(request, "reports/ledger_choose.html", {"unit": raw})
    level = ledger.level_of(unit)
    district = ledger.district_of(unit)
    open_periods = ledger.periods_open(level, district)
    period = request.GET.get("period")
    period = _period(period, None) if period else _default_period(unit, open_periods)
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


# ---- completeness -------------------------------------------------------------------------


@login_required
@_answers_refusals
def completeness_page(request):
    """Per template falling due with the period: expected, submitted, on time and the rates;
    per unit: on time, late or missing, each linking to its ledger."""
    user = request.user
    if user.role == Role.GRID_WORKER:
        return redirect("report-ledger")
    region = _region(user, request.GET.get("region"))
    period = _period(request.GET.get("period"), last_complete(PeriodType.MONTH))
    level = request.GET.get("level") or "grid"
    if level not in ("grid", "community", "street"):
        level = "grid"
    tree = tree_under(region, min(period.last_day, timezone.localdate()))
    templates = []
    chosen = None
    code = request.GET.get("template") or ""
    for template in (
        ReportTemplate.objects.visible_to(user).active().select_related("owner").order_by("title")
    ):
        own = Period.containing(period.start, template.period_type)
        if own.end != period.end:
            continue  # not falling due with this period
        rows = completeness_service.template_completeness(template, own, region, tree)
        templates.append(
            {
                "template": template,
                "period": own,
                "due": template.due_date(own),
                **completeness_service.summary(rows),
            }
        )
        if template.code == code:
            chosen = (template, own, rows)
    if chosen is not None:
        statuses = chosen[2]
        unit_period = None  # a template's units may be fed by several ledger periods
    else:
        statuses = completeness_service.ledger_completeness(period, region, level)
        unit_period = period
    status = request.GET.get("status") or ""
    shown = [s for s in statuses if not status or s.status == status]
    shown.sort(key=lambda s: (STATUS_ORDER[s.status], s.unit.code))
    units = [
        {
            "unit": s.unit,
            "status": s.status,
            "label": STATUS_LABELS[s.status],
            "submitted_at": s.submitted_at,
            "ledger": f"?unit={s.unit.code}&period={(unit_period or period).key}",
        }
        for s in shown[:UNIT_ROWS]
    ]
    return render(
        request,
        "reports/completeness.html",
        {
            "region": region,
            "regions": _regions(user),
            "period": period,
            "periods": period_options(PeriodType.MONTH)
            + [p for k in ("quarter", "half_year", "year") for p in period_options(k, 4)],
            "level": level,
            "levels": [(k, v) for k, v in UnitLevel.choices],
            "templates": templates,
            "chosen": chosen[0] if chosen else None,
            "chosen_period": chosen[1] if chosen else None,
            "summary": completeness_service.summary(statuses),
            "units": units,
            "shown": len(shown),
            "status": status,
            "statuses": list(STATUS_LABELS.items()),
            "unit_rows": UNIT_ROWS,
        },
    )


# ---- burden -------------------------------------------------------------------------------


@login_required
@_answers_refusals
def burden_page(request):
    """Fields filled by hand for a month before (every template's cells) and now (each
    collected indicator once), the year's totals, shared items and conflicting periods."""
    user = request.user
    if user.role == Role.GRID_WORKER:
        return redirect("report-ledger")
    region = _region(user, request.GET.get("region"))
    month = _period(request.GET.get("month"), last_complete(PeriodType.MONTH), "month")
    if month.type != PeriodType.MONTH:
        raise Http404("the burden is counted per month")
    templates = ReportTemplate.objects.visible_to(user).active()
    figures = burden_service.burden(region, month, templates)
    year = burden_service.burden_year(region, month.start.year, templates)
    peak = max((m["before"] for m in year["months"]), default=0) or 1
    for m in year["months"]:
        m["before_pct"] = round(100 * m["before"] / peak)
        m["now_pct"] = round(100 * m["now"] / peak)
    period_names = dict(PeriodType.choices)
    for row in figures["conflicting_periods"]:
        row["collected_label"] = period_names.get(row["collected"], row["collected"])
        row["asked_list"] = [
            (period_names.get(kind, kind), titles) for kind, titles in row["asked"].items()
        ]
    for row in figures["templates"]:
        row["period_label"] = period_names.get(row["period_type"], row["period_type"])
        row["level_label"] = LEVEL_LABELS.get(row["row_level"], row["row_level"])
    reduction = figures["reduction"]
    return render(
        request,
        "reports/burden.html",
        {
            "region": region,
            "regions": _regions(user),
            "month": month,
            "months": period_options(PeriodType.MONTH, 24),
            "figures": figures,
            "reduction_pct": None if reduction is None else round(reduction * 100, 1),
            "year": year,
            "year_reduction_pct": None
            if year["reduction"] is None
            else round(year["reduction"] * 100, 1),
        },
    )


# ---- bringing a department's form in ------------------------------------------------------


@login_required
def form_import(request):
    """Upload a department's .xlsx, check the proposed mapping of each column, confirm."""
    user = request.user
    if not may_import(user):
        raise PermissionDenied
    if user.role == Role.DEPARTMENT:
        departments = Department.objects.filter(pk=user.department_id)
    else:
        district = scoping.user_district(user)
        departments = Department.objects.all()
        if not scoping.sees_everything(user):
            departments = departments.filter(district=district)
    groups = list(IndicatorGroup.objects.values("code", "name"))
    config = {
        "choose_department": user.role != Role.DEPARTMENT,
        "groups": groups,
        "value_types": [{"value": v, "label": str(label)} for v, label in ValueType.choices],
        "levels": [{"value": v, "label": str(label)} for v, label in UnitLevel.choices],
        "period_types": [{"value": v, "label": str(label)} for v, label in PeriodType.choices],
        "import": request.GET.get("id") or None,
        "urls": {
            "upload": "/api/reports/form-imports/",
            "import": "/api/reports/form-imports/{id}/",
            "confirm": "/api/reports/form-imports/{id}/confirm/",
            "indicators": "/api/reports/indicators/?active=1",
            "hub": "/reports/?template={code}",
        },
    }
    return render(
        request,
        "reports/form_import.html",
        {
            "departments": departments,
            "choose_department": config["choose_department"],
            "config": config,
        },
    )


# ---- the indicator catalogue --------------------------------------------------------------


@login_required
def indicators_page(request):
    """The shared catalogue: every data item once, and how many templates use it."""
    user = request.user
    templates = ReportTemplate.objects.visible_to(user).active()
    indicators = (
        Indicator.objects.select_related("group")
        .annotate(
            template_count=Count(
                "columns__template",
                filter=Q(columns__template__in=templates.values("pk")),
                distinct=True,
            )
        )
        .order_by("group__order", "code")
    )
    filters = {
        "group": request.GET.get("group") or "",
        "source": request.GET.get("source") or "",
        "level": request.GET.get("level") or "",
        "period_type": request.GET.get("period_type") or "",
        "q": (request.GET.get("q") or "").strip(),
        "retired": request.GET.get("retired") or "",
    }
    if filters["group"]:
        indicators = indicators.filter(group__code=filters["group"])
    if filters["source"] in Source.values:
        indicators = indicators.filter(source=filters["source"])
    if filters["level"] in UnitLevel.values:
        indicators = indicators.filter(level=filters["level"])
    if filters["period_type"] in PeriodType.values:
        indicators = indicators.filter(period_type=filters["period_type"])
    if filters["q"]:
        q = filters["q"]
        indicators = indicators.filter(
            Q(name__icontains=q) | Q(code__icontains=q) | Q(aliases__icontains=q)
        )
    if not filters["retired"]:
        indicators = indicators.active()
    rows = list(indicators)
    return render(
        request,
        "reports/indicators.html",
        {
            "indicators": rows,
            "filters": filters,
            "groups": IndicatorGroup.objects.all(),
            "sources": Source.choices,
            "levels": UnitLevel.choices,
            "period_types": PeriodType.choices,
            "counts": {
                "derived": sum(i.source == Source.DERIVED for i in rows),
                "collected": sum(i.source == Source.COLLECTED for i in rows),
            },
        },
    )
