"""Defining what is collected: bringing a department's Excel form in, and the shared indicator
catalogue."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import render

from grids import scoping
from grids.models import Department, Role
from reports.models import Indicator, IndicatorGroup, ReportTemplate, Source, UnitLevel, ValueType
from reports.periods import PeriodType
from reports.views.common import may_import

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
            "figures": "/api/reports/form-imports/{id}/figures/",
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
