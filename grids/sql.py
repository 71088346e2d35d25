"""The raw SQL of the grids app, in one place.

Each statement is here because the ORM cannot say it, or says it far slower: set-based tree
integrity checks with buffers in metres, bulk loading through COPY, and bulk re-assignment
of households. Values are always passed as parameters, geometries as EWKB bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import IntegrityError, connection, transaction

from grids.keyed import HOUSEHOLDS

# Versions of the tree valid on a date; used by the integrity checks below.
_VALID = "{t}.valid_from <= %(on)s AND ({t}.valid_to IS NULL OR {t}.valid_to > %(on)s)"

# A child may stick out of its parent by the tolerance: the parent is widened in metres
# (geography buffer), once per parent, and ST_CoveredBy checks the child against it. A child
# whose parent has no boundary on the date is reported too. One template for regions and
# grids; only table and column names (never input) are filled in.
_OUTSIDE_PARENT = f"""
WITH child AS (
    SELECT c.id, c.code, c.{{parent}} AS parent_id, b.geom
    FROM {{table}} c JOIN {{versions}} b ON b.{{owner}} = c.id
    WHERE ({_VALID.format(t="b")}) AND ({_VALID.format(t="c")}) AND c.{{parent}} IS NOT NULL
      AND (c.id = ANY(%(ids)s) OR c.{{parent}} = ANY(%(parent_ids)s))
), parent AS (
    SELECT b.region_id AS id, b.geom,
           ST_Buffer(b.geom::geography, %(tol)s)::geometry AS widened
    FROM grids_regionboundary b JOIN grids_region p ON p.id = b.region_id
    WHERE ({_VALID.format(t="b")}) AND ({_VALID.format(t="p")})
      AND b.region_id IN (SELECT parent_id FROM child)
)
SELECT c.code, (SELECT code FROM grids_region WHERE id = c.parent_id),
       ST_X(ST_PointOnSurface(ST_Difference(c.geom, p.geom))),
       ST_Y(ST_PointOnSurface(ST_Difference(c.geom, p.geom))),
       p.id IS NULL
FROM child c LEFT JOIN parent p ON p.id = c.parent_id
WHERE p.id IS NULL OR NOT ST_CoveredBy(c.geom, p.widened)
"""
REGIONS_OUTSIDE_PARENT = _OUTSIDE_PARENT.format(
    table="grids_region", versions="grids_regionboundary", owner="region_id", parent="parent_id"
)
GRIDS_OUTSIDE_COMMUNITY = _OUTSIDE_PARENT.format(
    table="grids_grid", versions="grids_gridboundary", owner="grid_id", parent="community_id"
)

# Siblings that share an edge only touch; the checked boundary is shrunk by the tolerance in
# metres (negative geography buffer) so that only overlaps deeper than that are reported.
_OVERLAPPING = f"""
WITH node AS (
    SELECT n.id, n.code, {{sibling_columns}}, b.geom
    FROM {{table}} n JOIN {{versions}} b ON b.{{owner}} = n.id
    WHERE ({_VALID.format(t="b")}) AND ({_VALID.format(t="n")})
), shrunk AS (
    SELECT id, ST_Buffer(geom::geography, -%(tol)s)::geometry AS geom
    FROM node WHERE id = ANY(%(ids)s)
)
SELECT a.code, o.code,
       ST_X(ST_PointOnSurface(ST_Intersection(s.geom, o.geom))),
       ST_Y(ST_PointOnSurface(ST_Intersection(s.geom, o.geom)))
