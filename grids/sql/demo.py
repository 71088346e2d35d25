"""Bulk loading of the demo's 一标三实 (buildings, standard addresses, units) and the
update that links a demo built before to them.

Raw SQL because the ORM has no COPY and no UPDATE … FROM: at full scale these are a million
addresses and households and nearly three million residents, minutes through the ORM,
seconds through COPY into a temporary table and one set-based statement. Every point is keyed
to its grid by the one rule (POINTS_TO_GRIDS); an address takes its building's point and
grid. Table and column names come from code, never input.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pa_csv

from grids.sql.bulk import POINTS_TO_GRIDS, copy_frame


def read_frame(cursor, query: str, strings: tuple[str, ...] = ()):
    """The rows of `query` (code, no parameters) as an Arrow table, through COPY TO: a few
    seconds for millions of rows where fetching tuples takes tens. `strings`: columns read as
    text whatever they look like (codes are digits, not numbers)."""
    buffer = io.BytesIO()
    with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv, HEADER)") as copy:
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    types = dict.fromkeys(strings, pa.string())
    return pa_csv.read_csv(buffer, convert_options=pa_csv.ConvertOptions(column_types=types))


HOUSEHOLDS = """
SELECT id, ST_X(location) AS lon, ST_Y(location) AS lat, COALESCE(grid_id, 0) AS grid_id,
       registered_on
FROM grids_household ORDER BY id
"""

GRIDS = """
SELECT g.id, g.code, c.id AS community_id, c.code AS community_code,
       c.name AS community_name, s.code AS street_code, s.name AS street_name
FROM grids_grid g
JOIN grids_region c ON c.id = g.community_id
JOIN grids_region s ON s.id = c.parent_id
ORDER BY g.id
"""

RESIDENTS = """
SELECT id, household_id, birth_date, sex FROM grids_resident ORDER BY household_id, id
"""


def lock_and_allocate(cursor, table: str, n: int) -> int:
    """n consecutive ids of `table` (the first is returned), which nothing else can take:
    the table is locked against writers until the transaction ends. The demo names its rows'
    ids itself so that households can point at buildings and addresses written in the same
    bulk statement."""
    cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    (sequence,) = cursor.fetchone()
    cursor.execute("SELECT nextval(%s)", [sequence])
    (first,) = cursor.fetchone()
    if n > 1:
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + n - 1])
    return first


def _stage(cursor, name: str, columns: str, table, names) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")
    copy_frame(cursor, name, table, names)
    cursor.execute(f"ANALYZE {name}")


def _key_points(cursor, staging: str) -> None:
    """`{staging}_point` (row, geom) with a GiST index, and `{staging}_grid` (row, grid_id):
    each staged point's grid by the one rule."""
    cursor.execute(f"DROP TABLE IF EXISTS {staging}_point, {staging}_grid")
    cursor.execute(
        f"CREATE TEMP TABLE {staging}_point ON COMMIT DROP AS "
        f"SELECT id AS row, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom "
        f"FROM {staging} ORDER BY geom"
    )
    cursor.execute(f"CREATE INDEX ON {staging}_point USING gist (geom)")
    cursor.execute(f"ANALYZE {staging}_point")
    cursor.execute(
        f"CREATE TEMP TABLE {staging}_grid ON COMMIT DROP AS "
        f"{POINTS_TO_GRIDS.format(points=f'{staging}_point')}"
    )
    cursor.execute(f"CREATE UNIQUE INDEX ON {staging}_grid (row)")


BUILDING_COLUMNS = (
    "id",
    "code",
    "name",
    "lon",
    "lat",
    "footprint",
    "floors",
    "use",
    "built_year",
    "address",
    "client_key",
    "registered_on",
)


def insert_buildings(cursor, table) -> None:
    _stage(
        cursor,
        "demo_building",
        "id bigint, code text, name text, lon float8, lat float8, footprint text, "
        "floors int, use text, built_year int, address text, client_key text, "
        "registered_on date",
        table,
        BUILDING_COLUMNS,
    )
    _key_points(cursor, "demo_building")
    cursor.execute(
        """
        INSERT INTO grids_building
            (id, code, name, footprint, location, floors, use, built_year, address, grid_id,
             client_key, registered_on, removed_on, updated_at)
        SELECT s.id, s.code, s.name, ST_GeomFromEWKB(decode(s.footprint, 'hex')),
               ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), s.floors, s.use, s.built_year,
               s.address, k.grid_id, s.client_key, s.registered_on, NULL, now()
        FROM demo_building s LEFT JOIN demo_building_grid k ON k.row = s.id
        ORDER BY s.id
        """
    )


