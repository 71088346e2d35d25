"""What both event streams send (live/asgi.py, the server's; live/views.py, the fallback
under WSGI servers): frames, the catch-up after a Last-Event-ID, and the reset when the log
no longer holds what a client missed."""

from __future__ import annotations

import json

from django.db.models import Min

from live import sql
from live.models import Event

RETRY_MS = 2000
HEARTBEAT_SECONDS = 15.0
# A client further behind than this many events reloads its figures instead (a reset).
CATCH_UP_LIMIT = 5000


class BadLastId(ValueError):
    pass


def data_of(event: Event) -> dict:
    return {
        "id": event.id,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "layers": list(event.layers),
        "object": event.object,
    }


def frame(event: Event) -> bytes:
    body = json.dumps(data_of(event), ensure_ascii=False, separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.kind}\ndata: {body}\n\n".encode()


def hello(newest: int) -> bytes:
    """The first frame: the retry delay, and the id the browser sends back after a drop even
    when no event came meanwhile (an event, not an id-only frame: browsers differ there)."""
    return f'retry: {RETRY_MS}\nid: {newest}\nevent: hello\ndata: {{"id":{newest}}}\n\n'.encode()


def heartbeat(newest: int | None = None) -> bytes:
    # A comment keeps proxies and the browser from timing the stream out; with the id the
    # events this user may not see are not scanned again after a reconnect.
    if newest is None:
        return b": hb\n\n"
    return f": hb\nid: {newest}\n\n".encode()


def reset(newest: int) -> bytes:
    body = json.dumps({"id": newest, "kind": "reset", "layers": [], "object": {}})
    return f"id: {newest}\nevent: reset\ndata: {body}\n\n".encode()


def parse_last(header: str | None, query: str | None) -> int | None:
    raw = header if header not in (None, "") else query
    if raw in (None, ""):
        return None
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 18:
        raise BadLastId(raw)
    return int(raw)


def catch_up(scope, last: int | None) -> tuple[list[Event], bool, int]:
    """(events after `last` the scope sees, whether a reset is due instead, the newest id).

    No `last`: nothing to catch up, the stream starts at the newest id. A `last` newer than
    any id (another database), older than what the log keeps (retention), or more than
    CATCH_UP_LIMIT behind: a reset."""
    newest = sql.newest_id()
    if last is None or last == newest:
        return [], False, newest
    if last > newest:
        return [], True, newest
    oldest = Event.objects.aggregate(lo=Min("id"))["lo"]
    # Ids between `last` and the oldest kept were pruned (or rolled back: rare).
    if oldest is None or last < oldest - 1:
        return [], True, newest
    rows = list(Event.objects.filter(id__gt=last).order_by("id")[: CATCH_UP_LIMIT + 1])
    if len(rows) > CATCH_UP_LIMIT:
        return [], True, newest
    return [e for e in rows if scope.sees(e)], False, newest


def since(last: int, seen_window: int = 200) -> list[Event]:
    """Events after `last`, and those of the last `seen_window` ids below it: an id taken
    by a transaction that commits after a later one arrives late (callers skip ids they
    already handled)."""
    return list(Event.objects.filter(id__gt=max(last - seen_window, 0)).order_by("id"))
