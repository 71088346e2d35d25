"""Bulk loading shared by the importers of every app: COPY of a DataFrame in chunks, and the
rule that keys a point to its grid, as a join over a temporary table of indexed points."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pa_csv

# The grid a point belongs to: the governance grid whose current boundary covers it, the
# smallest code first when it lies on a shared edge (same rule as Grid.objects.containing).
_GRID_FOR_POINT = """
    SELECT g.id FROM grids_gridboundary b JOIN grids_grid g ON g.id = b.grid_id
    WHERE b.valid_to IS NULL AND g.valid_to IS NULL AND g.theme = 'governance'
      AND ST_Intersects(b.geom, {point})
    ORDER BY g.code LIMIT 1
"""

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

COPY_CHUNK = 50_000

# For the rest of a bulk load's transaction: sorts and hashes of a million staged rows in
# memory rather than in temporary files (the default 4 MB spills them to disk), and no JIT:
# compiling each large statement costs more than it saves on plain scans and joins.
BULK_SETTINGS = "SELECT set_config('work_mem', '256MB', true), set_config('jit', 'off', true)"


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
