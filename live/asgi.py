"""/events/ as an ASGI handler: the server's path (config/asgi.py routes it here, everything
else goes to the WSGI app in a thread pool). A stream holds no thread: the session is read
once in a thread, then it is a coroutine waiting on its queue, its heartbeat and the
client's disconnect; a disconnect removes it from the hub at once."""

from __future__ import annotations

import asyncio
import contextlib
from http.cookies import SimpleCookie
from importlib import import_module
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.db import close_old_connections
from django.utils import translation

from grids.resilience import is_outage
from live import errors, stream
from live.hub import hub
from live.scope import NOBODY, scope_of

# The session is read again this often, whether events flow or not: a revoked kiosk or a
# deactivated or logged-out user stops receiving within it.
RECHECK_SECONDS = 60.0
# A new stream waits this long for the process's listener (PostgreSQL away at the process's
# first stream), then answers 503: the browser retries, no response hangs headerless.
START_SECONDS = 10.0


class _Request:
    """What django.contrib.auth.get_user reads: the session."""

    def __init__(self, session):
        self.session = session


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _session_key(scope) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    cookie = SimpleCookie()
    try:
        cookie.load(raw)
    except Exception:  # a malformed cookie header is no session
        return None
    morsel = cookie.get(settings.SESSION_COOKIE_NAME)
    return morsel.value if morsel else None


def _scope_for(session_key: str | None):
    """The user's scope from the session store (a thread: the ORM is synchronous)."""
    try:
        if not session_key:
            return NOBODY
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        return scope_of(get_user(_Request(store)))
    finally:
        # As after a request: the pooled thread keeps its connection for the next stream
        # (a reconnect storm after a restart opens no connection per stream).
        close_old_connections()


def _catch_up(scope, last):
    try:
        return stream.catch_up(scope, last)
    finally:
        close_old_connections()


async def _refuse(send, answer: tuple[int, bytes], headers=()) -> None:
    status, body = answer
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _unavailable(send, scope) -> None:
    """PostgreSQL (or the session cache) away: the 503 of grids.resilience, not a bare 500
    and a traceback per reconnecting browser."""
    retry = str(settings.GRIDLINE_RETRY_AFTER_SECONDS).encode()
    with translation.override(_language(scope)):
        await _refuse(send, errors.unavailable(), [(b"retry-after", retry)])


def _language(scope) -> str:
    accept = _header(scope, b"accept-language") or ""
    return "en" if accept.lower().startswith("en") else "zh-hans"


async def events_app(scope, receive, send) -> None:
    with translation.override(_language(scope)):
        if scope.get("method") != "GET":
            body = errors.body(405, "method_not_allowed", "GET", None)
            await _refuse(send, (405, body))
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        try:
            last = stream.parse_last(
                _header(scope, b"last-event-id"), (query.get("last") or [None])[0]
            )
        except stream.BadLastId as exc:
            await _refuse(send, errors.bad_last_id(str(exc)))
            return
        key = _session_key(scope)
        try:
            user_scope = await sync_to_async(_scope_for, thread_sensitive=False)(key)
        except Exception as exc:
            if not is_outage(exc):
                raise
            await _unavailable(send, scope)
            return
        if user_scope is NOBODY:
            await _refuse(send, errors.not_logged_in())
            return
    await _stream(scope, receive, send, key, user_scope, last)


async def _stream(scope, receive, send, key, user_scope, last) -> None:
    the_hub = hub()
    sub = the_hub.subscribe(user_scope)
    disconnected = asyncio.ensure_future(_disconnect(receive))
    starting = asyncio.ensure_future(the_hub.started.wait())
    try:
        await asyncio.wait(
            {disconnected, starting},
            timeout=START_SECONDS,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if disconnected.done():
            return
        if not starting.done():
            await _unavailable(send, scope)
            return
        try:
            rows, must_reset, newest = await sync_to_async(_catch_up, thread_sensitive=False)(
                user_scope, last
            )
        except Exception as exc:
            if not is_outage(exc):
                raise
            await _unavailable(send, scope)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-cache, no-store"),
                    (b"x-accel-buffering", b"no"),
                ],
            }
        )
        first = stream.hello(newest) + (stream.reset(newest) if must_reset else b"")
        first += b"".join(stream.frame(e) for e in rows)
        await send({"type": "http.response.body", "body": first, "more_body": True})
        sent = {e.id for e in rows}
        await _pump(send, sub, disconnected, sent, key)
        await close(send)
    finally:
        the_hub.unsubscribe(sub)
        disconnected.cancel()
        starting.cancel()


async def _pump(send, sub, disconnected, sent, key) -> None:
    loop = asyncio.get_running_loop()
    recheck = loop.time() + RECHECK_SECONDS
    while True:
        # Checked before every wait, not only after a quiet heartbeat: a busy stream gets an
        # event more often than every HEARTBEAT_SECONDS and would never be re-checked.
        if loop.time() >= recheck:
            recheck = loop.time() + RECHECK_SECONDS
            try:
                fresh = await sync_to_async(_scope_for, thread_sensitive=False)(key)
            except Exception as exc:
                # An outage under an open stream: it keeps its scope and asks again soon.
                if not is_outage(exc):
                    raise
                recheck = loop.time() + stream.HEARTBEAT_SECONDS
                fresh = sub.scope
            if fresh is NOBODY:
                return
            sub.scope = fresh
        getting = asyncio.ensure_future(sub.queue.get())
        done, _ = await asyncio.wait(
            {getting, disconnected},
            timeout=stream.HEARTBEAT_SECONDS,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if getting not in done:
            getting.cancel()
        if disconnected in done:
            return
        if sub.overflowed:
            return  # too far behind: the browser reconnects and catches up from its id
        if getting in done:
            chunk = b""
            event = getting.result()
            while True:
                if event.id in sent:
                    sent.discard(event.id)  # caught up already
                else:
                    chunk += stream.frame(event)
                try:
                    event = sub.queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            continue
        await send({"type": "http.response.body", "body": stream.heartbeat(), "more_body": True})


async def _disconnect(receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def close(send) -> None:
    with contextlib.suppress(Exception):
        await send({"type": "http.response.body", "body": b"", "more_body": False})
