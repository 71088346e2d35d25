"""Sensors API: bulk ingest of heartbeats and readings (device and gateway tokens only) and
a device's readings series (people who may see the device)."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from grids.api.parsers import RowsJSONParser
from sensors.api.auth import DeviceTokenAuthentication, IsDevice
from sensors.models import Sensor
from sensors.services import readings
from sensors.services.ingest import ingest

# --- schema only: the service checks rows itself, to report each bad one ----------------


class ReadingRowSerializer(serializers.Serializer):
    sensor = serializers.CharField(help_text="the device's code")
    at = serializers.DateTimeField(help_text="ISO-8601 with the UTC offset")
    values = serializers.DictField(help_text="checked against the type's readings schema")


class HeartbeatRowSerializer(serializers.Serializer):
    sensor = serializers.CharField()
    at = serializers.DateTimeField()
    status = serializers.CharField(required=False, help_text="online or fault")


class IngestRequestSerializer(serializers.Serializer):
    readings = ReadingRowSerializer(many=True, required=False)
    heartbeats = HeartbeatRowSerializer(many=True, required=False)


class AcceptedSerializer(serializers.Serializer):
    readings = serializers.IntegerField()
    heartbeats = serializers.IntegerField()


class RejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="the row's index in its list")
    kind = serializers.CharField(help_text="reading or heartbeat")
    sensor = serializers.CharField(allow_null=True)
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class IngestResultSerializer(serializers.Serializer):
    accepted = AcceptedSerializer()
    duplicates = serializers.IntegerField(help_text="readings stored before (resent)")
    rejected = RejectionSerializer(many=True)


class ReadingSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    values = serializers.DictField()


class SeriesSerializer(serializers.Serializer):
    sensor = serializers.IntegerField()
    code = serializers.CharField()
    limit = serializers.IntegerField()
    readings = ReadingSerializer(many=True)


# --- views ---------------------------------------------------------------------------------


class IngestView(APIView):
    """Heartbeats and readings in bulk, from a gateway or a device token. Good rows are
    stored and bad ones listed; when every row is bad the answer is 400."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]
    # A bad string refuses its row, not the batch.
    parser_classes = [RowsJSONParser]

    @extend_schema(
        request=IngestRequestSerializer,
        responses={200: IngestResultSerializer},
        summary="Ingest heartbeats and readings",
    )
    def post(self, request):
        result = ingest(request.user.holder, request.data)
        return Response(result.as_dict())


def _time(request, name: str) -> dt.datetime | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError({name: [_("an ISO-8601 time is expected")]}) from exc
    # The series reaches a week either side of a bound: the first and last years of
    # Python's calendar would overflow, and no reading is stamped in them.
    if not 1 < at.year < 9999:
        raise ValidationError({name: [_("a time between the years 2 and 9998 is expected")]})
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


class SeriesView(APIView):
    """A device's readings, newest first."""

    @extend_schema(
        parameters=[
            OpenApiParameter("sensor", OpenApiTypes.INT, required=True),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="default: 7 days"),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="default: now"),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description=f"default {readings.SERIES_LIMIT}"
            ),
        ],
        responses={200: SeriesSerializer},
        summary="A device's readings",
    )
    def get(self, request):
        params = request.query_params
        try:
            sensor_id = int(params.get("sensor", ""))
            limit = int(params.get("limit") or readings.SERIES_LIMIT)
        except ValueError as exc:
            raise ValidationError({"sensor": [_("sensor (an id) and limit are integers")]}) from exc
        sensor = get_object_or_404(
            Sensor.objects.visible_to(request.user).only("pk", "code"), pk=sensor_id
        )
        limit = max(1, min(limit, readings.SERIES_MAX))
        rows = readings.series(sensor, _time(request, "since"), _time(request, "until"), limit)
        return Response(
            {
                "sensor": sensor.pk,
                "code": sensor.code,
                "limit": limit,
                "readings": ReadingSerializer(rows, many=True).data,
            }
        )


urlpatterns = [
    path("ingest/", IngestView.as_view(), name="sensor-ingest"),
    path("readings/", SeriesView.as_view(), name="sensor-readings"),
]
