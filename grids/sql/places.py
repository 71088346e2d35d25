"""Bulk loading of buildings and units through COPY, as households: staged, keyed to their
grids in one statement, inserted (or counted, for a dry run). Table and column names come
from code (PLACES below), never from input; values travel through COPY."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from grids.sql.bulk import BULK_SETTINGS, POINTS_TO_GRIDS, copy_frame
from grids.sql.tree import lock_tree


@dataclass(frozen=True)
class PlaceLoad:
    """How one kind of place is staged and inserted: `staging` (column, SQL type) pairs
    besides row/lon/lat/footprint; `natural_key` a unique column a re-import is
    recognised by besides client_key (buildings' code)."""

    target: str
    staging: tuple[tuple[str, str], ...]
    natural_key: str | None = None
    has_footprint: bool = False


BUILDINGS = PlaceLoad(
    target="grids_building",
    staging=(
        ("code", "text NOT NULL"),
        ("name", "text NOT NULL"),
        ("floors", "smallint"),
        ("use", "text NOT NULL"),
        ("built_year", "smallint"),
        ("address", "text NOT NULL"),
        ("client_key", "text"),
        ("registered_on", "date NOT NULL"),
        ("removed_on", "date"),
    ),
    natural_key="code",
    has_footprint=True,
)

UNITS = PlaceLoad(
    target="grids_unit",
    staging=(
        ("name", "text NOT NULL"),
        ("type_id", "bigint NOT NULL"),
        ("credit_code", "text NOT NULL"),
        ("legal_person", "text NOT NULL"),
        ("contact_phone", "text NOT NULL"),
        ("employees", "integer"),
        ("address", "text NOT NULL"),
        ("building_id", "bigint"),
        ("client_key", "text"),
        ("registered_on", "date NOT NULL"),
        ("removed_on", "date"),
    ),
)


def staged_columns(kind: PlaceLoad) -> tuple[str, ...]:
    extra = ("footprint",) if kind.has_footprint else ()
    return ("row", "lon", "lat", *extra, *(name for name, _type in kind.staging))


def copy_places(kind: PlaceLoad, table, *, progress=None, dry: bool = False):
    """Bulk-load places inside the caller's transaction. `table`: a DataFrame with
    staged_columns(kind) (footprint as WKT in 4326 or None; client_key None when not given).
    Returns (inserted or, for `dry`, would be; rows of existing places left as they are;
    rows of points in no grid)."""
    lock_tree(shared=True)
    staging = "place_staging"
    columns = staged_columns(kind)
    definitions = ", ".join(
        [
            "row integer NOT NULL",
            "lon double precision NOT NULL",
            "lat double precision NOT NULL",
            *(["footprint text"] if kind.has_footprint else []),
            *(f"{name} {sql_type}" for name, sql_type in kind.staging),
        ]
    )
    stored = [name for name, _type in kind.staging if name != "client_key"]
    # A place already there (same client key, or same natural key such as a building code)
    # is a re-import: left as it is and counted.
    conditions = ["t.client_key = k.key"]
    if kind.natural_key:
        conditions.append(f"t.{kind.natural_key} = k.{kind.natural_key}")
    present = " OR ".join(
        f"EXISTS (SELECT 1 FROM {kind.target} t WHERE {condition})" for condition in conditions
    )
    new = f"NOT ({present})"
    targets = [*stored, "location", "grid_id", "client_key", "updated_at"]
    values = [*stored, "ST_SetSRID(ST_MakePoint(lon, lat), 4326)", "grid_id", "key", "now()"]
    if kind.has_footprint:
        targets.append("footprint")
        values.append("ST_Multi(ST_GeomFromText(footprint, 4326))")
    with connection.cursor() as cursor:
        cursor.execute(BULK_SETTINGS)
        cursor.execute("DROP TABLE IF EXISTS place_staging, place_point, place_keyed")
        cursor.execute(f"CREATE TEMP TABLE {staging} ({definitions}) ON COMMIT DROP")
        copy_frame(cursor, staging, table, columns, progress=progress)
        cursor.execute(f"ANALYZE {staging}")
        cursor.execute(
            "CREATE TEMP TABLE place_point ON COMMIT DROP AS "
            f"SELECT row, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom FROM {staging} "
            "ORDER BY geom"
        )
        cursor.execute("CREATE INDEX ON place_point USING gist (geom)")
        cursor.execute("ANALYZE place_point")
        cursor.execute(
            "CREATE TEMP TABLE place_keyed ON COMMIT DROP AS "
            "SELECT s.*, k.grid_id, "
            "COALESCE(s.client_key, replace(gen_random_uuid()::text, '-', '')) AS key "
            f"FROM {staging} s "
            f"LEFT JOIN ({POINTS_TO_GRIDS.format(points='place_point')}) k ON k.row = s.row"
        )
        cursor.execute(f"SELECT row FROM place_keyed k WHERE {present} ORDER BY row")
        kept = [row for (row,) in cursor.fetchall()]
        cursor.execute(
            f"SELECT row FROM place_keyed k WHERE grid_id IS NULL AND {new} ORDER BY row"
        )
        flagged = [row for (row,) in cursor.fetchall()]
        if dry:
            cursor.execute(f"SELECT count(*) FROM place_keyed k WHERE {new}")
            (inserted,) = cursor.fetchone()
        else:
            cursor.execute(
                f"INSERT INTO {kind.target} ({', '.join(targets)}) "
                f"SELECT {', '.join(values)} FROM place_keyed k WHERE {new} ORDER BY row"
            )
            inserted = cursor.rowcount
        cursor.execute("DROP TABLE place_staging, place_point, place_keyed")
    return inserted, kept, flagged
