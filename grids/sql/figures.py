"""Raw SQL of the precomputed grid figures: their lock, the stale marks that the row triggers
write (migration grids 0005), and switching those triggers off for a bulk write."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from django.db import connection

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
