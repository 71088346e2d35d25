"""The completeness page: per template and per unit, on time, late or missing."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone

from grids.models import Role
from reports.models import ReportTemplate, UnitLevel
from reports.periods import Period, PeriodType
from reports.services import completeness as completeness_service
from reports.services.values import tree_under
from reports.views.common import (
    STATUS_LABELS,
    STATUS_ORDER,
    UNIT_ROWS,
    answers_refusals,
    last_complete,
    period_asked,
    period_options,
    region_asked,
    regions_for,
)


@login_required
@answers_refusals
def completeness_page(request):
    """Per template falling due with the period: expected, submitted, on time and the rates;
    per unit: on time, late or missing, each linking to its ledger."""
    user = request.user
    if user.role == Role.GRID_WORKER:
        return redirect("report-ledger")
    region = region_asked(user, request.GET.get("region"))
    period = period_asked(request.GET.get("period"), last_complete(PeriodType.MONTH))
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
            "regions": regions_for(user),
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
