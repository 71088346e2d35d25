"""The signal that data took effect in the past (contract B of issue #17).

Figures of past days may be kept once computed (reports' daily snapshots of derived
indicators). A write whose effect starts before today — a household registered or removed
on a past date, an import of past-dated rows, a boundary change valid from a past day, an
incident back-dated — changes what those days were, so the writer announces it:

    from grids.changes import data_changed_since
    data_changed_since("households", registered_on)

Receivers (reports) drop what they kept for days on or after `since`. `grids` imports no
other app, so it only sends; whoever keeps derived figures connects to `data_changed`.

An edit effective today needs no call: today's figures are never kept.

A writer that knows the grids of what it changed (a household's grid) names them:
`data_changed_since("households", day, grids=[household.grid_id])`. The receiver then drops
only the figures of those grids' districts (a grid's figures of a past day may count rows that
were in another grid then, after a boundary change, but never across a district), instead of
every district's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

# Sent with subject (str: "households", "residents", "buildings", "units", "incidents",
# "grids", ... — the subject keys of reports' definitions), since (date) and grids (a
# frozenset of grid pks the change is in, or None: anywhere).
data_changed = Signal()

# Every subject: a boundary change moves every keyed thing, so every figure may change.
ALL = "*"


def data_changed_since(
    subject: str, since: dt.date | dt.datetime | None, grids: Iterable[int | None] | None = None
) -> None:
    """Announce that `subject`'s data changed from `since` on, in `grids` (None: anywhere;
    a None among them, a row without a grid, also means anywhere). Sent when the current
    transaction commits (at once outside one), so a rolled-back write drops nothing and a
    receiver sees the committed state. Nothing is sent for today or later."""
    if since is None:
        return
    where = None
    if grids is not None:
        where = frozenset(grids)
        if None in where:
            where = None
    if isinstance(since, dt.datetime):
        since = timezone.localtime(since).date() if timezone.is_aware(since) else since.date()
    if since >= timezone.localdate():
        return
    transaction.on_commit(
        lambda: data_changed.send(
            sender=data_changed_since, subject=subject, since=since, grids=where
        )
    )