FROM shrunk s
JOIN node a ON a.id = s.id
JOIN node o ON o.id <> a.id AND {{siblings}} AND ST_Intersects(s.geom, o.geom)
WHERE NOT ST_IsEmpty(s.geom)
"""
# Siblings: regions of one level under one parent (districts have none); grids of one theme
# in one community.
REGIONS_OVERLAPPING = _OVERLAPPING.format(
    table="grids_region",
    versions="grids_regionboundary",
    owner="region_id",
    sibling_columns="n.parent_id, n.level",
    siblings="o.level = a.level AND o.parent_id IS NOT DISTINCT FROM a.parent_id",
)
GRIDS_OVERLAPPING = _OVERLAPPING.format(
    table="grids_grid",
    versions="grids_gridboundary",
    owner="grid_id",
    sibling_columns="n.community_id, n.theme",
    siblings="o.community_id = a.community_id AND o.theme = a.theme",
)


# One advisory lock orders tree changes against household writes (decision 7): a boundary
# change holds it exclusively while it re-keys, a household write holds it shared from its
# grid lookup to its commit. Without it a household keyed under the old boundaries could
# commit after the re-keying and stay in the wrong grid for good, and two neighbours
# redrawn at once could each pass the overlap check against the other's old edge.
TREE_LOCK = 2260_0001


def lock_tree(*, shared: bool) -> None:
    """Take the tree lock for the rest of the current transaction."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [TREE_LOCK])


# Serialises refreshes of the precomputed grid figures, so that two requests after a bulk
# write do not both recount the district.
FIGURES_LOCK = 2260_0002


def lock_figures() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FIGURES_LOCK])


# DELETE ... RETURNING takes exactly the marks that are committed now; a mark committed
# later (with the write it belongs to) stays for the next refresh.
TAKE_STALE_FIGURES = """
WITH taken AS (DELETE FROM grids_stalefigures RETURNING grid_id, everything)
SELECT coalesce(bool_or(everything), false), array_agg(DISTINCT grid_id), count(*) FROM taken
"""


FIGURES_ARE_CURRENT = """
SELECT NOT EXISTS (SELECT 1 FROM grids_stalefigures)
   AND EXISTS (SELECT 1 FROM grids_gridfigures WHERE grid_id IS NULL AND computed_on = %s)
"""


def figures_are_current(on: dt.date) -> bool:
    """One cheap read: nothing marked stale and today's full count done (the common case)."""
    with connection.cursor() as cursor:
        cursor.execute(FIGURES_ARE_CURRENT, [on])
        return cursor.fetchone()[0]


def take_stale_figures() -> tuple[bool, set[int | None]]:
    """(whether a full recount is asked for, the grids marked stale; None: no grid)."""
    with connection.cursor() as cursor:
        cursor.execute(TAKE_STALE_FIGURES)
        everything, grid_ids, n = cursor.fetchone()
    return everything, set(grid_ids or ()) if n else set()


