"""Bulk import: our household importer against ogr2ogr loading the same GeoPackage."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from bench.data import (
    BENCH_KEY_PREFIX,
    SCRATCH_TABLE,
    compact_households,
    drop_scratch_table,
    ogr_pg_connection,
    remove_bench_households,
)
from bench.harness import CACHE_DIR, Case, CheckFailed, log
from bench.scratch import indexed_scratch_like, remove_scratch_rows

LAYER = "households"


def households_gpkg() -> tuple[Path, int]:
    """The demo's households as a GeoPackage (address, key, point), written once under
    bench/.cache/. The key is bench-<n> for the household whose demo key is demo-<n>, so the
    import does not collide with the demo and each imported row can be matched to its
    original."""
    import pyogrio

    from grids.models import Household

    expected = Household.objects.filter(client_key__startswith="demo-").count()
    path = CACHE_DIR / f"households-{expected}.gpkg"
    if path.exists():
        try:
            info = pyogrio.read_info(path, layer=LAYER)
        except Exception:  # unreadable leftover: write it again
            info = None
        if info is not None and info["features"] == expected:
            return path, expected
    import geopandas as gpd
    import numpy as np
    import shapely
    from django.db import connection

    log(f"writing {path.relative_to(CACHE_DIR.parent.parent)} ({expected:,} households)")
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT address, substr(client_key, 6), ST_X(location), ST_Y(location)"
            " FROM grids_household WHERE client_key LIKE 'demo-%%' ORDER BY id"
        )
        rows = cursor.fetchall()
    address, number, lon, lat = zip(*rows, strict=True)
    frame = gpd.GeoDataFrame(
        {"address": list(address), "key": [BENCH_KEY_PREFIX + n for n in number]},
        geometry=shapely.points(np.array(lon), np.array(lat)),
        crs="EPSG:4326",
    )
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".partial.gpkg")
    partial.unlink(missing_ok=True)
    # GeoPackage 1.2 so that older GDALs (Debian's ogr2ogr) read it without a warning.
    pyogrio.write_dataframe(frame, partial, layer=LAYER, dataset_options={"VERSION": "1.2"})
    partial.replace(path)
    log(f"written in {time.perf_counter() - start:.0f} s")
    return path, expected


# Every imported household against the demo household it was made from.
COMPARE_SQL = """
SELECT count(*),
       count(*) FILTER (WHERE b.grid_id IS DISTINCT FROM d.grid_id),
       count(*) FILTER (WHERE NOT ST_Equals(b.location, d.location)
                           OR b.address <> d.address),
       count(*) FILTER (WHERE b.grid_id IS NULL)
FROM grids_household b
JOIN grids_household d ON d.client_key = 'demo-' || substr(b.client_key, %(skip)s)
WHERE b.client_key LIKE %(prefix)s
"""


class ImportVsOgr2ogr(Case):
    name = "import_vs_ogr2ogr"
    description = (
        "Import 1,000,000 household points (address, key, point) from a GeoPackage into a table "
        "already holding the demo's 1,000,000. Ours: grids.services.imports.import_households("
        "path, commit=True): read, check every row, key every point to its grid, insert into "
        "grids_household; undone (not timed) after every run. Reference: ogr2ogr -append (COPY, "
        f"one transaction) of the same file into {SCRATCH_TABLE}, a table made like "
        "grids_household (same columns, primary key, GiST, unique key and grid indexes) holding "
        "the same 1,000,000 demo rows; undone (not timed) after every run."
    )
    ours_label = "import_households(commit=True)"
    reference_label = "ogr2ogr -append into an indexed table like grids_household"
    target = 1.5
    repeats = 3
    warmup = False

    def setup(self) -> None:
        self.ogr2ogr = shutil.which("ogr2ogr")
        if not self.ogr2ogr:
            raise RuntimeError("ogr2ogr is not installed (Debian package gdal-bin)")
        remove_bench_households()
        drop_scratch_table()
        self.path, self.expected = households_gpkg()
        self.dsn, self.env = ogr_pg_connection()
        # COPY rather than one INSERT per row: ogr2ogr's fastest way into an existing table.
        self.env["PG_USE_COPY"] = "YES"
        self.compared: dict | None = None
        self.reference_loaded: int | None = None
        indexed_scratch_like("grids_household", "client_key LIKE 'demo-%'")

    def ours(self):
        from grids.services.imports import import_households

        return import_households(self.path, commit=True)

    def after_ours(self, report) -> None:
        if self.compared is None and report.committed:
            from django.db import connection

            with connection.cursor() as cursor:
                params = {"skip": len(BENCH_KEY_PREFIX) + 1, "prefix": BENCH_KEY_PREFIX + "%"}
                cursor.execute(COMPARE_SQL, params)
                matched, other_grid, other_place, in_no_grid = cursor.fetchone()
            self.compared = {
                "matched_to_demo": matched,
                "grid_differs_from_demo": other_grid,
                "place_or_address_differs": other_place,
                "in_no_grid": in_no_grid,
            }
        start = time.perf_counter()
        removed = remove_bench_households()
        elapsed = time.perf_counter() - start
        log(f"{self.name}: undone, {removed:,} imported households removed in {elapsed:.0f} s")

    def reference(self):
        command = [
            self.ogr2ogr,
            "-f",
            "PostgreSQL",
            self.dsn,
            str(self.path),
            "-append",
            "-nln",
            SCRATCH_TABLE,
            "-sql",
            f"SELECT address, key AS client_key, geom FROM {LAYER}",
            "-gt",
            "unlimited",
        ]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"ogr2ogr failed ({done.returncode}): {done.stderr.strip()}")
        return done

    def after_reference(self, result) -> None:
        loaded = remove_scratch_rows("client_key LIKE %s", [BENCH_KEY_PREFIX + "%"])
        if self.reference_loaded is None:
            self.reference_loaded = loaded

    def check(self, ours, reference) -> dict:
        loaded = self.reference_loaded
        details = {
            "households": self.expected,
            "ours_written": ours.written,
            "ours_flagged_in_no_grid": ours.flagged,
            "ours_errors": len(ours.errors),
            "reference_rows": loaded,
            **(self.compared or {}),
        }
        if ours.errors or not ours.committed:
            raise CheckFailed(f"our import reported errors: {[str(p) for p in ours.errors[:5]]}")
        if ours.written != self.expected or loaded != self.expected:
            raise CheckFailed(
                f"expected {self.expected:,} rows, ours wrote {ours.written:,}, ogr2ogr {loaded:,}"
            )
        if self.compared is None or self.compared["matched_to_demo"] != self.expected:
            raise CheckFailed(f"imported households do not match the demo's: {self.compared}")
        if self.compared["grid_differs_from_demo"] or self.compared["place_or_address_differs"]:
            raise CheckFailed(f"imported households differ from the demo's: {self.compared}")
        log(f"{self.name}: check ok, every household keyed to the same grid as in the demo")
        return details

    def teardown(self) -> None:
        remove_bench_households()
        drop_scratch_table()
        # Each run added and deleted 1,000,000 rows: give the table back at its own size, so
        # that the next run of the other cases (the roll-up scans it) finds it as built.
        compact_households()


CASES = [ImportVsOgr2ogr]
