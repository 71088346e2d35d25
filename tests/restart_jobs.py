"""A job for tests/test_restart.py, loaded by its worker through tests/restart_settings.py.

It writes one row per key, as the platform's jobs are written: idempotent (a second run of
a job whose end could not be recorded changes nothing), but two runs at the same time would
both write, which is what the test looks for. Every attempt is counted apart."""

from __future__ import annotations

import time

from django.db import connection, transaction
from procrastinate.contrib.django import app

RUNS = "restart_drill_runs"
ATTEMPTS = "restart_drill_attempts"


@app.task(queue="restart-drill", name="restart_drill.record")
def record(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {ATTEMPTS} (key) VALUES (%s)", [key])  # noqa: S608
    # Long enough for an outage to fall inside a job now and then.
    time.sleep(0.2)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {RUNS} WHERE key = %s", [key])  # noqa: S608
        if cursor.fetchone()[0] == 0:
            time.sleep(0.05)  # widens the window in which two concurrent runs both write
            cursor.execute(f"INSERT INTO {RUNS} (key) VALUES (%s)", [key])  # noqa: S608
