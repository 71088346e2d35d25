"""Defining an indicator as data (issue #17): the subject, the conditions, the measure and
the time, with a live preview of the region's figure and its grids, then saved as a derived
indicator. The page's script talks to /api/reports/subjects/, /api/reports/definitions/
preview/ and /api/reports/indicators/."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from reports.models import Indicator, IndicatorGroup, Source
from reports.periods import PeriodType
from reports.views.common import may_import, period_options, regions_for, running_option


@login_required
def definitions_page(request):
    """A new definition, or `?code=` an indicator defined as data to edit."""
    user = request.user
    if not may_import(user):
        raise PermissionDenied
    indicator = None
    code = (request.GET.get("code") or "").strip()
    if code:
        indicator = (
            Indicator.objects.select_related("group")
            .filter(code=code, source=Source.DERIVED, definition__isnull=False)
            .first()
        )
        if indicator is None:
            raise Http404("no indicator defined as data with this code")
    config = {
        "indicator": None
        if indicator is None
        else {
            "code": indicator.code,
            "name": indicator.name,
            "unit": indicator.unit,
            "group": indicator.group.code,
            "aliases": indicator.aliases,
            "period_type": indicator.period_type,
            "definition": indicator.definition,
        },
        "groups": list(IndicatorGroup.objects.values("code", "name")),
        "period_types": [{"value": v, "label": str(label)} for v, label in PeriodType.choices],
        "periods": [running_option("month"), *period_options("month")],
        "regions": [{"code": r.code, "name": r.name} for r in regions_for(user)],
        "urls": {
            "subjects": "/api/reports/subjects/",
            "preview": "/api/reports/definitions/preview/",
            "create": "/api/reports/indicators/",
            "update": "/api/reports/indicators/{code}/",
            "saved": "/reports/definitions/?code={code}",
        },
    }
    return render(
        request,
        "reports/definitions.html",
        {"indicator": indicator, "config": config},
    )
