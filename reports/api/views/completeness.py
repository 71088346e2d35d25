"""Completeness: who has submitted the ledger on time, late or not at all, and per template
falling due the reporting and on-time rates."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.api.params import (
    P_LEVEL,
    P_PERIOD,
    P_REGION,
    period_of,
    region_of,
    row_level,
    visible_units,
)
from reports.models import ReportTemplate
from reports.periods import Period
from reports.services import completeness
from reports.services.values import tree_under


class CompletenessView(APIView):
    @extend_schema(parameters=[P_PERIOD, P_REGION, P_LEVEL], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        """Per unit: ledger submitted on time, late or missing for the period (the map's
        completeness choropleth), and per active template the reporting and on-time rates."""
        period = period_of(request)
        region = region_of(request)
        level = row_level(request)
        statuses = completeness.ledger_completeness(period, region, level)
        visible = visible_units(request.user, level, [s.unit.pk for s in statuses])
        statuses = [s for s in statuses if s.unit.pk in visible]
        templates = []
        tree = tree_under(region, min(period.last_day, timezone.localdate()))
        for template in (
            ReportTemplate.objects.visible_to(request.user).active().select_related("owner")
        ):
            own = Period.containing(period.start, template.period_type)
            if own.end != period.end:
                continue  # not falling due with this period
            rows = completeness.template_completeness(template, own, region, tree)
            templates.append(
                {
                    "template": template.code,
                    "title": template.title,
                    "department": template.owner.name,
                    "period": own.key,
                    "due": template.due_date(own),
                    **completeness.summary(rows),
                }
            )
        return Response(
            {
                "period": period.key,
                "region": region.code,
                "level": level,
                **completeness.summary(statuses),
                "units": [
                    {"id": s.unit.pk, "code": s.unit.code, "name": s.unit.name, "status": s.status}
                    for s in statuses
                ],
                "templates": templates,
            }
        )