ADDRESS_COLUMNS = (
    "id",
    "community_id",
    "road",
    "number",
    "building_no",
    "unit_no",
    "room",
    "text",
    "building_id",
)


def insert_addresses(cursor, table) -> None:
    """Standard addresses at their building's point and grid."""
    _stage(
        cursor,
        "demo_address",
        "id bigint, community_id bigint, road text, number text, building_no text, "
        "unit_no text, room text, text text, building_id bigint",
        table,
        ADDRESS_COLUMNS,
    )
    cursor.execute(
        """
        INSERT INTO grids_address
            (id, community_id, road, number, building_no, unit_no, room, text, location,
             grid_id, building_id, created_at)
        SELECT s.id, s.community_id, s.road, s.number, s.building_no, s.unit_no, s.room,
               s.text, b.location, b.grid_id, s.building_id, now()
        FROM demo_address s JOIN grids_building b ON b.id = s.building_id
        ORDER BY s.id
        """
    )


UNIT_COLUMNS = (
    "id",
    "name",
    "type_id",
    "credit_code",
    "legal_person",
    "contact_phone",
    "employees",
    "address",
    "standard_address_id",
    "building_id",
    "lon",
    "lat",
    "client_key",
    "registered_on",
    "removed_on",
)


def insert_units(cursor, table) -> None:
    _stage(
        cursor,
        "demo_unit",
        "id bigint, name text, type_id bigint, credit_code text, legal_person text, "
        "contact_phone text, employees int, address text, standard_address_id bigint, "
        "building_id bigint, lon float8, lat float8, client_key text, registered_on date, "
        "removed_on date",
        table,
        UNIT_COLUMNS,
    )
    _key_points(cursor, "demo_unit")
    cursor.execute(
        """
        INSERT INTO grids_unit
            (name, type_id, credit_code, legal_person, contact_phone, employees, address,
             standard_address_id, building_id, location, grid_id, client_key, registered_on,
             removed_on, updated_at)
        SELECT s.name, s.type_id, s.credit_code, s.legal_person, s.contact_phone, s.employees,
               s.address, s.standard_address_id, s.building_id,
               ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), k.grid_id, s.client_key,
               s.registered_on, s.removed_on, now()
        FROM demo_unit s LEFT JOIN demo_unit_grid k ON k.row = s.id
        ORDER BY s.id
        """
    )


def link_households(cursor, table) -> int:
    """Each household's building, standard address and its text."""
    _stage(
        cursor,
        "demo_household_link",
        "id bigint, building_id bigint, standard_address_id bigint, address text",
        table,
        ("id", "building_id", "standard_address_id", "address"),
    )
    cursor.execute(
        """
        UPDATE grids_household h
        SET building_id = s.building_id, standard_address_id = s.standard_address_id,
            address = s.address
        FROM demo_household_link s WHERE h.id = s.id
        """
    )
    return cursor.rowcount


RESIDENT_ATTRIBUTES = (
    "registration",
    "residence_since",
    "origin",
    "relation",
    "tags",
    "tag_levels",
)


def update_residents(cursor, table) -> int:
    """The 一标三实 attributes of residents already there."""
    _stage(
        cursor,
        "demo_resident_attributes",
        "id bigint, registration text, residence_since date, origin text, relation text, "
        "tags text[], tag_levels jsonb",
        table,
        ("id", *RESIDENT_ATTRIBUTES),
    )
    cursor.execute(
        """
        UPDATE grids_resident r
        SET registration = s.registration, residence_since = s.residence_since,
            origin = s.origin, relation = s.relation, tags = s.tags, tag_levels = s.tag_levels
        FROM demo_resident_attributes s WHERE r.id = s.id
        """
    )
    return cursor.rowcount


def unlink(cursor, references: list[tuple[str, str]]) -> None:
    """Set the given (table, column) links to places to NULL. Names come from the app
    registry (grids.services.demo_basedata), never from input."""
    for table, column in references:
        cursor.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} IS NOT NULL")


def clear(cursor) -> None:
    """Unlink the households and delete every building, address and unit (the demo's; a
    demo database holds no others). DELETE, not TRUNCATE: households refer to buildings and
    addresses, and TRUNCATE refuses a referenced table whatever its rows."""
    cursor.execute(
        "UPDATE grids_household SET building_id = NULL, standard_address_id = NULL "
        "WHERE building_id IS NOT NULL OR standard_address_id IS NOT NULL"
    )
    for table in (
        "grids_unitgridhistory",
        "grids_unit",
        "grids_address",
        "grids_buildinggridhistory",
        "grids_building",
    ):
        cursor.execute(f"DELETE FROM {table}")
