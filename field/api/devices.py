"""Devices over the field API (issue #18): a grid worker's phone logs in once
(POST /api/field/devices/), staff list and revoke devices, and a wiped phone says so."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from field.api.auth import FieldAPIView, refuse_non_workers, secret_of
from field.services import devices
from grids.api.parsers import JSONParser


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    name = serializers.CharField(
        max_length=100, help_text=gettext_lazy("what the phone is called, e.g. 张三的手机")
    )


def device_row(device) -> dict:
    user = device.user
    return {
        "id": device.pk,
        "user": {
            "username": user.username,
            "name": devices.person(user),
            "grid": user.grid.name if user.grid_id else None,
        },
        "name": device.name,
        "created_at": device.created_at,
        "last_sync_at": device.last_sync_at,
        "revoked_at": device.revoked_at or device.token.revoked_at,
        "wiped_at": device.wiped_at,
    }


class DevicesView(FieldAPIView):
    parser_classes = [JSONParser]

    def _login(self) -> bool:
        # The schema generator asks without a request.
        request = getattr(self, "request", None)
        return request is not None and request.method == "POST"

    def get_authenticators(self):
        # The login has no token yet; the list needs one (or a session).
        return [] if self._login() else super().get_authenticators()

    def get_permissions(self):
        return [AllowAny()] if self._login() else super().get_permissions()

    @extend_schema(request=LoginSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        """Log a grid worker's phone in: a device token (shown once) and ME."""
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The Django request, as POST /api/auth/token/ passes it: django-axes counts the
        # failure and its middleware answers a locked-out caller 429.
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Unable to log in with provided credentials.")]},
                code="authorization",
            )
        refuse_non_workers(user)
        device, secret = devices.register(
            user,
            data.validated_data["name"],
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response(
            {
                "token": secret,
                "device": {"id": device.pk, "name": device.name, "created_at": device.created_at},
                "me": devices.me(user),
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses={200: {"type": "array", "items": {"type": "object"}}})
    def get(self, request):
        """Devices of the grid workers in the caller's jurisdiction (a worker: their own)."""
        rows = devices.visible_to(request.user).order_by("-created_at", "-id")[:500]
        return Response([device_row(d) for d in rows])


class RevokeView(FieldAPIView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        """Revoke a device and its token; the phone wipes its data on its next contact."""
        # Out of the caller's jurisdiction is absent (404), as anything else; a grid worker
        # may revoke their own (a lost phone, from the new one).
        device = devices.visible_to(request.user).filter(pk=pk).first()
        if device is None:
            raise exceptions.NotFound(_("There is no such device."))
        devices.revoke(device, request.user)
        device.refresh_from_db()
        return Response(device_row(device))


class WipedView(APIView):
    """The phone cleared its data after a 401 device_revoked: POSTed with the revoked token,
    which is no authentication any more, so the view reads it itself."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        secret = secret_of(request)
        token = devices.find_any(secret) if secret else None
        if token is None or not devices.mark_wiped(token):
            raise exceptions.NotFound(_("No revoked device with this token."))
        return Response(status=status.HTTP_204_NO_CONTENT)
