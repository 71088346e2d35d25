"""The data every case runs on: the full demo district (built once, then reused), and the
database settings for the tools that need their own connection."""

from __future__ import annotations

import os
import time

from bench.harness import log

SCALE = "full"
BENCH_KEY_PREFIX = "bench-"
SCRATCH_TABLE = "bench_scratch"

# The grids a household is keyed to: the same rule as grids/sql/bulk.py (_GRID_FOR_POINT).
CURRENT_GRIDS_SQL = """
SELECT g.id, g.code, ST_AsBinary(b.geom)
FROM grids_gridboundary b JOIN grids_grid g ON g.id = b.grid_id
WHERE b.valid_to IS NULL AND g.valid_to IS NULL AND g.theme = 'governance'
ORDER BY g.code
"""


class WrongDataset(SystemExit):
    pass


def ensure_demo() -> int:
    """Build the full demo district when the database has none; reuse it otherwise.
    Returns the number of demo households."""
    from grids.models import Household
    from grids.services import demo

    expected = demo.SCALES[SCALE]
    if not demo.exists():
        from grids.management.progress import TqdmProgress

        log(f"no demo district in this database: building it ({expected:,} households)")
        start = time.perf_counter()
        progress = TqdmProgress()
        result = demo.build(SCALE, progress=progress)
        demo.vacuum()
        progress.close()
        log(
            f"demo built in {time.perf_counter() - start:.0f} s: {result.grids} grids, "
            f"{result.households:,} households, {result.residents:,} residents"
        )
    remove_bench_households()
    count = Household.objects.filter(client_key__startswith="demo-").count()
    if count != expected:
        raise WrongDataset(
            f"this database holds a demo district with {count:,} households, not the "
            f"{expected:,} of the full scale the benchmarks are defined on. Point DATABASE_URL "
            "at another (empty) database, or rebuild with "
            "`./gridline manage demo --scale full --reset` (this deletes all its data)."
        )
    return count


def ensure_incident_demo() -> int:
    """The demo's year of incidents (incidents.services.demo), built once when the full demo
    district has none. Returns the number of incidents."""
    from django.apps import apps
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM incidents_incident")
        (count,) = cursor.fetchone()
    if count:
        return count
    from grids.management.progress import TqdmProgress
    from grids.services import demo

    log("no demo incidents in this database: building a year of them (210,000)")
    start = time.perf_counter()
    progress = TqdmProgress()
    result = apps.get_app_config("incidents").build_demo(SCALE, progress)
    demo.vacuum_all()
    progress.close()
    log(
        f"incidents built in {time.perf_counter() - start:.0f} s: {result.incidents:,} "
        f"incidents, {result.events:,} events, {result.tasks:,} tasks, {result.visits:,} visits"
    )
    return result.incidents


def ensure_report_demo() -> int:
    """The demo's 一表通 catalogue and year of ledger data (reports.services.demo), built
    once when the database has none; the incidents it derives from come first. Returns the
    number of ledger entries."""
    from django.apps import apps
    from django.db import connection

    ensure_incident_demo()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reports_ledgerentry")
        (count,) = cursor.fetchone()
    if count:
        return count
    from grids.management.progress import TqdmProgress
    from grids.services import demo

    log("no demo ledgers in this database: building the 一表通 catalogue and a year of them")
    start = time.perf_counter()
    progress = TqdmProgress()
    apps.get_app_config("reports").build_demo(SCALE, progress)
    demo.vacuum_all()
    progress.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reports_ledgerentry")
        (count,) = cursor.fetchone()
    log(f"ledgers built in {time.perf_counter() - start:.0f} s: {count:,} entries")
    return count


def remove_bench_households() -> int:
    """Delete the households a benchmark import wrote (client key bench-<n>)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM grids_household WHERE client_key LIKE %s", [BENCH_KEY_PREFIX + "%"]
        )
        deleted = cursor.rowcount
        if deleted:
            # Outside a transaction (Django autocommits): leave the table as the demo left it.
            cursor.execute("VACUUM ANALYZE grids_household")
    return deleted


def compact_households() -> None:
    """Rewrite the households table and its indexes without the dead rows of the imports."""
    from django.db import connection

    log("compacting grids_household (VACUUM FULL)")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM FULL grids_household")
        # VACUUM FULL leaves the visibility map empty; index-only scans need it.
        cursor.execute("VACUUM ANALYZE grids_household")


def drop_scratch_table() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")


def ogr_pg_connection() -> tuple[str, dict]:
    """The `PG:` data source of Django's database for ogr2ogr, and the environment to run it
    with. The password goes in PGPASSWORD (libpq reads it) rather than on the command line,
    where every user of the machine could see it."""
    from django.db import connection

    settings = connection.settings_dict

    def quoted(value) -> str:
        text = str(value)
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    parts = []
    for key, name in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("NAME", "dbname")):
        if settings.get(key):
            parts.append(f"{name}={quoted(settings[key])}")
    env = dict(os.environ)
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    return "PG:" + " ".join(parts), env
