"""The webhook camera platforms call with analytics alerts: `POST /api/sensors/alerts/`,
authenticated by the gateway's token (`Authorization: Bearer <token>`)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from sensors.api.auth import DeviceTokenAuthentication, IsGateway
from sensors.api.serializers import AlertResultSerializer, AlertSerializer
from sensors.services.alerts import receive_alert


class AlertView(APIView):
    """An analytics alert of one of the gateway's cameras. 201 with a new incident; 200 when
    it was counted on an open alert nearby (`deduplicated`) or is a resend of an event
    already received (same `event_id`: the first answer's alert and incident)."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsGateway]

    @extend_schema(
        request=AlertSerializer,
        responses={201: AlertResultSerializer, 200: AlertResultSerializer},
    )
    def post(self, request):
        serializer = AlertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        result = receive_alert(
            request.user.gateway,
            event_id=fields["event_id"],
            camera=fields["camera"],
            kind=fields["kind"],
            at=fields["at"],
            confidence=fields.get("confidence"),
            snapshot=fields.get("snapshot", ""),
            description=fields.get("description", ""),
        )
        return Response(
            result.as_dict(),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


urlpatterns = [path("alerts/", AlertView.as_view(), name="sensor-alerts")]
