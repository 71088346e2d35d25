"""What both event streams send (live/asgi.py, the server's; live/views.py, the fallback
under WSGI servers): frames, the catch-up after a Last-Event-ID, and the reset when the log
no longer holds what a client missed."""

from __future__ import annotations

import json

from django.db.models import Max, Min

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
    # ASCII digits only: str.isdigit() also takes "²" (a Last-Event-ID byte 0xB2 read as
    # latin-1), which int() refuses.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise BadLastId(raw)
    return int(raw)


def catch_up(scope, last: int | None) -> tuple[list[Event], bool, int]:
    """(events after `last` the scope sees, whether a reset is due instead, the hello id).

    No `last`: nothing to catch up. A `last` newer than any id handed out (another
    database), older than what the log keeps (retention), or more than CATCH_UP_LIMIT
    behind: a reset.

    The hello id is the newest committed row, not the sequence: an id handed out to a
    transaction still open is below the sequence's value, and a browser that reconnected
    from that value would never get the event when it commits. From the newest committed
    id it asks again for what came after (a duplicate at worst, which the page ignores).
    An empty log (retention) has no committed row: then the sequence."""
    top = sql.newest_id()
    span = Event.objects.aggregate(lo=Min("id"), hi=Max("id"))
    newest = span["hi"] or top
    if last is None or last == top:
        return [], False, newest
    if last > top:
        return [], True, newest
    # Ids between `last` and the oldest kept were pruned (or rolled back: rare).
    if span["lo"] is None or last < span["lo"] - 1:
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
