"""The reference side of bench `needs_figures`: needs.services.figures.for_region's numbers
written as plain SQL on a psycopg cursor (one statement per figure, as ours), in the same
shape, and the comparison of the two."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.utils import timezone

COMMUNITIES = """
    SELECT c.id FROM grids_region c LEFT JOIN grids_region s ON s.id = c.parent_id
    WHERE c.level = 'community'
      AND (c.id = %(region)s OR c.parent_id = %(region)s OR s.parent_id = %(region)s)
"""
OPEN = "('submitted', 'accepted', 'dispatched', 'taken', 'reported')"
RAISED = "n.raised_at >= %(since)s AND n.raised_at < %(until)s AND n.status <> 'merged'"
REVIEWED = "n.reviewed_at >= %(since)s AND n.reviewed_at < %(until)s"
DONE = "n.status = 'done' AND n.confirmed_at >= %(since)s AND n.confirmed_at < %(until)s"
OVERDUE = "n.overdue AND n.due_at >= %(since)s AND n.due_at < %(until)s"
TOOK = "EXTRACT(EPOCH FROM n.confirmed_at - n.raised_at)"
SERVED = (
    "d.status IN ('reported', 'confirmed') AND d.reported_at >= %(since)s "
    "AND d.reported_at < %(until)s"
)

TOTALS = f"""
SELECT count(*) FILTER (WHERE {RAISED}),
       count(*) FILTER (WHERE {REVIEWED}
                        AND n.status NOT IN ('submitted', 'declined', 'merged')),
       count(*) FILTER (WHERE {REVIEWED} AND n.status = 'declined'),
       count(*) FILTER (WHERE {REVIEWED} AND n.status = 'merged'),
       count(*) FILTER (WHERE {DONE}),
       count(*) FILTER (WHERE {OVERDUE}),
       count(*) FILTER (WHERE n.status IN {OPEN}),
       avg({TOOK}) FILTER (WHERE {DONE}),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY {TOOK}) FILTER (WHERE {DONE}),
       avg(n.satisfaction) FILTER (WHERE {DONE} AND n.satisfaction IS NOT NULL),
       count(*) FILTER (WHERE {DONE} AND n.satisfaction IS NOT NULL)
FROM needs_need n WHERE n.community_id IN ({COMMUNITIES})
"""
DISPATCHES = f"""
SELECT count(DISTINCT d.need_id), count(*), count(*) FILTER (WHERE d.status = 'declined')
FROM needs_dispatch d JOIN needs_need n ON n.id = d.need_id
WHERE n.community_id IN ({COMMUNITIES})
  AND d.dispatched_at >= %(since)s AND d.dispatched_at < %(until)s
"""
BY_KIND = f"""
SELECT k.code, k.name,
       count(n.id) FILTER (WHERE {RAISED}), count(n.id) FILTER (WHERE {DONE})
FROM needs_servicekind k
LEFT JOIN needs_need n ON n.kind_id = k.id AND n.community_id IN ({COMMUNITIES})
GROUP BY k.id HAVING k.active OR count(n.id) > 0
ORDER BY k."order", k.code
"""
AREA_KEY = {"district": "c.parent_id", "street": "n.community_id", "community": "n.grid_id"}
BY_AREA = """
SELECT {key}, count(*) FILTER (WHERE {raised}), count(*) FILTER (WHERE {done}),
       count(*) FILTER (WHERE {overdue}), count(*) FILTER (WHERE n.status IN {open})