def _rows(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


BOUNDARY_CHANGE_DATES = """
SELECT d FROM (
    SELECT valid_from AS d FROM grids_regionboundary
    UNION SELECT valid_to FROM grids_regionboundary
    UNION SELECT valid_from FROM grids_gridboundary
    UNION SELECT valid_to FROM grids_gridboundary
) dates
WHERE d > %(start)s AND d <= %(end)s
ORDER BY d
"""


def boundary_change_dates(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every date after `start` up to `end` on which some boundary version starts or ends:
    the tree can only change shape on those days."""
    return [row[0] for row in _rows(BOUNDARY_CHANGE_DATES, {"start": start, "end": end})]


def regions_outside_parent(ids: list[int], on: dt.date, tol_m: float) -> list[tuple]:
    return _rows(REGIONS_OUTSIDE_PARENT, {"ids": ids, "parent_ids": ids, "on": on, "tol": tol_m})


def grids_outside_community(
    ids: list[int], region_ids: list[int], on: dt.date, tol_m: float
) -> list[tuple]:
    return _rows(
        GRIDS_OUTSIDE_COMMUNITY, {"ids": ids, "parent_ids": region_ids, "on": on, "tol": tol_m}
    )


def regions_overlapping(ids: list[int], on: dt.date, tol_m: float) -> list[tuple]:
    return _rows(REGIONS_OVERLAPPING, {"ids": ids, "on": on, "tol": tol_m})


def grids_overlapping(ids: list[int], on: dt.date, tol_m: float) -> list[tuple]:
    return _rows(GRIDS_OVERLAPPING, {"ids": ids, "on": on, "tol": tol_m})


# The grid a point belongs to: the governance grid whose current boundary covers it, the
# smallest code first when it lies on a shared edge (same rule as Grid.objects.containing).
_GRID_FOR_POINT = """
    SELECT g.id FROM grids_gridboundary b JOIN grids_grid g ON g.id = b.grid_id
    WHERE b.valid_to IS NULL AND g.valid_to IS NULL AND g.theme = 'governance'
      AND ST_Intersects(b.geom, {point})
    ORDER BY g.code LIMIT 1
"""

HOUSEHOLD_STAGING = """
CREATE TEMP TABLE household_staging (
    row integer NOT NULL,
    address text NOT NULL,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    client_key text,
    member_count integer NOT NULL,
    registered_on date NOT NULL,
    removed_on date
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
# The grid of each row of a temporary table of indexed points `{points}` (row, geom), as a
# subquery (row, grid_id) for the importers of other apps too. `{points}` is a table name
# from code, never input.
POINTS_TO_GRIDS = """
    SELECT DISTINCT ON (p.row) p.row, g.id AS grid_id
    FROM grids_gridboundary b
    JOIN grids_grid g ON g.id = b.grid_id
    JOIN {points} p ON ST_Intersects(b.geom, p.geom)
    WHERE b.valid_to IS NULL AND g.valid_to IS NULL AND g.theme = 'governance'
    ORDER BY p.row, g.code
"""

HOUSEHOLD_KEYED = f"""
CREATE TEMP TABLE household_keyed ON COMMIT DROP AS
SELECT s.*, k.grid_id
FROM household_staging s
LEFT JOIN ({POINTS_TO_GRIDS.format(points="household_point")}) k ON k.row = s.row
"""

# Client keys already present are skipped: a resent file is safe to import again. Rows are
# inserted in the order of the file.
_HOUSEHOLD_INSERT = """
INSERT INTO grids_household
    (address, location, grid_id, client_key, member_count, registered_on, removed_on,
     updated_at)
SELECT address, ST_SetSRID(ST_MakePoint(lon, lat), 4326), grid_id,
       COALESCE(client_key, replace(gen_random_uuid()::text, '-', '')), member_count,
       registered_on, removed_on, now()
FROM household_keyed k
{where}
ORDER BY row
{on_conflict}
"""

# The fast path: present keys left out by an anti-join, so that every row is a plain insert
# (ON CONFLICT makes each one a speculative insertion, about twice as slow in bulk).
HOUSEHOLD_INSERT_NEW = _HOUSEHOLD_INSERT.format(
    where="WHERE k.client_key IS NULL\n"
    "   OR NOT EXISTS (SELECT 1 FROM grids_household h WHERE h.client_key = k.client_key)",
    on_conflict="",
)

# The same with ON CONFLICT, for when another transaction wrote one of the keys meanwhile.
HOUSEHOLD_INSERT = _HOUSEHOLD_INSERT.format(
    where="", on_conflict="ON CONFLICT (client_key) DO NOTHING"
)


@contextmanager
def bulk_write(cursor):
    """Within: inserts skip the row triggers that mark grid figures stale (see migration
    grids 0005); the caller marks the grids it wrote to itself."""
    cursor.execute("SELECT set_config('gridline.bulk_write', 'on', true)")
    try:
        yield
    finally:
        cursor.execute("SELECT set_config('gridline.bulk_write', 'off', true)")


def mark_all_figures_stale(cursor) -> None:
    cursor.execute("INSERT INTO grids_stalefigures (grid_id, everything) VALUES (NULL, true)")


STAGING_COLUMNS = (
    "row",
    "address",
    "lon",
    "lat",
    "client_key",
    "member_count",
    "registered_on",
    "removed_on",
)

# What an insert would add, for a dry run: rows whose key is not there yet. A dry run counts
# instead of inserting and rolling back, which would use up household ids.
HOUSEHOLD_WOULD_INSERT = """
SELECT count(*) FROM household_keyed k
WHERE k.client_key IS NULL
   OR NOT EXISTS (SELECT 1 FROM grids_household h WHERE h.client_key = k.client_key)
"""
COPY_CHUNK = 50_000


def copy_frame(cursor, target: str, table, columns, *, progress=None) -> None:
    """COPY the `columns` of a DataFrame into `target` (a table name from code, never input),
    in chunks; `progress(n)` after each. The bulk loaders of every app write through here."""
    with cursor.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
        # Arrow writes the CSV in C: null is an empty unquoted field (NULL to COPY), an
        # empty string is "", floats are written to round-trip.
        arrow = pa.Table.from_pandas(table[list(columns)], preserve_index=False)
        options = pa_csv.WriteOptions(include_header=False)
        for start in range(0, len(table), COPY_CHUNK):
            buffer = io.BytesIO()
            pa_csv.write_csv(arrow.slice(start, COPY_CHUNK), buffer, options)
            copy.write(buffer.getbuffer())
            if progress is not None:
                progress(min(COPY_CHUNK, len(table) - start))


def copy_households(table, *, progress=None, dry: bool = False) -> tuple[int, list[int]]:
    """Bulk-load households inside the caller's transaction: COPY into a staging table, key
    every point to its grid in one statement, insert. `table` is a DataFrame with the
    STAGING_COLUMNS (row: the source row number; client_key None when not given;
    registered_on a date, removed_on a date or None). Returns how many were inserted (`dry`:
    would be, with nothing inserted) and the rows of the points that fell in no grid."""
    lock_tree(shared=True)
    with connection.cursor() as cursor:
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


# --- re-keying the points of a changed area ---------------------------------------------------
#
# A boundary change re-keys only the rows that lie where a boundary changed (decision 2), by
# the rule of _GRID_FOR_POINT. Asked per point (a correlated sub-select), PostGIS meets a
# different polygon on every row and cannot reuse a prepared geometry (~0.7 ms a point). So
# the rows in the area are staged, indexed, and keyed as one join from each boundary that
# reaches the area to the points it holds, as POINTS_TO_GRIDS does: one index scan per
# boundary, its prepared geometry reused for all of its points. The apply (households here,
# sensors and open incidents in their apps) and the impact preview (boundaries.sql, on the
# proposed boundaries) share these statements, so the preview counts what the apply moves.

# The governance grids in force, (grid_id, code, geom): after the apply has written its
# versions, the grids the points are keyed to.
GRIDS_IN_FORCE = """
    SELECT g.id AS grid_id, g.code, b.geom
    FROM grids_gridboundary b JOIN grids_grid g ON g.id = b.grid_id
    WHERE b.valid_to IS NULL AND g.valid_to IS NULL AND g.theme = 'governance'
"""

# One SELECT per kind of row (grids.keyed.KeyedPoints); the kinds staged together are
# told apart by `kind`. keep_m: the distance within which a row keeps its stored grid.
_STAGED_KIND = """
SELECT %(kind_{i})s::text AS kind, t.id AS row, t.{grid} AS old_grid,
       ({weight})::bigint AS weight, %(keep_{i})s::float8 AS keep_m, t.{location} AS geom
FROM {table} t
WHERE ST_Intersects(t.{location}, ST_GeomFromEWKB(%(area)s)) AND ({where})
"""

# In the order of PostGIS's space-filling curve, as HOUSEHOLD_POINT: each boundary's index
# scan reads neighbouring pages.
_STAGE_POINTS = """
CREATE TEMP TABLE {points} ON COMMIT DROP AS
SELECT * FROM ({kinds}) staged ORDER BY geom
"""

# No parameters: one round trip.
_INDEX_POINTS = "CREATE INDEX ON {points} USING gist (geom); ANALYZE {points}"

# Every staged row with the grid it belongs to by the rule of _GRID_FOR_POINT among
# `{grids}` (a relation (grid_id, code, geom) of the grids in force: GRIDS_IN_FORCE, or the
# preview's proposed ones): new_grid and new_code, None for a point in no grid. A row with a
# keep_m that is still within keep_m metres of its stored grid keeps it (open incidents: near
# an edge the reporter confirmed the grid); a stored grid no longer in force is not kept.
# Only boundaries whose box reaches the area are joined (the GiST index on boundaries).
_REKEYED = """
    SELECT p.*,
           CASE WHEN kept.row IS NULL THEN k.grid_id ELSE p.old_grid END AS new_grid,
           CASE WHEN kept.row IS NULL THEN k.code ELSE kept.code END AS new_code
    FROM {points} p
    LEFT JOIN (
        SELECT DISTINCT ON (p.kind, p.row) p.kind, p.row, b.grid_id, b.code
        FROM ({grids}) b JOIN {points} p ON ST_Intersects(b.geom, p.geom)
        WHERE b.geom && ST_GeomFromEWKB(%(area)s)
        ORDER BY p.kind, p.row, b.code
    ) k ON k.kind = p.kind AND k.row = p.row
    LEFT JOIN (
        SELECT p.kind, p.row, b.code
        FROM {points} p JOIN ({grids}) b ON b.grid_id = p.old_grid
        WHERE p.keep_m IS NOT NULL
          AND ST_DWithin(b.geom::geography, p.geom::geography, p.keep_m)
    ) kept ON kept.kind = p.kind AND kept.row = p.row
"""


def rekeyed(points: str, grids: str = GRIDS_IN_FORCE) -> str:
    """SQL of a subquery: the rows staged in `points` (kind, row, old_grid, weight, keep_m,
    geom) with new_grid and new_code. Its parameter is %(area)s, the changed area as EWKB;
    `grids` may add its own."""
    return _REKEYED.format(points=points, grids=grids)


@contextmanager
def points_in_area(points: str, kinds: list, area_ewkb: bytes, params: dict | None = None):
    """Within: the temporary table `points` holds the rows of every kind (grids.keyed.
    KeyedPoints) that lie in the area, indexed, for `rekeyed(points)`. `params` fills the
    kinds' conditions (e.g. a date). Dropped on the way out; after an error the rollback
    of the caller's transaction takes it. `points` is a name from code, never input."""
    values = {"area": area_ewkb, **(params or {})}
    selects = []
    for i, kind in enumerate(kinds):
        selects.append(
            _STAGED_KIND.format(
                i=i,
                grid=kind.grid,
                weight=kind.weight,
                location=kind.location,
                table=kind.table,
                where=kind.where,
            )
        )
        values[f"kind_{i}"] = kind.key
        values[f"keep_{i}"] = kind.keep_within_m()
    with connection.cursor() as cursor:
        cursor.execute(
            _STAGE_POINTS.format(points=points, kinds="\nUNION ALL\n".join(selects)), values
        )
        cursor.execute(_INDEX_POINTS.format(points=points))
        yield
        cursor.execute(f"DROP TABLE {points}")


# The grid each moved household leaves is kept in the history, so that figures for earlier
# dates do not move. The history is written from the UPDATE's RETURNING: the moved rows'
# registration dates come with the rows written anyway, not from a second read of the table.
REASSIGN_HOUSEHOLDS = f"""
WITH moved AS (
    SELECT k.row AS id, k.old_grid, k.new_grid
    FROM ({rekeyed("household_rekey")}) k
    WHERE k.old_grid IS DISTINCT FROM k.new_grid
), updated AS (
    UPDATE grids_household h SET grid_id = m.new_grid, updated_at = now()
    FROM moved m WHERE h.id = m.id
    RETURNING h.id, m.old_grid, h.registered_on
), history AS (
    INSERT INTO grids_householdgridhistory (household_id, grid_id, valid_from, valid_to)
    SELECT u.id, u.old_grid,
           COALESCE((SELECT max(x.valid_to) FROM grids_householdgridhistory x
                     WHERE x.household_id = u.id), u.registered_on),
           %(on)s
    FROM updated u
    WHERE %(on)s > COALESCE((SELECT max(x.valid_to) FROM grids_householdgridhistory x
                             WHERE x.household_id = u.id), u.registered_on)
)
SELECT count(*) FROM updated
"""


def reassign_households(area_ewkb: bytes, on: dt.date) -> int:
    """Re-key the households in the changed area (after the new versions are written);
    how many moved."""
    params = {"area": area_ewkb, "on": on}
    with (
        points_in_area("household_rekey", [HOUSEHOLDS], area_ewkb, params),
        connection.cursor() as cursor,
    ):
        cursor.execute(REASSIGN_HOUSEHOLDS, params)
        return cursor.fetchone()[0]
