"""The burden page: fields typed by hand for a month and a year, before and now, per
community, per grid worker and per department, with the items still typed and why."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

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

REASON_LABELS = {
    burden_service.NO_DATA: _("no data: the platform holds nothing to count it from"),
    burden_service.NO_DEFINITION: _("no definition: the platform could count it"),
    burden_service.POLICY: _("policy: a judgement someone answers for"),
}
MINUS = "\u2212"


def signed_percent(value: float | None) -> str:
    """A change as people read it: "−35.2%" fewer, "+5.0%" more, "0%" none, "–" unknown
    (never "−-5.0%": the sign is the value's own)."""
    if value is None:
        return "–"
    percent = round(value * 100, 1)
    if percent == 0:
        return "0%"
    return f"{MINUS if percent < 0 else '+'}{abs(percent):.1f}%"


def _label_changes(rows: list[dict]) -> None:
    for row in rows:
        row["change_label"] = signed_percent(row.get("change"))
        row["up"] = (row.get("change") or 0) > 0


@login_required
@answers_refusals
def burden_page(request):
    """Fields typed by hand for a month before (every form's cells) and now (each collected
    item once), per community and grid worker, by department; the items still typed and
    why; the year's months; shared items and conflicting periods."""
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
    for row in figures["typed"]:
        row["period_label"] = period_names.get(row["period_type"], row["period_type"])
        row["level_label"] = LEVEL_LABELS.get(row["level"], row["level"])
        row["reason_label"] = REASON_LABELS[row["reason"]]
        if row["finer_than_needed"]:
            row["needed_label"] = LEVEL_LABELS.get(
                row["finer_than_needed"], row["finer_than_needed"]
            )
    _label_changes(figures["departments"])
    _label_changes(year["departments"])
    this_month = {row["department"]: row for row in figures["departments"]}
    departments = [
        {"department": row["department"], "month": this_month.get(row["department"]), "year": row}
        for row in year["departments"]
    ]
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
            "change_label": signed_percent(figures["change"]),
            "up": (figures["change"] or 0) > 0,
            "worker_change_label": signed_percent(figures["per_grid_worker"]["change"]),
            "reduction_pct": None if reduction is None else round(reduction * 100, 1),
            "year": year,
            "departments": departments,
            "year_change_label": signed_percent(year["change"]),
            "year_worker_change_label": signed_percent(year["per_grid_worker_month"]["change"]),
            "reasons": [
                (code, label, sum(1 for r in figures["typed"] if r["reason"] == code))
                for code, label in REASON_LABELS.items()
            ],
        },
    )
