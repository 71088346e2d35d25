"""A restart of PostgreSQL or Redis is a short degradation, not an outage (#15, item 9).

While the database or the cache is away, a request that needs it gets a 503 with
`Retry-After` (the API's JSON error body, or a short page in the user's language), never a
500 traceback; the next request reconnects (CONN_HEALTH_CHECKS for PostgreSQL, the pool's
check-out test and retries for Redis). `/healthz` says whether both answer, for Docker's
health check and the supervision loop of `./gridline up`.

Two places catch the errors: the middleware for what a view raises (most of them, logged as
a warning without a traceback), and `server_error` (handler500) for what a middleware raises
before the view runs (the session or the user read from Redis).
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import server_error as django_server_error
from redis.exceptions import AuthenticationError as RedisAuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("gridline.resilience")

# What a restart of PostgreSQL (a connection terminated, refused, or closed under us) or of
# Redis looks like from inside a request. Only connection-level failures count: a deadlock,
# a statement timeout or a full disk is an OperationalError too, but a bug or an overload to
# be seen as a 500, not a "restarting, retry" that clients would loop on.
OUTAGE_SQLSTATES = ("57P01", "57P02", "57P03")  # admin/crash shutdown, cannot connect now

# The classes an outage may raise, for code that retries (the worker's jobs) or probes
# (/healthz) rather than answers a user: there a wider net costs only a retry.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
)


def _database_outage(exc: BaseException) -> bool:
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    # Django's error wraps psycopg's (`raise … from`); a failure before or without a server
    # answer (refused, closed, terminated) has no SQLSTATE, a server's has one.
    state = getattr(exc.__cause__, "sqlstate", None)
    return state is None or state.startswith("08") or state in OUTAGE_SQLSTATES


def _redis_outage(exc: BaseException) -> bool:
    return isinstance(exc, RedisConnectionError | RedisTimeoutError) and not isinstance(
        exc, RedisAuthenticationError
    )


def is_outage(exc: BaseException | None) -> bool:
    """The error, or one it was raised from (`raise X from exc`), is an outage. Only the
    explicit cause is followed: an unrelated error raised while handling an outage is not
    an outage."""
    seen = 0
    while exc is not None and seen < 10:
        if _database_outage(exc) or _redis_outage(exc):
            return True
        exc = exc.__cause__
        seen += 1
    return False


def unavailable(request) -> HttpResponse:
    """The 503: JSON under /api/, otherwise a short page with nothing from the database."""
    retry_after = str(settings.GRIDLINE_RETRY_AFTER_SECONDS)
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "status": 503,
                "errors": [
                    {
                        "code": "service_unavailable",
                        "message": _(
                            "The database or the cache is restarting; try again in a few seconds."
                        ),
                    }
                ],
            },
            status=503,
        )
    else:
        # No request context: the context processors would read the user from the
        # database that is away.
        response = HttpResponse(
            render_to_string(
                "grids/unavailable.html",
                {"retry_after": retry_after, "reload": request.method in ("GET", "HEAD")},
            ),
            status=503,
        )
    response["Retry-After"] = retry_after
    response["Cache-Control"] = "no-store"
    return response


class OutageMiddleware:
    """Turns an outage error raised by a view into the 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_outage(exception):
            return None
        response = unavailable(request)
        # Logged here, as a warning without a traceback: not again as a server error.
        response._has_been_logged = True
        log.warning(
            "%s %s: 503, %s: %s",
            request.method,
            request.path,
            type(exception).__name__,
            str(exception).strip().splitlines()[0] if str(exception).strip() else "",
        )
        return response


def server_error(request, *args, **kwargs):
    """handler500: an outage raised outside a view (in a middleware) is still a 503."""
    if is_outage(sys.exc_info()[1]):
        return unavailable(request)
    return django_server_error(request, *args, **kwargs)


@csrf_exempt
@never_cache
def healthz(request):
    """200 when PostgreSQL and the cache both answer, else 503 naming which does not."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except OUTAGE_ERRORS as exc:
        log.warning("healthz: database: %s", exc)
        checks["database"] = "unavailable"
    try:
        cache.set("gridline:healthz", 1, 10)
        checks["cache"] = "ok" if cache.get("gridline:healthz") == 1 else "unavailable"
    except OUTAGE_ERRORS as exc:
        log.warning("healthz: cache: %s", exc)
        checks["cache"] = "unavailable"
    ok = all(value == "ok" for value in checks.values())
    response = JsonResponse({"status": "ok" if ok else "unavailable", **checks})
    if not ok:
        response.status_code = 503
        response["Retry-After"] = str(settings.GRIDLINE_RETRY_AFTER_SECONDS)
        response._has_been_logged = True  # the warnings above say what is away
    return response
