"""The reports hub: templates by department, one-click generation and the generated log."""

from __future__ import annotations

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render

from reports.models import ReportTemplate, Source
from reports.periods import PeriodType
from reports.views.common import (
    last_complete,
    may_generate,
    may_import,
    period_options,
    regions_for,
    running_option,
)
from reports.views.ledger import own_unit


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
    regions = regions_for(user) if can_generate else []
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
            "own_unit": own_unit(user),
            "config": config,
        },
    )
