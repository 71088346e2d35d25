"""Who may read /ogc/: the API's token and session, and HTTP Basic for the desktop clients
that speak nothing else (issue #19, Security).

HTTP Basic sends the password with every request, so settings.GRIDLINE_OGC_BASIC_AUTH says
where it is accepted: "tls" (only over HTTPS: request.is_secure(), which honours the proxy
header of the production profile), "any" (a closed network without TLS) or "off". It goes
through django.contrib.auth.authenticate() with the request, so django-axes counts a wrong
password and refuses a locked-out account as at every other login door (grids/lockout.py).

Basic is listed first: DRF answers "not authenticated" with the first class's challenge, so
a client without credentials gets 401 and `WWW-Authenticate: Basic realm="Gridline"`, which
is what makes QGIS and GDAL ask for (or send) the password.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from grids.api.authentication import ApiTokenAuthentication

REALM = "Gridline"

# A desktop client sends Basic with every request (a page of features, each tile of a map):
# checking the password hash each time (PBKDF2, about half a second of CPU) would make every
# page slow. A verified pair is remembered in this process for a short while, keyed by an
# HMAC of the pair (never the password itself), with the password hash it was checked
# against: a password change alters the hash and ends the memory at once, so does
# deactivation (the user is read afresh each time).
REMEMBER_SECONDS = 300
REMEMBER_MAX = 1000
_remembered: dict[str, tuple[int, str, float]] = {}
_remembered_lock = threading.Lock()


class Locked(exceptions.Throttled):
    """django-axes locked the account or the address out: 429 with Retry-After."""

    default_code = "locked_out"


def _key(username: str, password: str) -> str:
    secret = settings.SECRET_KEY.encode()
    return hmac.new(secret, f"{username}\0{password}".encode(), hashlib.sha256).hexdigest()


def _user_query():
    return get_user_model()._default_manager.select_related(
        "region", "grid__community", "department"
    )


def _recall(key: str):
    with _remembered_lock:
        found = _remembered.get(key)
    if found is None:
        return None
    user_id, password_hash, until = found
    if until < time.monotonic():
        return None
    user = _user_query().filter(pk=user_id, is_active=True).first()
    if user is None or not hmac.compare_digest(user.password, password_hash):
        return None
    return user


def _remember(key: str, user) -> None:
    with _remembered_lock:
        if len(_remembered) >= REMEMBER_MAX:
            now = time.monotonic()
            for stale in [k for k, (_u, _p, until) in _remembered.items() if until < now]:
                del _remembered[stale]
            if len(_remembered) >= REMEMBER_MAX:
                _remembered.clear()
        _remembered[key] = (user.pk, user.password, time.monotonic() + REMEMBER_SECONDS)


def forget_all() -> None:
    """Tests: start without remembered passwords."""
    with _remembered_lock:
        _remembered.clear()


class BasicAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"basic":
            return None
        policy = settings.GRIDLINE_OGC_BASIC_AUTH
        if policy == "off":
            raise exceptions.AuthenticationFailed(
                _("HTTP Basic is turned off on this server: send an API token instead.")
            )
        if policy == "tls" and not request.is_secure():
            raise exceptions.AuthenticationFailed(
                _(
                    "HTTP Basic is accepted only over HTTPS: use https:// or send an API "
                    "token (Authorization: Token <token>)."
                )
            )
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("The header is 'Authorization: Basic <base64>'.")
            )
        try:
            username, sep, password = (
                base64.b64decode(header[1], validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeError) as exc:
            raise exceptions.AuthenticationFailed(
                _("The Basic credentials are not base64 of 'username:password'.")
            ) from exc
        if not sep or not username or "\x00" in username or "\x00" in password:
            raise exceptions.AuthenticationFailed(
                _("The Basic credentials are not base64 of 'username:password'.")
            )
        key = _key(username, password)
        user = _recall(key)
        if user is not None:
            return user, None
        django_request = request._request
        user = authenticate(django_request, username=username, password=password)
        if user is None:
            if getattr(django_request, "axes_locked_out", False):
                # Axes' middleware replaces the answer with its own 429 (Retry-After).
                raise Locked()
            raise exceptions.AuthenticationFailed(_("Invalid username or password."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        _remember(key, user)
        return user, None

    def authenticate_header(self, request) -> str:
        return f'Basic realm="{REALM}"'


class BasicScheme(OpenApiAuthenticationExtension):
    target_class = "ogc.auth.BasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "user name and password (over HTTPS unless the server allows "
            "otherwise: GRIDLINE_OGC_BASIC_AUTH)",
        }


AUTHENTICATION_CLASSES = [
    BasicAuthentication,
    ApiTokenAuthentication,
    authentication.SessionAuthentication,
]
PERMISSION_CLASSES = [permissions.IsAuthenticated]
