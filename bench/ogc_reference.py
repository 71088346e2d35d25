"""The reference side of the OGC cases (bench/cases_ogc.py): the households collection's
features written by hand in SQL on a cursor, the FeatureCollection text assembled in Python,
and the comparisons of the two sides' pages."""

from __future__ import annotations

import datetime as dt
import json

from bench.harness import CheckFailed

ITEMS_URL = "/ogc/collections/households/items"
HOST = "127.0.0.1"

# The reference: the households collection's feature, written by hand. The properties are
# those ogc/collections.py publishes (address, grid code, member_count, registered_on,
# removed_on, client_key, updated_at); the scope and "existing today" are the rule
# grids.scoping.household_q and HouseholdQuerySet.existing_on() apply.
COLUMNS = """h.id, h.address, g.code, h.member_count, h.registered_on, h.removed_on,
       h.client_key, h.updated_at, ST_AsGeoJSON(h.location, %(decimals)s)"""
EXISTING = """h.registered_on <= %(today)s
  AND (h.removed_on IS NULL OR h.removed_on > %(today)s)"""
FROM = f"""FROM grids_household h
LEFT JOIN grids_grid g ON g.id = h.grid_id
WHERE {EXISTING}"""
# A street centre's households: those of the grids of its street's communities, as the ORM
# writes household_q (joins; an IN (subquery) form is planned differently, and slower).
STREET_FROM = f"""FROM grids_household h
JOIN grids_grid g ON g.id = h.grid_id
JOIN grids_region c ON c.id = g.community_id
WHERE c.parent_id = %(street)s AND {EXISTING}"""


def page_sql(street: bool = False, after: bool = False, offset: bool = False) -> str:
    return (
        f"SELECT {COLUMNS}\n{STREET_FROM if street else FROM}"
        + ("\n  AND h.id > %(after)s" if after else "")
        + "\nORDER BY h.id LIMIT %(limit)s"
        + (" OFFSET %(offset)s" if offset else "")
    )


CHECKSUM_SQL = f"""SELECT count(*), coalesce(sum(h.id), 0),
       md5(coalesce(string_agg(h.id::text, ',' ORDER BY h.id), ''))
{FROM} AND h.client_key LIKE 'demo-%%'"""


def iso(value) -> str | None:
    return None if value is None else value.isoformat()


def feature_collection(rows, self_href: str, next_href: str | None, stamp: str) -> bytes:
    """The page the plain way: rows from the cursor, each feature's text assembled in Python
    with the geometry as ST_AsGeoJSON gave it."""
    dumps = json.dumps
    features = []
    for pk, address, grid, members, registered, removed, key, updated, geometry in rows:
        properties = dumps(
            {
                "address": address,
                "grid": grid,
                "member_count": members,
                "registered_on": iso(registered),
                "removed_on": iso(removed),
                "client_key": key,
                "updated_at": iso(updated),
            },
            ensure_ascii=False,
        )
        features.append(
            f'{{"type":"Feature","id":{pk},"geometry":{geometry},"properties":{properties}}}'
        )
    links = [{"rel": "self", "type": "application/geo+json", "href": self_href}]
    if next_href:
        links.append({"rel": "next", "type": "application/geo+json", "href": next_href})
    text = (
        '{"type":"FeatureCollection","features":['
        + ",".join(features)
        + f'],"numberReturned":{len(features)},"timeStamp":"{stamp}","links":'
        + dumps(links)
        + "}"
    )
    return text.encode()


def features(body: bytes) -> tuple[list[int], list[tuple[float, float]], dict]:
    data = json.loads(body)
    features = data["features"]
    return [int(f["id"]) for f in features], [f["geometry"]["coordinates"] for f in features], data


def same_page(ours: bytes, reference: bytes, decimals: int) -> dict:
    """Both sides hold the same features, in the same order, at the same places, with the
    same property names."""
    ours_ids, ours_xy, ours_data = features(ours)
    ref_ids, ref_xy, ref_data = features(reference)
    if ours_ids != ref_ids:
        missing = sorted(set(ref_ids) - set(ours_ids))[:5]
        extra = sorted(set(ours_ids) - set(ref_ids))[:5]
        raise CheckFailed(
            f"ids differ: ours {len(ours_ids)} (first {ours_ids[:3]}), reference "
            f"{len(ref_ids)} (first {ref_ids[:3]}); missing {missing}, extra {extra}"
        )
    tolerance = 0.51 * 10**-decimals
    for pk, a, b in zip(ours_ids, ours_xy, ref_xy, strict=True):
        if len(a) != len(b) or any(abs(x - y) > tolerance for x, y in zip(a, b, strict=True)):
            raise CheckFailed(f"household {pk}: ours at {a}, the reference at {b}")
    names = [set(data["features"][0]["properties"]) for data in (ours_data, ref_data)]
    if names[0] != names[1]:
        raise CheckFailed(f"properties differ: ours {sorted(names[0])}, ref {sorted(names[1])}")
    if ours_data.get("numberReturned") != len(ours_ids):
        raise CheckFailed(f"numberReturned {ours_data.get('numberReturned')} != {len(ours_ids)}")
    differing = [
        (feature["id"], name, value, other[name])
        for feature, ref in zip(ours_data["features"], ref_data["features"], strict=True)
        for other in [ref["properties"]]
        for name, value in feature["properties"].items()
        if value_for_comparison(value) != value_for_comparison(other[name])
    ]
    if differing:
        raise CheckFailed(f"{len(differing)} property values differ, e.g. {differing[:3]}")
    return {"features": len(ours_ids), "first_id": ours_ids[0], "last_id": ours_ids[-1]}


def value_for_comparison(value):
    """A property value for comparison: date-times by the instant they name (the two sides
    may write them in different time zones or precisions)."""
    if isinstance(value, str) and len(value) > 10 and value[4:5] == "-" and "T" in value:
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


def plan(sql: str, params=None) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) in brief: time, pages touched, rows read per scan."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        (found,) = cursor.fetchone()
    found = (json.loads(found) if isinstance(found, str) else found)[0]
    nodes, stack = [], [found["Plan"]]
    while stack:
        node = stack.pop()
        if "Scan" in node["Node Type"] or node["Node Type"] in ("Sort", "Limit"):
            label = " ".join(filter(None, [node["Node Type"], node.get("Index Name")]))
            nodes.append(f"{label}: {node['Actual Rows'] * node['Actual Loops']:,} rows")
        stack += reversed(node.get("Plans", []))
    top = found["Plan"]
    return {
        "execution_ms": round(found["Execution Time"], 1),
        "buffers": top["Shared Hit Blocks"] + top["Shared Read Blocks"],
        "temp_blocks_written": top.get("Temp Written Blocks", 0),
        "nodes": nodes,
    }
