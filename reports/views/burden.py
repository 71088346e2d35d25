"""The burden page: fields filled by hand for a month before and now."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from grids.models import Role
from reports.models import ReportTemplate
from reports.periods import PeriodType
from reports.services import burden as burden_service
from reports.views.common import (
    LEVEL_LABELS,
    answers_refusals,
    last_complete,
    period_asked,
    period_options,
    region_asked,
    regions_for,
)


@login_required
@answers_refusals
def burden_page(request):
    """Fields filled by hand for a month before (every template's cells) and now (each
    collected indicator once), the year's totals, shared items and conflicting periods."""
    user = request.user
    if user.role == Role.GRID_WORKER:
        return redirect("report-ledger")
    region = region_asked(user, request.GET.get("region"))
    month = period_asked(request.GET.get("month"), last_complete(PeriodType.MONTH), "month")
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
            "regions": regions_for(user),
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
