"""Authentication of the field API (issue #18). Every /api/field/ view subclasses FieldAPIView
(or uses FieldAPIMixin with a DRF generic view): a phone whose device was revoked (or whose
token was revoked by a logout or a new password, or whose user was deactivated) is answered

    401 {"status": 401, "errors": [{"code": "device_revoked", ...}], "wipe": true}

and an expired token 401 `not_authenticated` with "wipe": true too: either way the phone
deletes its working set and returns to the login. No credentials or an unknown token is 401
with "wipe": false: the phone asks for a login and keeps its unsent work. Sessions are
accepted as well, for the main site's pages (community staff revoking devices)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from field.services import devices
from grids.api.authentication import KEYWORD
from grids.services import tokens


class DeviceRevoked(exceptions.AuthenticationFailed):
    default_code = "device_revoked"


class DeviceExpired(exceptions.AuthenticationFailed):
    """A known device token past its lifetime (GRIDLINE_DEVICE_TOKEN_DAYS without a sync)."""

    default_code = "not_authenticated"


# The 401s after which the phone deletes its data. Not after a request without credentials or
# with a token the server does not know (a proxy dropping the header, a restored database):
# the phone then asks for a login and keeps its unsent work.
WIPE = (DeviceRevoked, DeviceExpired)


def secret_of(request) -> str | None:
    """The token in `Authorization: Token <secret>`, or None when there is no such header."""
    header = authentication.get_authorization_header(request).split()
    if not header or header[0].lower() != KEYWORD.lower().encode():
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed(_("The header is 'Authorization: Token <token>'."))
    try:
        return header[1].decode()
    except UnicodeError as exc:
        raise exceptions.AuthenticationFailed(_("The token is not text.")) from exc


def refuse_non_workers(user) -> None:
    """403 field_app_grid_workers_only: the app and its working set are a grid worker's."""
    if not devices.may_use_field_app(user):
        raise exceptions.PermissionDenied(
            _(
                "The field app is for grid workers. Please use the main site "
                "(the same address without /field/) on this phone."
            ),
            code="field_app_grid_workers_only",
        )


class FieldTokenAuthentication(authentication.BaseAuthentication):
    """People's tokens (device or API kind) as grids' ApiTokenAuthentication accepts them,
    telling a revoked one from an unknown or expired one."""

    def authenticate(self, request):
        secret = secret_of(request)
        if secret is None:
            return None
        token = devices.find_any(secret)
        if token is None:
            raise exceptions.AuthenticationFailed(
                _("Unknown, expired or revoked token."), code="not_authenticated"
            )
        if devices.is_revoked(token):
            raise DeviceRevoked(
                _("This device was signed out. Its data is cleared; sign in again."),
                code="device_revoked",
            )
        if not token.is_active:
            raise DeviceExpired(_("Unknown, expired or revoked token."), code="not_authenticated")
        tokens.touch(token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return KEYWORD


class FieldTokenScheme(OpenApiAuthenticationExtension):
    """In the schema: `Authorization: Token`, as the rest of the API (device tokens too)."""

    target_class = "field.api.auth.FieldTokenAuthentication"
    name = "fieldTokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`, from POST /api/field/devices/ (a phone) or "
            "POST /api/auth/token/",
        }


class FieldAPIMixin:
    """The field API's authentication and the "wipe" flag on its 401 answers."""

    # The token first: its header makes a refused request 401 (with WWW-Authenticate), not
    # 403 as DRF answers when the first class is the session's.
    authentication_classes = [FieldTokenAuthentication, authentication.SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if response is not None and response.status_code == 401:
            response.data["wipe"] = isinstance(exc, WIPE)
        return response


class FieldAPIView(FieldAPIMixin, APIView):
    """The base of every /api/field/ view (OUTBOX's too)."""
