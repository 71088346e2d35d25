"""The reference side of the import cases: a scratch table made like one of ours (same
columns, same indexes, the same existing rows), so that ogr2ogr appends into a table as
large and as indexed as the one our importer writes into."""

from __future__ import annotations

from bench.data import SCRATCH_TABLE, drop_scratch_table


def indexed_scratch_like(table: str, existing: str) -> None:
    """SCRATCH_TABLE as `table` (columns, primary key, indexes and check constraints, not
    foreign keys or triggers) holding its rows that match `existing` (SQL from code). The
    columns the file does not carry are made nullable without defaults: ogr2ogr uses
    COPY only when no unset field has a default, and NULL costs less to write than a value."""
    from django.db import connection

    drop_scratch_table()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {SCRATCH_TABLE} (LIKE {table} INCLUDING ALL)")
        cursor.execute(f"INSERT INTO {SCRATCH_TABLE} SELECT * FROM {table} WHERE {existing}")
        cursor.execute(
            "SELECT a.attname FROM pg_attribute a "
            "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped "
            "AND a.attidentity = '' AND (a.attnotnull OR a.atthasdef)",
            [SCRATCH_TABLE],
        )
        for (column,) in cursor.fetchall():
            cursor.execute(
                f'ALTER TABLE {SCRATCH_TABLE} ALTER "{column}" DROP DEFAULT, '
                f'ALTER "{column}" DROP NOT NULL'
            )
        # New rows get ids after the copied ones, as in the table it is made like.
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f"(SELECT coalesce(max(id), 0) + 1 FROM {SCRATCH_TABLE}), false)",
            [SCRATCH_TABLE],
        )
        cursor.execute(f"VACUUM ANALYZE {SCRATCH_TABLE}")


def remove_scratch_rows(where: str, params: list) -> int:
    """Delete what a reference run appended (`where`: SQL from code, values in `params`) and
    vacuum, as our side's undo does; returns how many rows it had loaded."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SCRATCH_TABLE} WHERE {where}", params)
        removed = cursor.rowcount
        cursor.execute(f"VACUUM ANALYZE {SCRATCH_TABLE}")
    return removed
