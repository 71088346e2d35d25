"""One listener per server process: LISTEN on PostgreSQL, read the new event rows once, hand
each to the connected streams whose scope sees it.

A wake-up reads every row after the newest handled one (and a window below it, for ids
committed late), so bursts cost one query and a lost NOTIFY is made up by the next one or by
the periodic read. The listener and the reader are two async connections: a connection
that is waiting for notifications cannot run a query meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg
from django.db import connections

from live import sql
from live.models import Event

log = logging.getLogger(__name__)

WINDOW = 200
# A read without a wake-up now and then: a NOTIFY lost in a reconnect is still delivered.
IDLE_READ_SECONDS = 5.0
# A stream more than this many events behind is closed: the browser reconnects and catches up.
QUEUE_SIZE = 500


def conninfo() -> str:
    s = connections["default"].settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=s["NAME"],
        user=s.get("USER") or None,
        password=s.get("PASSWORD") or None,
        host=s.get("HOST") or None,
        port=str(s["PORT"]) if s.get("PORT") else None,
        application_name="gridline-live",
    )


class Subscriber:
    __slots__ = ("scope", "queue", "overflowed")

    def __init__(self, scope):
        self.scope = scope
        self.queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False


class Hub:
    def __init__(self):
        self.subscribers: set[Subscriber] = set()
        self.newest = 0
        self.handled: set[int] = set()
        self.task: asyncio.Task | None = None
        self.wake = asyncio.Event()
        self.started = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    # The listener starts with the first stream and runs until the process ends.
    def ensure_running(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())

    def subscribe(self, scope) -> Subscriber:
        sub = Subscriber(scope)
        self.subscribers.add(sub)
        self.ensure_running()
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
            self.task = None

    async def run(self) -> None:
        delay = 1.0
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except (psycopg.OperationalError, OSError) as exc:
                # PostgreSQL restarting: streams stay open, events resume after the
                # reconnect (the first read after it catches up from `newest`).
                log.warning("live listener lost PostgreSQL (%s); again in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            except Exception:
                # A bug must not end live events for the process: logged, then again.
                log.exception("live listener failed; again in %.0f s", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            else:
                delay = 1.0

    async def _listen(self) -> None:
        info = conninfo()
        async with (
            await psycopg.AsyncConnection.connect(info, autocommit=True) as listener,
            await psycopg.AsyncConnection.connect(info, autocommit=True) as reader,
        ):
            await listener.execute(sql.LISTEN)
            if not self.newest:
                cur = await reader.execute(sql.NEWEST_COMMITTED)
                self.newest = (await cur.fetchone())[0]
                self.handled = set()
                lo = self.newest - WINDOW
                cur = await reader.execute(sql.HANDLED_SINCE, [lo])
                self.handled = {row[0] for row in await cur.fetchall()}
            self.started.set()
            waker = asyncio.get_running_loop().create_task(self._wakeups(listener))
            try:
                while True:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), IDLE_READ_SECONDS)
                    self.wake.clear()
                    if waker.done():
                        waker.result()  # the listener's connection failed: raise it here
                    await self._read(reader)
            finally:
                waker.cancel()

    async def _wakeups(self, listener) -> None:
        async for _notify in listener.notifies():
            self.wake.set()

    async def _read(self, reader) -> None:
        cur = await reader.execute(sql.READ_AFTER, [max(self.newest - WINDOW, 0)])
        for row in await cur.fetchall():
            if row[0] in self.handled:
                continue
            event = Event(**dict(zip(sql.READ_FIELDS, row, strict=True)))
            self.handled.add(event.id)
            self.newest = max(self.newest, event.id)
            self.dispatch(event)
        floor = self.newest - 2 * WINDOW
        if len(self.handled) > 4 * WINDOW:
            self.handled = {i for i in self.handled if i > floor}

    def dispatch(self, event: Event) -> None:
        for sub in list(self.subscribers):
            if sub.overflowed or not sub.scope.sees(event):
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.overflowed = True


_hubs: dict[int, Hub] = {}


def hub() -> Hub:
    """The hub of the running event loop (one per server process; tests run several loops)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(id(loop))
    if found is None or found.loop is not loop:
        _hubs.clear()
        found = _hubs[id(loop)] = Hub()
        found.loop = loop
    return found


async def stop_hub() -> None:
    for found in list(_hubs.values()):
        await found.stop()
    _hubs.clear()
