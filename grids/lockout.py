"""Login throttling (issue #15, ASVS 2.2.1) with django-axes: wrong passwords are counted per
account (from any address) and per address (for any account), over the cool-off window.

An account locks after GRIDLINE_LOGIN_FAILURE_LIMIT failures, an address after
GRIDLINE_LOGIN_ADDRESS_LIMIT: a street office behind one NAT address has many staff who
mistype, so the address limit is the higher one, and it still stops one machine spraying one
password over every account. Axes compares a single count with a single limit, so the address
count is scaled onto the account limit. Locked, the login pages answer 429 with a Chinese page
and the token endpoint 429 with the API's JSON error; both carry Retry-After. Administrators
unlock from the admin (访问尝试: delete the rows) or with `manage.py axes_reset_username <name>`
(`axes_reset_ip`, `axes_reset` for everyone)."""

from __future__ import annotations

import math

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.api.errors import is_api


def _scaled(address_failures: int) -> int:
    """The address count on the account's scale: the address limit maps onto the account's."""
    return address_failures * settings.AXES_FAILURE_LIMIT // settings.GRIDLINE_LOGIN_ADDRESS_LIMIT


class LoginLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with a separate, higher limit for an address than for an
    account. AXES_LOCKOUT_PARAMETERS is ["username", "ip_address"]: the first query set is
    the account's attempts, the second the address's."""

    def get_failures(self, request, credentials=None) -> int:
        by_account, by_address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        return max(by_account, _scaled(by_address))


class LockoutBackend(AxesStandaloneBackend):
    """Axes' backend (first in AUTHENTICATION_BACKENDS: it refuses a locked-out login before
    any password is checked). A call without a request is no login over HTTP (a shell, the
    test client's login()): there is no address to count, so it is passed on unthrottled
    instead of failing. Every login door over HTTP passes its request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def retry_after_seconds(request: HttpRequest, credentials: dict | None) -> int:
    """Seconds until the newest counted failure leaves the cool-off window."""
    cool_off = get_cool_off(request)
    if cool_off is None:
        return 0
    latest = None
    for attempts in LoginLockoutHandler().get_user_attempts(request, credentials):
        newest = attempts.aggregate(t=Max("attempt_time"))["t"]
        if newest is not None and (latest is None or newest > latest):
            latest = newest
    if latest is None:
        return math.ceil(cool_off.total_seconds())
    remaining = (latest + cool_off - timezone.now()).total_seconds()
    return max(1, math.ceil(remaining))


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return _(
        "Too many failed logins for this account or from this address. Try again in "
        "%(minutes)d minutes, or ask an administrator to unlock the account."
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with Retry-After, JSON for the API, a page for people."""
    seconds = retry_after_seconds(request, credentials)
    message = lockout_message(seconds)
    # The API's paths (HTTP Basic on /ogc/ from desktop GIS clients included) answer JSON.
    if is_api(request):
        response = JsonResponse(
            {"status": 429, "errors": [{"code": "locked_out", "message": message}]},
            status=429,
        )
    else:
        response = render(request, "registration/locked.html", {"message": message}, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


def client_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the caller's address. Behind GRIDLINE_TRUSTED_PROXIES reverse
    proxies that each append to X-Forwarded-For, the address the outermost one saw (entries
    further left are the client's own word, and it could claim any address to dodge the
    per-address count); without a proxy, the socket's address."""
    count = settings.GRIDLINE_TRUSTED_PROXIES
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR")
