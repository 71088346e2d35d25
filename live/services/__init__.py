"""Publishing live events. Feature apps call `publish` inside the transaction that made the
change; the row and the wake-up become visible on commit, and vanish with a rollback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from live import sql
from live.models import Event, Kind, Rule

KINDS = frozenset(Kind.values)
# Prune old rows every this many events (one range delete on the `at` index).
PRUNE_EVERY = 200


def keep() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "GRIDLINE_LIVE_KEEP_HOURS", 48))


def event(
    kind: str,
    obj: dict,
    *,
    rule: str,
    layers: Iterable[str] = (),
    grid: int | None = None,
    community: int | None = None,
    street: int | None = None,
    district: int | None = None,
    departments: Iterable[int] = (),
) -> Event:
    """An unsaved event (for publish_many): `rule` ("incident" or "sensor") and the keys say
    who receives it (live/scope.py)."""
    if kind not in KINDS:
        raise ValueError(f"unknown live event kind {kind!r}")
    if rule not in Rule.values:
        raise ValueError(f"unknown live event rule {rule!r}")
    return Event(
        kind=kind,
        rule=rule,
        at=timezone.now(),
        layers=list(layers),
        object=obj,
        grid_id=grid,
        community_id=community,
        street_id=street,
        district_id=district,
        departments=sorted({d for d in departments if d}),
    )


def publish(kind: str, obj: dict, **keys) -> Event:
    """Record one event; it is streamed on commit to the users who may see its object."""
    return publish_many([event(kind, obj, **keys)])[0]


def publish_many(events: list[Event]) -> list[Event]:
    """Record many events in one insert and wake the listeners once."""
    if not events:
        return []
    # Without a surrounding transaction the insert and the NOTIFY still go together.
    with transaction.atomic():
        saved = Event.objects.bulk_create(events)
        newest = max(e.id for e in saved)
        sql.notify(newest)
        if newest // PRUNE_EVERY != (newest - len(saved)) // PRUNE_EVERY:
            sql.prune(timezone.now() - keep())
    return saved
