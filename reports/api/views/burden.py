"""The burden figures: fields typed by hand per month, before and after 一表通."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.api.params import P_REGION, period_of, region_of
from reports.models import ReportTemplate
from reports.periods import PeriodType
from reports.services import burden as burden_service


class BurdenView(APIView):
    @extend_schema(
        parameters=[
            P_REGION,
            OpenApiParameter("month", str, description="2026-10 (default: last month)"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        """Fields filled by hand for a month before (every template's cells) and now (each
        collected indicator once), shared indicators and conflicting periodicities."""
        month = period_of(request, "month")
        if month.type != PeriodType.MONTH:
            raise ValidationError({"month": [_("a month, e.g. 2026-10")]})
        region = region_of(request)
        templates = ReportTemplate.objects.visible_to(request.user).active()
        figures = burden_service.burden(region, month, templates)
        figures["year"] = burden_service.burden_year(region, month.start.year, templates)
        return Response(figures)
