"""Raw SQL of reports, where the ORM cannot say it: the lock that orders keeping past derived
figures against dropping them (reports.services.snapshots). An advisory lock, because no row
stands for "the kept figures": locking indicator rows instead would deadlock a writer that
keeps several indicators in a report's column order against a drop taking them in pk order."""

from __future__ import annotations

from django.db import connection

# Writers share it; a drop takes it alone.
SNAPSHOT_LOCK = 2260_0017


def lock_snapshots(*, shared: bool) -> None:
    """Take the snapshot lock for the rest of the current transaction."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [SNAPSHOT_LOCK])
