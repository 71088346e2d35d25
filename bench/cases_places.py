"""Bulk import of the 一标三实 places: our building and unit importers against ogr2ogr
appending the same GeoPackage into a table made like ours (bench/scratch.py)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from bench.data import SCRATCH_TABLE, drop_scratch_table, ogr_pg_connection
from bench.harness import CACHE_DIR, Case, CheckFailed, log
from bench.scratch import indexed_scratch_like, remove_scratch_rows

PREFIX = "bench-"
HALF = 0.00005  # half a footprint's side in degrees: about 10 m squares
BUILDINGS = 100_000
UNITS = 30_000


def places_gpkg(kind: str, n: int) -> Path:
    """n buildings (10 m square footprints) or units (points) at every 10th demo household,
    with the columns a register has, written once under bench/.cache/."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely
    from django.db import connection

    path = CACHE_DIR / f"{kind}-{n}.gpkg"
    if path.exists():
        return path
    log(f"writing {path.name}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(location), ST_Y(location) FROM grids_household "
            "WHERE client_key LIKE 'demo-%%' AND id %% 10 = 0 ORDER BY id LIMIT %s",
            [n],
        )
        lon, lat = map(np.array, zip(*cursor.fetchall(), strict=True))
    keys = [f"{PREFIX}{i}" for i in range(len(lon))]
    if kind == "buildings":
        data = {"房屋编码": keys, "层数": (np.arange(len(lon)) % 30) + 1, "用途": "住宅"}
        geometry = shapely.box(lon - HALF, lat - HALF, lon + HALF, lat + HALF)
    else:
        data = {"单位名称": [f"单位{i}" for i in range(len(lon))], "单位类型": "民营企业"}
        data |= {"从业人数": np.arange(len(lon)) % 200, "单位编号": keys}
        geometry = shapely.points(lon, lat)
    frame = gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(frame, path, layer=kind, dataset_options={"VERSION": "1.2"})
    return path


class PlaceImport(Case):
    kind = ""
    table = ""
    key_column = ""
    expected = 0
    select = ""
    target = 1.5
    repeats = 3
    warmup = False

    def setup(self) -> None:
        self.ogr2ogr = shutil.which("ogr2ogr")
        if not self.ogr2ogr:
            raise RuntimeError("ogr2ogr is not installed (Debian package gdal-bin)")
        self.undo_ours()
        self.path = places_gpkg(self.kind, self.expected)
        self.dsn, self.env = ogr_pg_connection()
        self.env["PG_USE_COPY"] = "YES"
        self.reference_loaded = None
        self.keyed = None
        indexed_scratch_like(self.table, f"{self.key_column} NOT LIKE '{PREFIX}%'")

    def undo_ours(self) -> int:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {self.table} WHERE {self.key_column} LIKE %s", [PREFIX + "%"]
            )
            removed = cursor.rowcount
            cursor.execute(f"VACUUM ANALYZE {self.table}")
        return removed

    def after_ours(self, report) -> None:
        from django.db import connection

        if self.keyed is None and report.committed:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT count(*), count(grid_id) FROM {self.table} "
                    f"WHERE {self.key_column} LIKE %s",
                    [PREFIX + "%"],
                )
                self.keyed = cursor.fetchone()
        start = time.perf_counter()
        removed = self.undo_ours()
        log(f"{self.name}: undone, {removed:,} removed in {time.perf_counter() - start:.0f} s")

    def reference(self):
        command = [self.ogr2ogr, "-f", "PostgreSQL", self.dsn, str(self.path), "-append"]
        command += ["-nln", SCRATCH_TABLE, "-sql", self.select, "-gt", "unlimited"]
        command += self.options
        done = subprocess.run(command, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"ogr2ogr failed ({done.returncode}): {done.stderr.strip()}")
        return done

    def after_reference(self, result) -> None:
        loaded = remove_scratch_rows(f"{self.key_column} LIKE %s", [PREFIX + "%"])
        if self.reference_loaded is None:
            self.reference_loaded = loaded

    def check(self, ours, reference) -> dict:
        details = {
            "rows": self.expected,
            "ours_written": ours.written,
            "ours_errors": len(ours.errors),
            "ours_flagged_in_no_grid": ours.flagged,
            "ours_rows_and_keyed": self.keyed,
            "reference_rows": self.reference_loaded,
        }
        if ours.errors or not ours.committed:
            raise CheckFailed(f"our import reported errors: {[str(p) for p in ours.errors[:5]]}")
        if ours.written != self.expected or self.reference_loaded != self.expected:
            raise CheckFailed(f"expected {self.expected:,} rows: {details}")
        return details

    def teardown(self) -> None:
        self.undo_ours()
        drop_scratch_table()


class BuildingImport(PlaceImport):
    name = "import_buildings_vs_ogr2ogr"
    kind = "buildings"
    table = "grids_building"
    key_column = "code"
    expected = BUILDINGS
    select = 'SELECT "房屋编码" AS code, "层数" AS floors, "用途" AS use, geom FROM buildings'
    options = ["-nlt", "MULTIPOLYGON"]
    description = (
        f"Import {BUILDINGS:,} building footprints (10 m squares at every 10th demo household; "
        "房屋编码, 层数, 用途) from a GeoPackage. Ours: import_buildings(path, commit=True): "
        "read, check every row with the building service's check, point on surface, key to "
        "grid, insert into grids_building. Reference: ogr2ogr -append (COPY, one transaction) "
        f"of the same file into {SCRATCH_TABLE}, made like grids_building with its rows."
    )
    ours_label = "import_buildings(commit=True)"
    reference_label = "ogr2ogr -append into an indexed table like grids_building"

    def ours(self):
        from grids.services.imports import import_buildings

        return import_buildings(self.path, commit=True)


class UnitImport(PlaceImport):
    name = "import_units_vs_ogr2ogr"
    kind = "units"
    table = "grids_unit"
    key_column = "client_key"
    expected = UNITS
    select = (
        'SELECT "单位名称" AS name, "从业人数" AS employees, "单位编号" AS client_key, geom '
        "FROM units"
    )
    options = []
    description = (
        f"Import {UNITS:,} units (points at every 10th demo household; 单位名称, 单位类型 by "
        "Chinese name, 从业人数, 单位编号) from a GeoPackage. Ours: import_units(path, "
        "commit=True): read, check every row with the unit service's check (type from the "
        "catalogue), key to grid, insert into grids_unit. Reference: ogr2ogr -append (COPY) "
        f"into {SCRATCH_TABLE}, made like grids_unit with its rows (type left empty)."
    )
    ours_label = "import_units(commit=True)"
    reference_label = "ogr2ogr -append into an indexed table like grids_unit"

    def ours(self):
        from grids.services.imports import import_units

        return import_units(self.path, commit=True)


CASES = [BuildingImport, UnitImport]
