"""Patrols over the API (issue #18): the list with each track as GeoJSON, and hours and
kilometres per worker or grid. Scoped by the grid rule (as tasks): a grid worker sees the
grid's patrols, community staff their community's, and so on up."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from field.api.auth import FieldAPIView
from field.services import patrols
from grids import timestamps

DEFAULT_LIMIT, MAX_LIMIT = 200, 1000
P_FROM = OpenApiParameter("date_from", OpenApiTypes.DATE, description="default: this month")
P_TO = OpenApiParameter("date_to", OpenApiTypes.DATE)


class LineStringField(serializers.JSONField):
    """A GeoJSON LineString (WGS84), written by PostGIS."""


class PatrolRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    client_key = serializers.UUIDField()
    worker = serializers.CharField(help_text="the grid worker's user name")
    worker_name = serializers.CharField()
    grid = serializers.CharField(help_text="the grid's code")
    grid_name = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    distance_m = serializers.FloatField(help_text="metres along the track (on the spheroid)")
    duration_s = serializers.IntegerField()
    note = serializers.CharField(allow_blank=True)
    incident_ids = serializers.ListField(child=serializers.IntegerField())
    track = LineStringField(allow_null=True)


class FiguresRowSerializer(serializers.Serializer):
    """A worker's row (id, username, name, grid_code, grid_name) or a grid's (id, code, name),
    with the patrols started in the period."""

    id = serializers.IntegerField()
    username = serializers.CharField(required=False)
    name = serializers.CharField()
    code = serializers.CharField(required=False)
    grid_code = serializers.CharField(required=False, allow_null=True)
    grid_name = serializers.CharField(required=False, allow_null=True)
    count = serializers.IntegerField()
    hours = serializers.FloatField()
    km = serializers.FloatField()


def day(request, name: str, default: dt.date | None) -> dt.date | None:
    raw = request.query_params.get(name)
    if not raw:
        return default
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: [_("dates are YYYY-MM-DD")]}) from None
    problem = timestamps.date_problem(value, name)
    if problem is not None:
        raise ValidationError({name: [problem.message]}, code=problem.code)
    return value


def period(request) -> tuple[dt.date | None, dt.date | None]:
    start = day(request, "date_from", patrols.month_start())
    end = day(request, "date_to", None)
    if start and end and start > end:
        raise ValidationError({"date_from": [_("the period starts after it ends")]})
    return start, end


class PatrolsView(FieldAPIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("worker", str, description="a grid worker's user name"),
            P_FROM,
            P_TO,
            OpenApiParameter("limit", int, description=f"at most {MAX_LIMIT}"),
        ],
        responses=PatrolRowSerializer(many=True),
    )
    def get(self, request):
        """Patrols started in the period, newest first, each with its track (GeoJSON)."""
        start, end = period(request)
        found = patrols.between(patrols.visible_to(request.user), start, end)
        if worker := request.query_params.get("worker"):
            found = found.filter(worker__username=worker)
        raw = request.query_params.get("limit", str(DEFAULT_LIMIT))
        if not (raw.isascii() and raw.isdecimal()) or not 1 <= int(raw) <= MAX_LIMIT:
            raise ValidationError(
                {"limit": [_("limit is a whole number from 1 to %(max)d") % {"max": MAX_LIMIT}]}
            )
        return Response(patrols.rows(found, int(raw)))


class PatrolFiguresView(FieldAPIView):
    @extend_schema(
        parameters=[OpenApiParameter("by", str, enum=["worker", "grid"]), P_FROM, P_TO],
        responses=FiguresRowSerializer(many=True),
    )
    def get(self, request):
        """Patrols, hours and kilometres per worker or grid in the period."""
        by = request.query_params.get("by", "worker")
        if by not in ("worker", "grid"):
            raise ValidationError({"by": [_("worker or grid")]})
        start, end = period(request)
        return Response(patrols.figures(request.user, by, start, end))
