"""GET /api/needs/figures/: needs raised, accepted, dispatched, done, declined and merged for a
region and a span of days, time to fulfil, satisfaction, per kind and per child area, and
what providers contributed (needs.services.figures). Statistics: every role that sees the
region may ask (a department too: counts, never a need); party members are named only for
roles that see personal data."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from grids import scoping, timestamps
from grids.models import Level, Region
from needs.services import figures

LEVELS = (Level.DISTRICT, Level.STREET, Level.COMMUNITY)
MAX_DAYS = 5 * 366


def _date(request, name: str, default: dt.date) -> dt.date:
    value = request.query_params.get(name)
    if not value:
        return default
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: [_("dates are YYYY-MM-DD")]}) from None
    problem = timestamps.date_problem(day, name)
    if problem is not None:
        raise ValidationError({name: [problem.message]}, code=problem.code)
    return day


def _region(request) -> Region:
    """The region asked for (`?region=` id), else the user's own; one answer for another
    jurisdiction's and for none at all."""
    value = request.query_params.get("region", "")
    regions = Region.objects.visible_to(request.user).filter(level__in=LEVELS)
    if value:
        if not (value.isascii() and value.isdigit() and len(value) < 12):
            raise ValidationError({"region": [_("a region's id")]})
        region = regions.filter(pk=int(value)).first()
    else:
        own = scoping.jurisdiction_region(request.user)
        if own is None:
            # An administrator works everywhere, a grid worker in no region: say which.
            raise ValidationError(
                {"region": [_("name the region: ?region= a district, street or community id")]},
                code="required",
            )
        region = regions.filter(pk=own.pk).first()
    if region is None:
        raise ValidationError({"region": [_("no such region in your jurisdiction")]})
    return region


class FiguresView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("region", int, description="a district, street or community id"),
            OpenApiParameter("start", OpenApiTypes.DATE, description="default: 29 days before end"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="default: today"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        """Needs and services figures of a region for the days start to end (both included)."""
        region = _region(request)
        end = _date(request, "end", timezone.localdate())
        start = _date(request, "start", end - dt.timedelta(days=29))
        if start > end:
            raise ValidationError({"start": [_("the period starts after it ends")]})
        if (end - start).days > MAX_DAYS:
            raise ValidationError({"start": [_("at most five years at once")]})
        people = scoping.sees_personal_data(request.user)
        return Response(figures.for_region(region, start, end, people=people))
