"""Bulk loading of households through COPY: straight into grids_household when the points
were keyed in Python (copy_keyed_households, the importer's path), or staged, keyed to their
grids in one statement and inserted (copy_households: the fallback when another transaction
wrote one of the keys meanwhile). A dry run counts instead of inserting."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from django.db import IntegrityError, connection, transaction

from grids.sql.bulk import BULK_SETTINGS, POINTS_TO_GRIDS, copy_frame
from grids.sql.figures import bulk_write
from grids.sql.tree import lock_tree

HOUSEHOLD_STAGING = """
CREATE TEMP TABLE household_staging (
    row integer NOT NULL,
    address text NOT NULL,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    client_key text,
    member_count integer NOT NULL,
    registered_on date NOT NULL,
    removed_on date,
    building_id bigint
) ON COMMIT DROP
"""

# The staged points in the order of PostGIS's space-filling curve, with a GiST index: the
# boundaries below find their points through index scans over neighbouring pages.
HOUSEHOLD_POINT = """
CREATE TEMP TABLE household_point ON COMMIT DROP AS
SELECT row, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom
FROM household_staging
ORDER BY geom
"""

HOUSEHOLD_POINT_INDEX = "CREATE INDEX ON household_point USING gist (geom)"

# Each staged point keyed to its grid by the rule of _GRID_FOR_POINT (the governance grid
# whose current boundary intersects it, the smallest code first), as one join from the
# boundaries to the indexed points: one index scan per boundary instead of one per point.
# Kept in a temporary table so that the points in no grid can be reported by row.
# A row without a client key gets a generated one here, so that the insert below is a plain
# anti-join on the key (with "key IS NULL OR NOT EXISTS" the planner probes the unique
# index once per row instead of hashing the table once).
HOUSEHOLD_KEYED = f"""
CREATE TEMP TABLE household_keyed ON COMMIT DROP AS
SELECT s.row, s.address, s.lon, s.lat,
       COALESCE(s.client_key, replace(gen_random_uuid()::text, '-', '')) AS client_key,
       s.member_count, s.registered_on, s.removed_on, s.building_id, k.grid_id
FROM household_staging s
LEFT JOIN ({POINTS_TO_GRIDS.format(points="household_point")}) k ON k.row = s.row
"""

# Client keys already present are skipped: a resent file is safe to import again. Rows are
# inserted in the order of the file.
_HOUSEHOLD_INSERT = """
INSERT INTO grids_household
    (address, location, grid_id, client_key, member_count, registered_on, removed_on,
     building_id, updated_at)
SELECT address, ST_SetSRID(ST_MakePoint(lon, lat), 4326), grid_id, client_key, member_count,
       registered_on, removed_on, building_id, now()
