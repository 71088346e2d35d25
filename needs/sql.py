"""The needs app's raw SQL, each with why the ORM cannot say it."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils.translation import gettext_lazy as _

from grids.keyed import KeyedPoints
from grids.sql import points_in_area, rekeyed

# Need numbers are a per-day sequence ("XQ" + yyyymmdd + 4 digits); two raisers at once
# would read the same last number. A transaction-scoped advisory lock per day serialises
# them without a counter table; the ORM has no way to take one.
_NUMBERS_LOCK_SPACE = 20_020


def lock_numbers(day: dt.date) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [_NUMBERS_LOCK_SPACE, day.toordinal()]
        )


# Metres on the spheroid between two points: a geography cast, which the ORM cannot put on
# two parameters without a model row (its Distance needs a column).
def metres_between(a, b) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Distance(ST_GeomFromEWKB(%s)::geography, ST_GeomFromEWKB(%s)::geography)",
            [bytes(a.ewkb), bytes(b.ewkb)],
        )
        return float(cursor.fetchone()[0])


# --- boundary changes (grids.signals.grid_area_changed) ---------------------------------------

# Open needs with a point and providers with a location, as keyed to grids (grids.keyed):
# re-keyed by their point when a boundary changes, as households are. Registered by the app
# (NeedsConfig.ready) for the impact preview, which so counts exactly what the apply moves.
# A need without a point follows its grid (retired grids: needs.signals). Closed needs never
# move: figures of their period stay where they were.
OPEN_NEEDS = KeyedPoints(
    "needs",
    _("open needs and wishes"),
    "needs_need",
    where="status IN ('submitted', 'accepted', 'dispatched', 'taken', 'reported')",
)
PROVIDERS = KeyedPoints("providers", _("service providers"), "needs_provider")

# The grid key of a need is required: a point that now falls in no grid keeps its grid (for
# a person to place), as the community of a need never changes with a grid boundary.
_REKEY = """
UPDATE {table} t
SET grid_id = k.new_grid, updated_at = now()
FROM ({rekeyed}) k
WHERE k.kind = %(kind)s AND t.id = k.row
  AND k.new_grid IS NOT NULL AND k.old_grid IS DISTINCT FROM k.new_grid
"""


def rekey(area_ewkb: bytes) -> dict[str, int]:
    """Re-key open needs and providers in the changed area; the counts moved per kind. The
    ORM has no UPDATE ... FROM a staged join; grids.sql shares the staging with the preview."""
    moved = {}
    with (
        points_in_area("needs_rekey", [OPEN_NEEDS, PROVIDERS], area_ewkb),
        connection.cursor() as cursor,
    ):
        for kind in (OPEN_NEEDS, PROVIDERS):
            cursor.execute(
                _REKEY.format(table=kind.table, rekeyed=rekeyed("needs_rekey")),
                {"area": area_ewkb, "kind": kind.key},
            )
            moved[kind.key] = cursor.rowcount
    return moved


# Held to the end of the transaction: two public posts from one address (a double tap, a
# script) are counted one after the other, so both cannot pass the rate limit. Other
# addresses do not wait (hashtext spreads them; a collision only makes two wait). An
# advisory lock has no ORM form.
SUBMITTER_LOCK = 2260_2001


def lock_submitter(submitter: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [SUBMITTER_LOCK, submitter]
        )


# --- matching (needs.services.matching.candidates) ---------------------------------------------

# The offers in reach of a need, judged and ranked in one statement: active offers of its
# kind whose area takes in its community (an offer without area rows serves its provider's
# community) or whose provider is registered in its district, refused providers left out;
# metres on the spheroid from the provider to the need's point; the provider's load and the
# offer's places taken (open dispatches); the reason it may not take the need ('' when it
# may); ranked eligible, with room, nearest, least loaded. Raw SQL because the ORM writes an
# annotation's expression again wherever it is referenced: the distance three times and the
# counts in the reason and the sort, for each of the thousands of offers of a common kind in
# a district (bench needs_candidates: 800 ms a need that way, against ~40 ms here).
RANKED_OFFERS = """
WITH need AS MATERIALIZED (
    SELECT n.kind_id, n.community_id, s.parent_id AS district,
           ST_GeomFromEWKB(%(point)s) AS point
    FROM needs_need n
    JOIN grids_region c ON c.id = n.community_id
    LEFT JOIN grids_region s ON s.id = c.parent_id
    WHERE n.id = %(need)s
), district AS MATERIALIZED (
    SELECT c.id FROM need
    JOIN grids_region s ON s.parent_id = need.district
    JOIN grids_region c ON c.parent_id = s.id
), areas AS MATERIALIZED (
    SELECT a.serviceoffer_id AS offer, bool_or(a.region_id = need.community_id) AS here
    FROM need
    JOIN needs_serviceoffer o ON o.kind_id = need.kind_id AND o.active
    JOIN needs_serviceoffer_area a ON a.serviceoffer_id = o.id
    GROUP BY a.serviceoffer_id
), found AS (
    SELECT o.id, o.capacity, o.radius_m, p.status,
           ST_DistanceSpheroid(p.location, need.point,
               'SPHEROID["WGS 84",6378137.0,298.257223563]') AS metres,
           (SELECT count(*) FROM needs_dispatch d
            WHERE d.provider_id = o.provider_id
              AND d.status IN ('sent', 'accepted', 'reported')) AS load,
           (SELECT count(*) FROM needs_dispatch d
            WHERE d.offer_id = o.id AND d.status IN ('sent', 'accepted', 'reported')) AS taken,
           COALESCE(areas.here, p.community_id = need.community_id) AS in_area
    FROM need
    JOIN needs_serviceoffer o ON o.kind_id = need.kind_id AND o.active
    JOIN needs_provider p ON p.id = o.provider_id AND p.status <> 'refused'
    LEFT JOIN areas ON areas.offer = o.id
    WHERE areas.here OR p.community_id IN (SELECT id FROM district)
), judged AS (
    SELECT *, capacity - taken AS free,
           CASE WHEN status <> 'confirmed' THEN 'not_confirmed'
                WHEN NOT in_area THEN 'outside_area'
                WHEN radius_m IS NOT NULL AND (metres IS NULL OR metres > radius_m)
                    THEN 'over_radius'
                WHEN capacity - taken <= 0 THEN 'no_capacity'
                ELSE '' END AS reason
    FROM found
)
SELECT id, metres, load, free, reason
FROM judged
ORDER BY reason <> '', free <= 0, metres IS NULL, metres, load, id
LIMIT %(limit)s
"""


def ranked_offers(need_id: int, point, limit: int) -> list[tuple]:
    """(offer id, metres or None, load, free, reason) of the `limit` best offers."""
    with connection.cursor() as cursor:
        cursor.execute(
            RANKED_OFFERS,
            {
                "need": need_id,
                "point": bytes(point.ewkb) if point is not None else None,
                "limit": limit,
            },
        )
        return cursor.fetchall()
