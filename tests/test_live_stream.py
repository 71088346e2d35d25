"""The server's event stream (#16, item 4): config.asgi routes /events/ to the async handler
(everything else to the WSGI app); a stream gets the events of its scope within the hub's
wake-up, catches up after a Last-Event-ID, refuses the anonymous, and leaves nothing behind
when the client goes. Driven in-process through the ASGI interface on real PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from django.db import connection
from django.test import Client

from config.asgi import application
from live import services as live_services
from live.hub import hub, stop_hub

pytestmark = pytest.mark.django_db(transaction=True)


def cookie_of(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def publish_for(grid: int) -> int:
    try:
        return live_services.publish(
            "incident.created", {"grid": grid}, rule="incident", layers=["incidents"], grid=grid
        ).id
    finally:
        connection.close()


class Call:
    """One request through the ASGI application; `frames` are the SSE frames received."""

    def __init__(self, path="/events/", headers=(), query=b""):
        self.scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "headers": list(headers),
            "scheme": "http",
            "server": ("127.0.0.1", 80),
            "client": ("127.0.0.1", 5000),
            "http_version": "1.1",
            "root_path": "",
            "asgi": {"version": "3.0"},
        }
        self.status = None
        self.body = b""
        self.gone = asyncio.Event()
        self.requested = False
        self.arrived = asyncio.Event()

    async def receive(self):
        if not self.requested:
            self.requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message):
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = message.get("headers", [])
        else:
            self.body += message.get("body", b"")
            self.arrived.set()

    @property
    def frames(self) -> list[dict]:
        found = []
        for block in self.body.decode().split("\n\n"):
            fields = dict(
                line.split(": ", 1) for line in block.split("\n") if ": " in line and line[0] != ":"
            )
            if "event" in fields:
                found.append({**fields, "data": json.loads(fields["data"])})
        return found

    async def until(self, predicate, seconds=10.0):
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while not predicate(self):
            self.arrived.clear()
            remaining = end - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out; got {self.body!r}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), remaining)


def kinds(call) -> list[str]:
    return [f["event"] for f in call.frames]


def test_a_stream_gets_its_scope_live_and_leaves_nothing_behind(tree, users):
    mine, other = tree.grids[(1, 1, 1)].pk, tree.grids[(2, 2, 2)].pk
    worker_cookie = cookie_of(users.worker)

    async def scenario():
        call = Call(headers=[(b"cookie", worker_cookie)])
        task = asyncio.create_task(application(call.scope, call.receive, call.send))
        await call.until(lambda c: "hello" in kinds(c))
        assert call.status == 200 and len(hub().subscribers) == 1
        theirs = await asyncio.to_thread(publish_for, other)
        ours = await asyncio.to_thread(publish_for, mine)
        await call.until(lambda c: "incident.created" in kinds(c))
        ids = [int(f["id"]) for f in call.frames if f["event"] == "incident.created"]
        assert ids == [ours] and theirs not in ids
        call.gone.set()
        await asyncio.wait_for(task, 5)
        assert not hub().subscribers
        await stop_hub()
        return ours

    ours = asyncio.run(scenario())

    async def reconnect():
        # Back after a drop: the id of the hello before the event, sent as Last-Event-ID.
        call = Call(
            headers=[(b"cookie", worker_cookie), (b"last-event-id", str(ours - 1).encode())]
        )
        task = asyncio.create_task(application(call.scope, call.receive, call.send))
        await call.until(lambda c: "incident.created" in kinds(c))
        call.gone.set()
        await asyncio.wait_for(task, 5)
        await stop_hub()
        return call

    again = asyncio.run(reconnect())
    assert [int(f["id"]) for f in again.frames if f["event"] == "incident.created"] == [ours]


def test_the_stream_refuses_the_anonymous_and_a_bad_id(users):
    async def ask(headers=(), query=b""):
        call = Call(headers=headers, query=query)
        await application(call.scope, call.receive, call.send)
        return call.status, json.loads(call.body)

    status, body = asyncio.run(ask())
    assert status == 401 and body["errors"][0]["code"] == "not_authenticated"
    status, body = asyncio.run(ask([(b"cookie", b"sessionid=forged")]))
    assert status == 401
    status, body = asyncio.run(ask([(b"cookie", cookie_of(users.worker))], b"last=x1"))
    assert status == 400 and body["errors"][0]["field"] == "Last-Event-ID"
    status, body = asyncio.run(
        ask([(b"last-event-id", b"\xb2"), (b"cookie", cookie_of(users.worker))])
    )
    assert status == 400 and body["errors"][0]["field"] == "Last-Event-ID"  # review H6


def test_other_paths_go_to_the_wsgi_application(db):
    async def ask(path):
        call = Call(path=path)
        await application(call.scope, call.receive, call.send)
        return call

    # A path that needs no database: the pool's threads keep no connection open after it.
    call = asyncio.run(ask("/favicon.ico"))
    assert call.status == 302 and b"favicon.svg" in dict(call.headers)[b"location"]


def test_a_deactivated_user_stops_receiving_while_events_keep_coming(tree, users, monkeypatch):
    """Review H4: the session was re-read only after a quiet heartbeat, so a busy stream
    (an event more often than every 15 s) kept a revoked kiosk's or deactivated user's
    stream open for as long as it lived."""
    from live import asgi as live_asgi

    monkeypatch.setattr(live_asgi, "RECHECK_SECONDS", 0.5)
    grid = tree.grids[(1, 1, 1)].pk
    cookie = cookie_of(users.worker)

    def deactivate():
        try:
            users.worker.is_active = False
            users.worker.save()
        finally:
            connection.close()

    async def scenario():
        call = Call(headers=[(b"cookie", cookie)])
        task = asyncio.create_task(application(call.scope, call.receive, call.send))
        await call.until(lambda c: "hello" in kinds(c))
        await asyncio.to_thread(deactivate)
        loop = asyncio.get_running_loop()
        end = loop.time() + 10
        while not task.done():
            assert loop.time() < end, "the stream outlived the user"
            await asyncio.to_thread(publish_for, grid)  # events keep flowing
            await asyncio.sleep(0.2)
        assert not hub().subscribers
        await stop_hub()

    asyncio.run(scenario())


def test_events_during_an_outage_answer_503_json_not_500_or_a_hang(users, monkeypatch):
    """Review M7 and L2: PostgreSQL away when a browser reconnects is the usual 503 with
    Retry-After (its EventSource retries), whether the session read fails or the process's
    listener cannot start; never an exception out of the handler or headers never sent."""
    from live import asgi as live_asgi
    from live import hub as live_hub
    from tests.test_restart import database_away

    cookie = cookie_of(users.worker)
    connection.close()

    async def ask():
        call = Call(headers=[(b"cookie", cookie)])
        await asyncio.wait_for(application(call.scope, call.receive, call.send), 20)
        await stop_hub()
        return call

    with database_away(keep_own_connection=False):
        call = asyncio.run(ask())
    assert call.status == 503, call.body
    assert json.loads(call.body)["errors"][0]["code"] == "service_unavailable"
    assert int(dict(call.headers)[b"retry-after"]) > 0
    # The session reads, the listener cannot connect (a port where nothing listens).
    monkeypatch.setattr(live_asgi, "START_SECONDS", 0.5)
    monkeypatch.setattr(
        live_hub, "conninfo", lambda: "host=127.0.0.1 port=9 dbname=x connect_timeout=1"
    )
    call = asyncio.run(ask())
    assert call.status == 503 and json.loads(call.body)["status"] == 503


def test_a_path_prefix_still_routes_events_to_the_async_handler(monkeypatch):
    """Review L7: behind a proxy with a root_path, /prefix/events/ fell into the WSGI
    fallback and held a pool thread per stream."""
    import config.asgi

    seen = []

    async def recorder(scope, receive, send):
        seen.append(scope["path"])

    monkeypatch.setattr(config.asgi, "events_app", recorder)
    call = Call(path="/gridline/events/")
    call.scope["root_path"] = "/gridline"
    asyncio.run(config.asgi.application(call.scope, call.receive, call.send))
    assert seen == ["/gridline/events/"]


def test_the_worker_passes_threads_and_connections_on_and_gthread_refuses_asgi():
    """Review M5: uvicorn_worker reads neither `threads` nor `worker_connections`."""
    import os
    import runpy
    from pathlib import Path
    from types import SimpleNamespace

    from gunicorn import glogging
    from gunicorn.config import Config

    from config.web_worker import Worker

    cfg = Config()
    cfg.set("worker_connections", 77)
    cfg.set("threads", 5)
    worker = Worker(0, os.getpid(), [], None, 30, cfg, glogging.Logger(cfg))
    assert worker.config.limit_concurrency == 77
    before = os.environ.get("GRIDLINE_WEB_THREADS")
    try:
        worker.pool_environment()
        assert os.environ["GRIDLINE_WEB_THREADS"] == "5"
    finally:
        if before is None:
            os.environ.pop("GRIDLINE_WEB_THREADS", None)
        else:
            os.environ["GRIDLINE_WEB_THREADS"] = before
    conf = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    gthread = Config()
    gthread.set("worker_class", "gthread")
    server = SimpleNamespace(cfg=gthread, app=SimpleNamespace(app_uri="config.asgi:application"))
    with pytest.raises(SystemExit, match="gthread"):
        conf["on_starting"](server)
    conf["on_starting"](
        SimpleNamespace(cfg=gthread, app=SimpleNamespace(app_uri="config.wsgi:application"))
    )