FROM household_keyed k
{where}
ORDER BY row
{on_conflict}
"""

# The fast path: present keys left out by an anti-join, so that every row is a plain insert
# (ON CONFLICT makes each one a speculative insertion, about twice as slow in bulk).
HOUSEHOLD_INSERT_NEW = _HOUSEHOLD_INSERT.format(
    where="WHERE NOT EXISTS (SELECT 1 FROM grids_household h WHERE h.client_key = k.client_key)",
    on_conflict="",
)

# The same with ON CONFLICT, for when another transaction wrote one of the keys meanwhile.
HOUSEHOLD_INSERT = _HOUSEHOLD_INSERT.format(
    where="", on_conflict="ON CONFLICT (client_key) DO NOTHING"
)


STAGING_COLUMNS = (
    "row",
    "address",
    "lon",
    "lat",
    "client_key",
    "member_count",
    "registered_on",
    "removed_on",
    "building_id",
)

# What an insert would add, for a dry run: rows whose key is not there yet. A dry run counts
# instead of inserting and rolling back, which would use up household ids.
HOUSEHOLD_WOULD_INSERT = """
SELECT count(*) FROM household_keyed k
WHERE NOT EXISTS (SELECT 1 FROM grids_household h WHERE h.client_key = k.client_key)
"""


def copy_households(table, *, progress=None, dry: bool = False) -> tuple[int, list[int]]:
    """Bulk-load households inside the caller's transaction: COPY into a staging table, key
    every point to its grid in one statement, insert. `table` is a DataFrame with the
    STAGING_COLUMNS (row: the source row number; client_key None when not given;
    registered_on a date, removed_on a date or None). Returns how many were inserted (`dry`:
    would be, with nothing inserted) and the rows of the points that fell in no grid."""
    lock_tree(shared=True)
    with connection.cursor() as cursor:
        cursor.execute(BULK_SETTINGS)
        cursor.execute("DROP TABLE IF EXISTS household_staging, household_point, household_keyed")
        cursor.execute(HOUSEHOLD_STAGING)
        copy_frame(cursor, "household_staging", table, STAGING_COLUMNS, progress=progress)
        cursor.execute("ANALYZE household_staging")
        cursor.execute(HOUSEHOLD_POINT)
        cursor.execute(HOUSEHOLD_POINT_INDEX)
        cursor.execute("ANALYZE household_point")
        cursor.execute(HOUSEHOLD_KEYED)
        if dry:
            cursor.execute(HOUSEHOLD_WOULD_INSERT)
            (inserted,) = cursor.fetchone()
        else:
            inserted = _insert_keyed_households(cursor)
        cursor.execute("SELECT row FROM household_keyed WHERE grid_id IS NULL ORDER BY row")
        flagged = [row for (row,) in cursor.fetchall()]
        cursor.execute("DROP TABLE household_staging, household_point, household_keyed")
        return inserted, flagged


def _insert_keyed_households(cursor) -> int:
    with bulk_write(cursor):
        try:
            with transaction.atomic():
                cursor.execute(HOUSEHOLD_INSERT_NEW)
        except IntegrityError:
            cursor.execute(HOUSEHOLD_INSERT)
        inserted = cursor.rowcount
        cursor.execute(
            "INSERT INTO grids_stalefigures (grid_id, everything) "
            "SELECT DISTINCT grid_id, false FROM household_keyed"
        )
    return inserted


# The direct path (points already keyed in Python, grids.services.imports.gridkeys): the
# given keys are COPied alone and matched against the table's, then the new rows are COPied
# straight into grids_household, with no staging table, no keying join and no INSERT…SELECT.
GIVEN_KEYS = "CREATE TEMP TABLE household_given_key (key text NOT NULL) ON COMMIT DROP"
PRESENT_KEYS = """
SELECT k.key FROM household_given_key k JOIN grids_household h ON h.client_key = k.key
"""
DIRECT_COLUMNS = (
    "address",
    "location",
    "grid_id",
    "client_key",
    "member_count",
    "registered_on",
    "removed_on",
    "building_id",
    "updated_at",
)


def copy_keyed_households(table, *, progress=None, dry: bool = False) -> int | None:
    """Bulk-load households whose grid is already known, inside the caller's transaction
    (which holds the tree lock, shared, since the points were keyed). `table`: the
    STAGING_COLUMNS and grid_id (NA for a point in no grid). Rows whose client key is already
    there are left out; a row without a key gets a new one. Returns how many were inserted
    (`dry`: would be). None when another transaction wrote one of the keys meanwhile: the
    savepoint is rolled back and the caller takes the staged path (ON CONFLICT)."""
    with connection.cursor() as cursor:
        cursor.execute(BULK_SETTINGS)
        keys = table["client_key"].to_numpy(object)
        given = pd.notna(keys)
        present = np.zeros(len(table), dtype=bool)
        if given.any():
            cursor.execute("DROP TABLE IF EXISTS household_given_key")
            cursor.execute(GIVEN_KEYS)
            copy_frame(cursor, "household_given_key", pd.DataFrame({"key": keys[given]}), ["key"])
            cursor.execute(PRESENT_KEYS)
            found = {key for (key,) in cursor.fetchall()}
            cursor.execute("DROP TABLE household_given_key")
            if found:
                present = pd.Series(keys).isin(found).to_numpy()
        if dry:
            return int((~present).sum())
        new = table.loc[~present]
        keys = new["client_key"].to_numpy(object, copy=True)
        missing = pd.isna(keys)
        keys[missing] = _new_keys(int(missing.sum()))
        cursor.execute("SELECT now()::text")
        (now,) = cursor.fetchone()
        rows = pd.DataFrame(
            {
                "address": new["address"].to_numpy(object),
                "location": _ewkb_points(new["lon"].to_numpy(float), new["lat"].to_numpy(float)),
                "grid_id": pd.array(new["grid_id"], dtype="Int64"),
                "client_key": keys,
                "member_count": new["member_count"].to_numpy(),
                "registered_on": new["registered_on"].to_numpy(object),
                "removed_on": new["removed_on"].to_numpy(object),
                "building_id": pd.array(new["building_id"], dtype="Int64"),
                "updated_at": now,
            }
        )
        with bulk_write(cursor):
            try:
                # COPY's errors come from psycopg itself: made Django's here, so that a key
                # written meanwhile is an IntegrityError as from any other statement.
                with transaction.atomic(), connection.wrap_database_errors:
                    copy_frame(cursor, "grids_household", rows, DIRECT_COLUMNS, progress=progress)
            except IntegrityError:
                return None
            grids = rows["grid_id"].unique()
            cursor.execute(
                "INSERT INTO grids_stalefigures (grid_id, everything) "
                "SELECT unnest(%s::bigint[]), false",
                [[None if pd.isna(g) else int(g) for g in grids]],
            )
        return len(rows)


# Hex EWKB of a point with SRID 4326 (little endian, type 1 with the SRID flag), which COPY
# reads into a geometry column: written with numpy, faster than a million shapely points.
_EWKB_POINT_4326 = np.dtype([("head", "V9"), ("x", "<f8"), ("y", "<f8")])
_EWKB_HEAD = bytes.fromhex("0101000020E6100000")


def _ewkb_points(lon: np.ndarray, lat: np.ndarray) -> list[str]:
    points = np.empty(len(lon), dtype=_EWKB_POINT_4326)
    points["head"] = np.void(_EWKB_HEAD)
    points["x"], points["y"] = lon, lat
    text = points.tobytes().hex()
    size = 2 * _EWKB_POINT_4326.itemsize
    return [text[i : i + size] for i in range(0, size * len(points), size)]


def _new_keys(n: int) -> list[str]:
    """n keys as the model makes them (uuid4 hex, grids.models.households.new_client_key),
    made in bulk."""
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.tobytes().hex()
    return [text[i : i + 32] for i in range(0, 32 * n, 32)]
