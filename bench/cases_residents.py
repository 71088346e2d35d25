"""Bulk import of residents: our importer against ogr2ogr appending the same CSV into a table
made like grids_resident (bench/scratch.py)."""

from __future__ import annotations

import shutil
import subprocess
import time

from bench.data import SCRATCH_TABLE, drop_scratch_table, ogr_pg_connection
from bench.harness import CACHE_DIR, Case, CheckFailed, log
from bench.scratch import indexed_scratch_like, remove_scratch_rows

RESIDENTS = 100_000
# ID numbers of another region (110101, Beijing) than the demo's: no imported person is one
# of the demo's 2.7 million.
REGION = "110101"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def residents_csv(n: int):
    """n people (household key, name, ID number, sex, birth date) of the demo's households,
    with ID numbers of their own, written once under bench/.cache/."""
    import pandas as pd
    from django.db import connection

    path = CACHE_DIR / f"residents-{n}.csv"
    if path.exists():
        return path
    log(f"writing {path.name}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT h.client_key, r.name, r.sex, r.birth_date FROM grids_resident r "
            "JOIN grids_household h ON h.id = r.household_id "
            "WHERE h.removed_on IS NULL ORDER BY r.id LIMIT %s",
            [n],
        )
        rows = cursor.fetchall()
    numbers = []
    for i, (_key, _name, sex, birth) in enumerate(rows):
        seq = (i % 499) * 2 + (1 if sex == "M" else 0)
        body = f"{REGION}{birth:%Y%m%d}{seq:03d}"
        total = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True))
        numbers.append(body + "10X98765432"[total % 11])
    frame = pd.DataFrame(
        {
            "户编号": [r[0] for r in rows],
            "姓名": [r[1] for r in rows],
            "公民身份号码": numbers,
            "性别": ["男" if r[2] == "M" else "女" for r in rows],
            "出生日期": [f"{r[3]:%Y-%m-%d}" for r in rows],
        }
    )
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    frame.drop_duplicates("公民身份号码").to_csv(path, index=False)
    return path


class ResidentImport(Case):
    name = "import_residents_vs_ogr2ogr"
    description = (
        f"Import {RESIDENTS:,} residents (户编号, 姓名, 公民身份号码, 性别, 出生日期) from a CSV "
        "into the demo's households. Ours: import_residents(path, commit=True): read, check "
        "every row (ID number check digit, birth date and sex against it, duplicates, the "
        "household by its key, people already registered), COPY into grids_resident, member "
        "counts refreshed; undone (not timed) after every run. Reference: ogr2ogr -append "
        f"(COPY) of the same CSV into {SCRATCH_TABLE}, made like grids_resident with its rows."
    )
    ours_label = "import_residents(commit=True)"
    reference_label = "ogr2ogr -append into an indexed table like grids_resident"
    target = 1.5
    repeats = 3
    warmup = False

    def setup(self) -> None:
        self.ogr2ogr = shutil.which("ogr2ogr")
        if not self.ogr2ogr:
            raise RuntimeError("ogr2ogr is not installed (Debian package gdal-bin)")
        self.undo_ours()
        self.path = residents_csv(RESIDENTS)
        import pandas as pd

        self.expected = len(pd.read_csv(self.path, dtype=str))
        self.dsn, self.env = ogr_pg_connection()
        self.env["PG_USE_COPY"] = "YES"
        self.reference_loaded = None
        indexed_scratch_like("grids_resident", f"id_number NOT LIKE '{REGION}%'")

    def undo_ours(self) -> int:
        from django.db import connection

        from grids.services.households import refresh_member_counts

        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM grids_resident WHERE id_number LIKE %s RETURNING household_id",
                [REGION + "%"],
            )
            households = sorted({h for (h,) in cursor.fetchall()})
        if households:
            refresh_member_counts(households)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE grids_resident")
        return len(households)

    def ours(self):
        from grids.services.imports import import_residents

        return import_residents(self.path, commit=True)

    def after_ours(self, report) -> None:
        start = time.perf_counter()
        self.undo_ours()
        log(f"{self.name}: undone in {time.perf_counter() - start:.0f} s")

    def reference(self):
        select = (
            'SELECT "姓名" AS name, "公民身份号码" AS id_number, "性别" AS sex, '
            f'"出生日期" AS birth_date FROM "residents-{RESIDENTS}"'
        )
        command = [self.ogr2ogr, "-f", "PostgreSQL", self.dsn, str(self.path), "-append"]
        command += ["-nln", SCRATCH_TABLE, "-sql", select, "-gt", "unlimited"]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"ogr2ogr failed ({done.returncode}): {done.stderr.strip()}")
        return done

    def after_reference(self, result) -> None:
        loaded = remove_scratch_rows("id_number LIKE %s", [REGION + "%"])
        if self.reference_loaded is None:
            self.reference_loaded = loaded

    def check(self, ours, reference) -> dict:
        details = {
            "rows": self.expected,
            "ours_written": ours.written,
            "ours_errors": len(ours.errors),
            "ours_households": ours.households,
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


CASES = [ResidentImport]
