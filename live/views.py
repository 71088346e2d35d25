"""/events/ under a WSGI server (runserver, the tests' live_server, a gthread gunicorn): a
streaming response that polls the event log every POLL_SECONDS and ends after
GRIDLINE_LIVE_WSGI_SECONDS, when the browser reconnects with its Last-Event-ID. It holds a
thread while open, so production serves /events/ from the ASGI handler instead
(live/asgi.py, routed in config/asgi.py); both send the same frames."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from live import errors, stream
from live.scope import scope_of

POLL_SECONDS = 0.5
log = logging.getLogger(__name__)


def refusal(answer: tuple[int, bytes]) -> HttpResponse:
    status, body = answer
    return HttpResponse(body, status=status, content_type="application/json")


@require_GET
def events(request):
    if not request.user.is_authenticated:
        return refusal(errors.not_logged_in())
    try:
        last = stream.parse_last(request.headers.get("Last-Event-ID"), request.GET.get("last"))
    except stream.BadLastId as exc:
        return refusal(errors.bad_last_id(str(exc)))
    scope = scope_of(request.user)
    # Read before the response starts: a database error here is the usual 503, not a cut stream.
    rows, must_reset, newest = stream.catch_up(scope, last)
    # What is committed now was caught up or is older than the client's last: only ids that
    # commit later (above, or late below `newest`) are sent.
    handled = {e.id for e in stream.since(newest)} | {e.id for e in rows}
    response = StreamingHttpResponse(
        _frames(scope, rows, must_reset, newest, handled), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"
    return response


def _frames(scope, rows, must_reset, newest, handled):
    lasting = getattr(settings, "GRIDLINE_LIVE_WSGI_SECONDS", 300)
    started = beat = time.monotonic()
    yield stream.hello(newest)
    if must_reset:
        yield stream.reset(newest)
    for event in rows:
        yield stream.frame(event)
    try:
        while time.monotonic() - started < lasting:
            time.sleep(POLL_SECONDS)
            try:
                fresh = stream.since(newest)
            except Exception:
                # The database went away under an open stream (a restart; in the tests, the
                # end of the test). Logged, and the stream ends: the browser reconnects with
                # its Last-Event-ID and is answered as any request is then (503 meanwhile).
                log.warning("live stream ends: the event log cannot be read", exc_info=True)
                return
            for event in fresh:
                if event.id in handled:
                    continue
                handled.add(event.id)
                newest = max(newest, event.id)
                if scope.sees(event):
                    yield stream.frame(event)
            if time.monotonic() - beat >= stream.HEARTBEAT_SECONDS:
                beat = time.monotonic()
                yield stream.heartbeat()
            # Ids below the window of since() are never asked for again.
            handled = {i for i in handled if i > newest - 400}
    finally:
        # The thread was held for minutes: it keeps no connection after the stream (a
        # threaded server's next request may come on another thread).
        connection.close()