FROM needs_need n JOIN grids_region c ON c.id = n.community_id
WHERE n.community_id IN ({communities})
GROUP BY 1
"""
AREAS = """
SELECT id, code, name FROM {table}
WHERE {parent} = %(region)s AND valid_from <= %(on)s AND (valid_to IS NULL OR valid_to > %(on)s)
ORDER BY code
"""
REGISTERED = f"""
SELECT kind, count(*) FROM needs_provider
WHERE community_id IN ({COMMUNITIES}) AND status = 'confirmed' AND confirmed_at < %(until)s
GROUP BY kind
"""
PROVIDERS_SERVED = f"""
SELECT p.kind, count(*), sum(d.hours), count(DISTINCT d.provider_id)
FROM needs_dispatch d JOIN needs_provider p ON p.id = d.provider_id
WHERE p.community_id IN ({COMMUNITIES}) AND {SERVED}
GROUP BY p.kind
"""
PARTY = f"""
SELECT p.id, count(d.id), sum(d.hours)
FROM needs_provider p JOIN needs_dispatch d ON d.provider_id = p.id
WHERE p.community_id IN ({COMMUNITIES}) AND p.kind = 'party_member' AND {SERVED}
GROUP BY p.id ORDER BY sum(d.hours) DESC, count(d.id) DESC, p.id
"""
KINDS = ["unit", "co_building", "volunteer", "party_member"]


def _round(value, places: str = "0.01"):
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def figures(region, start: dt.date, end: dt.date) -> dict:
    since = timezone.make_aware(dt.datetime.combine(start, dt.time()))
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    p = {"region": region.pk, "since": since, "until": until, "on": end}
    with connection.cursor() as cursor:
        cursor.execute(TOTALS, p)
        (raised, accepted, declined, merged, done, overdue, open_now, mean, median, sat, rated) = (
            cursor.fetchone()
        )
        cursor.execute(DISPATCHES, p)
        needs_sent, sent, turned = cursor.fetchone()
        cursor.execute(BY_KIND, p)
        by_kind = [{"code": c, "name": n, "raised": r, "done": d} for c, n, r, d in cursor]
        key = AREA_KEY[region.level]
        cursor.execute(
            BY_AREA.format(
                key=key,
                raised=RAISED,
                done=DONE,
                overdue=OVERDUE,
                open=OPEN,
                communities=COMMUNITIES,
            ),  # fmt: skip
            p,
        )
        counts = {row[0]: row[1:] for row in cursor}
        if region.level == "community":
            table, parent, level = "grids_grid", "community_id", "grid"
        else:
            table, parent = "grids_region", "parent_id"
            level = "street" if region.level == "district" else "community"
        cursor.execute(AREAS.format(table=table, parent=parent), p)
        by_area = [
            {
                "id": pk,
                "code": code,
                "name": name,
                "level": level,
                **dict(
                    zip(
                        ("raised", "done", "overdue", "open_now"),
                        counts.get(pk, (0, 0, 0, 0)),
                        strict=True,
                    )
                ),
            }
            for pk, code, name in cursor.fetchall()
        ]
        cursor.execute(REGISTERED, p)
        registered = dict(cursor.fetchall())
        cursor.execute(PROVIDERS_SERVED, p)
        served = {kind: (n, hours, active) for kind, n, hours, active in cursor}
        cursor.execute(PARTY, p)
        party = cursor.fetchall()
    return {
        "needs": {
            "raised": raised,
            "accepted": accepted,
            "dispatched": needs_sent,
            "dispatches": sent,
            "declined_by_providers": turned,
            "done": done,
            "declined": declined,
            "merged": merged,
            "overdue": overdue,
            "open_now": open_now,
        },
        "days_to_fulfil": {
            "mean": None if mean is None else _round(float(mean) / 86400, "0.1"),
            "median": None if median is None else _round(median / 86400, "0.1"),
        },
        "satisfaction": {"mean": _round(sat), "rated": rated},
        "by_kind": by_kind,
        "by_area": by_area,
        "providers": [
            {
                "kind": kind,
                "registered": registered.get(kind, 0),
                "active": served.get(kind, (0, 0, 0))[2],
                "services": served.get(kind, (0, 0, 0))[0],
                "hours": _round(served.get(kind, (0, 0, 0))[1] or 0, "0.1"),
            }
            for kind in KINDS
        ],
        "party_members": {
            "served": len(party),
            "records": [
                {"id": pk, "services": n, "hours": _round(h or 0, "0.1")} for pk, n, h in party[:20]
            ],
        },
    }


def compare(ours: dict, reference: dict) -> str:
    """ "" when the two agree, else what differs first."""
    for key in ("needs", "days_to_fulfil", "satisfaction", "by_kind", "by_area"):
        if ours[key] != reference[key]:
            return f"{key}: ours {ours[key]!r:.300}, SQL {reference[key]!r:.300}"
    mine = [{k: v for k, v in row.items() if k != "label"} for row in ours["providers"]]
    if mine != reference["providers"]:
        return f"providers: ours {mine}, SQL {reference['providers']}"
    party = ours["party_members"]
    records = [{k: r[k] for k in ("id", "services", "hours")} for r in party["records"]]
    if party["served"] != reference["party_members"]["served"]:
        theirs = reference["party_members"]["served"]
        return f"party members served: {party['served']} vs {theirs}"
    if records != reference["party_members"]["records"]:
        return (
            f"party records: ours {records[:3]}…, SQL {reference['party_members']['records'][:3]}…"
        )
    return ""
