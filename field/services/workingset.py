"""The pull (GET /api/field/sync/, issue #18): a grid worker's working set, whole or as the
changes since the phone's last sync token.

The token is the state the phone holds, in a few hundred bytes: who and which grid, the time
of the pull that made it, the largest id of each large set, and a stamp (short digest) of
every set. A pull recomputes the stamps; a set whose stamp is unchanged is left out; when
none changed the token is the same, so the view answers 304 to `If-None-Match`.

- Large sets (households, residents, buildings, units: a thousand rows and more) have their
  stamp made from every record's version (one light query each) and send as `upsert` only
  the rows saved since the token's time (less a margin for transactions that committed late)
  or newer than its largest id.
- Small sets (incidents, tasks, …, at most a few hundred records) are built whole; their
  stamp is a digest of their content and they are sent whole when it changed.
Every present set carries `ids`, all its current ids: the phone drops the others."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from field.services import basedata, devices, versions, worklists
from grids import scoping
from grids.services import audit
from maps.registry import get_preset

FORMAT = 1
# Rows saved this long before a pull are sent again by the next delta: a transaction that
# saved a row before the pull and committed after it is not missed.
MARGIN = dt.timedelta(minutes=2)
# 40 bits: two different states of a set share a stamp once in a trillion changes.
STAMP_CHARS = 10

LARGE = {
    "households": (basedata.household_versions, basedata.household_records),
    "residents": (basedata.resident_versions, basedata.resident_records),
    "buildings": (basedata.building_versions, basedata.building_records),
    "units": (basedata.unit_versions, basedata.unit_records),
}
SMALL = {
    "incidents": worklists.incidents,
    "tasks": worklists.tasks,
    "visits": worklists.visits,
    "categories": worklists.categories,
    "ledger": worklists.ledger,
    "notifications": worklists.notifications,
    "changesets": worklists.changesets,
    "patrols": worklists.patrols,
    "needs": worklists.needs,
    "servicekinds": worklists.service_kinds,
}
ORDER = (*LARGE, *SMALL)
STAMPED = ("me", *ORDER)
ABSENT = "-" * STAMP_CHARS  # a set the user does not get (residents, without personal data)
TILE_ZOOMS = (13, 18)
TILE_PRESET = "worker"


@dataclass
class Token:
    """`1.<user>.<grid>.<time>.<largest ids>.<stamps>`: plain, URL-safe and about 170
    characters, so a no-change pull (the token goes out in the URL and If-None-Match and
    comes back in the ETag) stays under a kilobyte."""

    user_id: int
    grid_id: int
    at: dt.datetime
    stamps: dict[str, str]
    max_ids: dict[str, int] = field(default_factory=dict)

    def encode(self) -> str:
        max_ids = "-".join(str(self.max_ids.get(name, "")) for name in LARGE)
        stamps = "".join(self.stamps.get(name, ABSENT) for name in STAMPED)
        return (
            f"{FORMAT}.{self.user_id}.{self.grid_id}.{int(self.at.timestamp())}.{max_ids}.{stamps}"
        )

    @classmethod
    def decode(cls, raw: str | None) -> Token | None:
        """The token, or None when it is missing or not one of ours (the pull is full)."""
        if not raw or len(raw) > 400:
            return None
        try:
            version, user_id, grid_id, at, max_ids, stamps = raw.split(".")
            if version != str(FORMAT) or len(stamps) != STAMP_CHARS * len(STAMPED):
                return None
            chunks = [stamps[i : i + STAMP_CHARS] for i in range(0, len(stamps), STAMP_CHARS)]
            return cls(
                user_id=int(user_id),
                grid_id=int(grid_id),
                at=dt.datetime.fromtimestamp(int(at), tz=dt.UTC),
                stamps={
                    name: chunk
                    for name, chunk in zip(STAMPED, chunks, strict=True)
                    if chunk != ABSENT
                },
                max_ids={
                    name: int(value)
                    for name, value in zip(LARGE, max_ids.split("-"), strict=True)
                    if value
                },
            )
        except (ValueError, OverflowError, OSError):
            # A damaged or foreign token costs a full pull, never an error.
            return None


@dataclass
class Pull:
    token: str
    changed: bool  # False: nothing changed since the phone's token (304 to If-None-Match)
    body: dict


def _stamp(value) -> str:
    return versions.stamp_of(value)[:STAMP_CHARS]


def tiles(bbox) -> dict:
    """Where the phone finds the map of its grid (the worker preset's layers)."""
    preset = get_preset(TILE_PRESET)
    layers = ",".join(preset.layers) if preset else ""
    return {
        "tilejson": f"/api/map/tiles.json?layers={layers}",
        "style": f"/api/map/style.json?preset={TILE_PRESET}",
        "minzoom": TILE_ZOOMS[0],
        "maxzoom": TILE_ZOOMS[1],
        "bbox": bbox,
    }


def pull(user, since: str | None, *, path: str = "") -> Pull:
    """The working set of a grid worker (user.grid) since the token `since`."""
    now = timezone.now()
    previous = Token.decode(since)
    if previous is not None and (previous.user_id != user.pk or previous.grid_id != user.grid_id):
        previous = None
    full = previous is None
    scope = basedata.Scope(user=user, grid_id=user.grid_id)
    personal = scoping.sees_personal_data(user)

    me = devices.me(user)
    stamps = {"me": _stamp(me)}
    max_ids: dict[str, int] = {}
    sets: dict[str, dict] = {}

    for name, (versions_of, records_of) in LARGE.items():
        if name == "residents" and not personal:
            if full or name in previous.stamps:
                # Personal data taken away (or never given): the phone empties what it holds.
                sets[name] = {"upsert": [], "ids": []}
            continue
        if full:
            upsert = records_of(scope)
            current = {r["id"]: r["version"] for r in upsert}
        else:
            current = versions_of(scope)
        stamps[name] = _stamp(sorted(current.items()))
        max_ids[name] = max(current, default=0)
        if full:
            sets[name] = {"upsert": upsert, "ids": list(current)}
        elif stamps[name] != previous.stamps.get(name):
            upsert = records_of(
                scope, since=previous.at - MARGIN, max_id=previous.max_ids.get(name)
            )
            sets[name] = {"upsert": upsert, "ids": list(current)}

    for name, build in SMALL.items():
        records = build(user)
        stamps[name] = _stamp(records)
        if full or stamps[name] != previous.stamps.get(name):
            sets[name] = {"upsert": records, "ids": [r["id"] for r in records]}

    changed = full or stamps != previous.stamps
    # Unchanged, the phone keeps its token: the same ETag, so its next If-None-Match is 304.
    token = (
        Token(
            user_id=user.pk, grid_id=user.grid_id, at=now, stamps=stamps, max_ids=max_ids
        ).encode()
        if changed
        else since
    )
    if "residents" in sets and sets["residents"]["upsert"]:
        # Names, ID numbers and phones read unmasked onto a phone: audited like the API's.
        audit.log_personal_read(
            user,
            "resident",
            [r["id"] for r in sets["residents"]["upsert"]],
            channel="field",
            path=path,
        )
    body = {
        "token": token,
        "server_time": now,
        "full": full,
        "me": me,
        "sets": {name: sets[name] for name in ORDER if name in sets},
        "tiles": tiles((me["grid"] or {}).get("bbox")),
    }
    return Pull(token=token, changed=changed, body=body)
