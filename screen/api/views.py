"""The wall screen's API: its figures, and the kiosk logins a centre leaves on its walls.

GET /api/screen/figures/ — everything the screen shows, scoped and cached briefly.
GET/POST /api/screen/kiosks/ — the kiosks of the caller's jurisdiction; a new one answers its
secret and link once. DELETE /api/screen/kiosks/<id>/ — revoke (the screen's sessions end)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from grids.api.errors import error_response
from screen.models import Kiosk
from screen.services import figures, kiosks


class FiguresView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        """KPIs, chart series and the newest incidents and alerts of the caller's
        jurisdiction; recomputed at most every GRIDLINE_SCREEN_FIGURES_SECONDS, sooner after
        an incident or alert was written."""
        response = Response(figures.figures_for(request.user))
        response["Cache-Control"] = "private, no-cache"
        return response


class KioskSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = Kiosk
        fields = ["id", "name", "region", "region_name", "prefix", "created_at", "last_seen_at"]
        read_only_fields = fields


class KioskCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    region = serializers.CharField(
        max_length=20, help_text="code of a district, street or community"
    )


class KioskIssuedSerializer(KioskSerializer):
    secret = serializers.CharField(read_only=True)
    link = serializers.CharField(read_only=True)

    class Meta(KioskSerializer.Meta):
        fields = [*KioskSerializer.Meta.fields, "secret", "link"]
        read_only_fields = fields


class KiosksView(APIView):
    @extend_schema(responses=KioskSerializer(many=True))
    def get(self, request):
        """The active kiosks of the caller's jurisdiction (street and district centres,
        administrators)."""
        rows = kiosks.visible_kiosks(request.user).active().select_related("region")
        return Response(KioskSerializer(rows, many=True).data)

    @extend_schema(request=KioskCreateSerializer, responses={201: KioskIssuedSerializer})
    def post(self, request):
        """A new kiosk for a region of the caller's jurisdiction. Its `secret` and `link`
        are shown in this answer only."""
        body = KioskCreateSerializer(data=request.data)
        region = name = ""
        # Who may not issue hears that first, whatever the body (issue() refuses them).
        if kiosks.may_issue(request.user):
            # Not strings (a number, an object): 400 naming the field, not a 500 in issue().
            body.is_valid(raise_exception=True)
            region, name = body.validated_data["region"], body.validated_data["name"]
        try:
            kiosk, secret = kiosks.issue(request.user, region, name)
        except kiosks.KioskRefused as refused:
            code = status.HTTP_403_FORBIDDEN if refused.code == "not_permitted" else 400
            return error_response(code, [refused.as_error()])
        data = KioskSerializer(kiosk).data
        link = kiosks.link(request, secret)
        return Response({**data, "secret": secret, "link": link}, status=201)


class KioskView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        """Revoke a kiosk: its screens are logged out on their next request."""
        kiosk = get_object_or_404(kiosks.visible_kiosks(request.user).active(), pk=pk)
        kiosks.revoke(kiosk)
        return Response(status=status.HTTP_204_NO_CONTENT)
