"""Devices and gateways authenticate with a bearer token of their own (`Authorization:
Bearer <token>`), never with a person's session: the ingest endpoint, the analytics webhook
and broadcast acknowledgements take only these. Tokens are stored as sha256 hashes
(sensors.services.registry.issue_token)."""

from __future__ import annotations

from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from sensors.models import Gateway, Sensor
from sensors.services.registry import holder_of

KEYWORD = "Bearer"


@dataclass(frozen=True)
class DeviceCaller:
    """The caller of a device endpoint: a gateway or one device."""

    holder: Gateway | Sensor
    is_authenticated: bool = True
    is_active: bool = True
    is_superuser: bool = False
    role: str = "device"

    @property
    def gateway(self) -> Gateway | None:
        return self.holder if isinstance(self.holder, Gateway) else None

    @property
    def district_id(self) -> int:
        return self.holder.district_id

    def __str__(self) -> str:
        kind = "gateway" if self.gateway else "sensor"
        return f"{kind} {self.holder.code}"


class DeviceTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("the header is 'Authorization: Bearer <token>'")
        try:
            token = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("the token is not text") from exc
        holder = holder_of(token)
        if holder is None:
            raise exceptions.AuthenticationFailed("unknown or revoked device token")
        return DeviceCaller(holder), token

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="devices"'


class IsDevice(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, DeviceCaller)


class IsGateway(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, DeviceCaller) and request.user.gateway is not None


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "sensors.api.auth.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "a gateway's or device's token"}
