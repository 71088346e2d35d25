"""Sensors (issue #6): readings per second sustained through the HTTP bulk ingest endpoint,
against the same rows written by the same INSERT ... unnest statement directly."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import signal
import statistics
import threading
import time

from bench.cases_render import free_port, start_gunicorn
from bench.harness import Case, CheckFailed, log

INGEST_SENSORS = 5000
INGEST_BATCH = 1000  # readings per request
INGEST_BATCHES = 40  # per run: 40,000 readings
INGEST_CLIENTS = 2
INGEST_WORKERS = "2"
INGEST_TARGET_RPS = 2000.0
GATEWAY_CODE = "bench-ingest"
# The bench's readings are stamped in a window of their own, at a microsecond no device
# clock sends, and deleted after every run.
STAMP_MICROSECONDS = 123457

# Values that satisfy each built-in type's readings schema (sensors/catalogue.py).
VALUES = {
    "temp_humidity": lambda i: {"temperature_c": 10 + i % 25, "humidity_pct": 40 + i % 50},
    "smoke_detector": lambda i: {"smoke": False, "battery_pct": 50 + i % 50},
    "water_tank": lambda i: {"level_pct": 60 + i % 40},
    "camera": lambda i: {"online": True},
    "voice_pole": lambda i: {"volume": 60 + i % 40},
}

# The district and gateway holding the most devices: a gateway carries those (its token
# is lent to the bench and restored), or, where devices have no gateway, the bench's own
# gateway may speak for them.
BUSIEST_SQL = """
SELECT district_id, gateway_id FROM sensors_sensor
GROUP BY district_id, gateway_id ORDER BY count(*) DESC LIMIT 1
"""
SENSORS_SQL = """
SELECT s.id, s.code, t.code FROM sensors_sensor s
JOIN sensors_sensortype t ON t.id = s.type_id
WHERE s.district_id = %(district)s AND s.gateway_id IS NOT DISTINCT FROM %(gateway)s
  AND t.code = ANY(%(types)s) AND s.status <> 'maintenance'
ORDER BY s.id LIMIT %(n)s
"""
STATE_SQL = """
SELECT id, status, last_seen_at, latest::text, latest_at FROM sensors_sensor
WHERE id = ANY(%(ids)s)
"""
RESTORE_SQL = """
UPDATE sensors_sensor s SET status = u.status, last_seen_at = u.seen,
    latest = u.latest::jsonb, latest_at = u.latest_at
FROM unnest(%(ids)s::bigint[], %(status)s::text[], %(seen)s::timestamptz[],
            %(latest)s::text[], %(latest_at)s::timestamptz[])
    AS u(id, status, seen, latest, latest_at)
WHERE s.id = u.id
"""
DELETE_READINGS_SQL = """
DELETE FROM sensors_reading
WHERE sensor_id = ANY(%(ids)s) AND at >= %(lo)s AND at <= %(hi)s
  AND extract(microseconds FROM at)::int %% 1000000 = %(micro)s
"""


class SensorIngest(Case):
    name = "sensor_ingest"
    description = (
        "Readings per second through POST /api/sensors/ingest/: gunicorn (2 sync workers) "
        f"on the full demo, a gateway token, {INGEST_CLIENTS} client threads (http.client) "
        f"posting {INGEST_BATCHES} batches of {INGEST_BATCH:,} readings each (one per device, "
        f"for {INGEST_SENSORS:,} devices of the busiest gateway, values valid for their "
        "type's schema): parsing, checks against the schema, the INSERT, the devices' "
        "heartbeat, status and latest values, all in the request. Reference: the same rows "
        "written by the same INSERT ... SELECT FROM unnest(arrays) from the same number of "
        "threads, without HTTP, checks or device updates. Issue #6's target, reported in the "
        f"check: >= {INGEST_TARGET_RPS:,.0f} readings/s. The bench's readings are deleted and "
        "the devices' state restored after every run."
    )
    ours_label = f"HTTP ingest, {INGEST_BATCHES} x {INGEST_BATCH:,} readings"
    reference_label = "the same INSERT ... unnest, direct"
    target = 10.0
    repeats = 3
    warmup = True

    def setup(self) -> None:
        from django.db import connection

        from sensors.models import Gateway
        from sensors.services import readings
        from sensors.services.registry import issue_token

        with connection.cursor() as cursor:
            cursor.execute(BUSIEST_SQL)
            row = cursor.fetchone()
            if row is None:
                raise CheckFailed("no sensors in this database")
            district, gateway = row
            cursor.execute(
                SENSORS_SQL,
                {
                    "district": district,
                    "gateway": gateway,
                    "types": list(VALUES),
                    "n": INGEST_SENSORS,
                },
            )
            self.sensors = cursor.fetchall()
        if len(self.sensors) < INGEST_BATCH:
            raise CheckFailed(f"only {len(self.sensors)} devices to report for")
        self.ids = [pk for pk, _code, _type in self.sensors]
        self.lent = None
        if gateway is None:
            self.gateway = Gateway.objects.create(
                code=GATEWAY_CODE, name="bench ingest", district_id=district
            )
        else:
            self.gateway = Gateway.objects.get(pk=gateway)
            self.lent = (self.gateway.token_hash, self.gateway.last_seen_at)
        self.token = issue_token(self.gateway)
        with connection.cursor() as cursor:
            cursor.execute(STATE_SQL, {"ids": self.ids})
            self.state = cursor.fetchall()
            cursor.execute("SELECT coalesce(max(id), 0) FROM sensors_sensoralert")
            (self.last_alert,) = cursor.fetchone()
            cursor.execute(
                "SELECT id FROM sensors_sensoralert WHERE sensor_id = ANY(%s) AND ended_at IS NULL",
                [self.ids],
            )
            self.open_alerts = [pk for (pk,) in cursor.fetchall()]
        # Stamps a minute apart per batch, ending an hour ago: recent enough to bring the
        # devices online, in the past so none is refused as from the future.
        end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=STAMP_MICROSECONDS)
        end -= dt.timedelta(hours=1)
        self.stamps = [end - dt.timedelta(minutes=k) for k in range(INGEST_BATCHES)]
        readings.ensure_for({readings.month_of(at) for at in self.stamps})
        self.batches = [self._batch(k) for k in range(INGEST_BATCHES)]
        self.bodies = [json.dumps(b).encode() for b in self.batches]
        self.port = free_port()
        self.server = start_gunicorn(self.port, INGEST_WORKERS)
        log(
            f"{self.name}: gunicorn ({INGEST_WORKERS} sync workers) on 127.0.0.1:{self.port}, "
            f"{len(self.sensors):,} devices, gateway {self.gateway.code}"
        )
        self.rates: dict[str, list[float]] = {"ours": [], "reference": []}
        self.stored: dict[str, list[int]] = {"ours": [], "reference": []}

    def _batch(self, k: int) -> dict:
        n = len(self.sensors)
        at = self.stamps[k].isoformat()
        rows = []
        for j in range(INGEST_BATCH):
            i = (k * INGEST_BATCH + j) % n
            _pk, code, type_code = self.sensors[i]
            rows.append({"sensor": code, "at": at, "values": VALUES[type_code](i + k)})
        return {"readings": rows}

    def _threads(self, work, done=None) -> float:
        """Run work(k) for every batch from the client threads (then done()); the wall
        time."""
        lock = threading.Lock()
        todo = iter(range(INGEST_BATCHES))
        errors: list[str] = []

        def client():
            try:
                while True:
                    with lock:
                        k = next(todo, None)
                    if k is None:
                        return
                    try:
                        work(k)
                    except Exception as exc:  # reported after the threads end
                        with lock:
                            errors.append(f"batch {k}: {type(exc).__name__}: {exc}")
                        return
            finally:
                if done is not None:
                    done()

        threads = [threading.Thread(target=client) for _ in range(INGEST_CLIENTS)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        if errors:
            raise CheckFailed(errors[0])
        return wall

    def ours(self):
        accepted = []
        local = threading.local()

        def post(k: int) -> None:
            headers = {
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Host": "127.0.0.1",
            }
            for attempt in range(2):
                conn = getattr(local, "conn", None)
                if conn is None:
                    conn = local.conn = http.client.HTTPConnection(
                        "127.0.0.1", self.port, timeout=120
                    )
                try:
                    conn.request("POST", "/api/sensors/ingest/", self.bodies[k], headers)
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    local.conn = None
                    if attempt:
                        raise
                    continue
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    local.conn = None
                break
            if response.status != 200:
                raise CheckFailed(f"HTTP {response.status}: {data[:300]!r}")
            result = json.loads(data)
            if result["rejected"]:
                raise CheckFailed(f"rows refused: {result['rejected'][:3]}")
            accepted.append(result["accepted"]["readings"])

        wall = self._threads(post)
        self.rates["ours"].append(sum(accepted) / wall)
        return sum(accepted)

    def reference(self):
        from django.db import connection, transaction

        from sensors.sql import readings as sql

        by_code = {code: pk for pk, code, _type in self.sensors}
        prepared = []
        for k, body in enumerate(self.batches):
            rows = sorted(
                (by_code[r["sensor"]], self.stamps[k], r["values"]) for r in body["readings"]
            )
            prepared.append(rows)
        stored = []

        def insert(k: int) -> None:
            rows = prepared[k]
            with transaction.atomic():
                new = sql.insert_readings(
                    [r[0] for r in rows],
                    [r[1] for r in rows],
                    [json.dumps(r[2]) for r in rows],
                    dt.datetime.now(dt.UTC),
                )
            stored.append(new)

        # Each thread has its own connection (Django's are per thread), closed at its end.
        wall = self._threads(insert, done=lambda: connection.close())
        self.rates["reference"].append(sum(stored) / wall)
        return sum(stored)

    def _clean(self, side: str) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                DELETE_READINGS_SQL,
                {
                    "ids": self.ids,
                    "lo": min(self.stamps),
                    "hi": max(self.stamps),
                    "micro": STAMP_MICROSECONDS,
                },
            )
            self.stored.setdefault(side, []).append(cursor.rowcount)
        self._restore_devices()

    def _restore_devices(self) -> None:
        from django.db import connection, transaction

        rows = self.state
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                RESTORE_SQL,
                {
                    "ids": [r[0] for r in rows],
                    "status": [r[1] for r in rows],
                    "seen": [r[2] for r in rows],
                    "latest": [r[3] for r in rows],
                    "latest_at": [r[4] for r in rows],
                },
            )
            cursor.execute(
                "DELETE FROM sensors_sensoralert WHERE id > %s AND sensor_id = ANY(%s)",
                [self.last_alert, self.ids],
            )
            cursor.execute(
                "UPDATE sensors_sensoralert SET ended_at = NULL WHERE id = ANY(%s)",
                [self.open_alerts],
            )

    def after_ours(self, result) -> None:
        self._clean("ours")

    def after_reference(self, result) -> None:
        self._clean("reference")

    def check(self, ours, reference) -> dict:
        expected = INGEST_BATCHES * INGEST_BATCH
        if ours != expected or reference != expected:
            raise CheckFailed(f"stored {ours} (ours) and {reference} (reference) of {expected}")
        if set(self.stored["ours"]) != {expected} or set(self.stored["reference"]) != {expected}:
            raise CheckFailed(f"rows found after the runs: {self.stored}")
        timed = self.rates["ours"][1:] if self.warmup else self.rates["ours"]
        rtimed = self.rates["reference"][1:] if self.warmup else self.rates["reference"]
        rate = statistics.median(timed)
        verdict = "PASS" if rate >= INGEST_TARGET_RPS else "FAIL"
        log(f"{self.name}: {rate:,.0f} readings/s through HTTP ({verdict})")
        return {
            "readings_per_run": expected,
            "batch": INGEST_BATCH,
            "clients": INGEST_CLIENTS,
            "gunicorn_workers": int(INGEST_WORKERS),
            "devices": len(self.sensors),
            "ours_readings_per_s": round(rate),
            "ours_runs_readings_per_s": [round(r) for r in timed],
            "reference_readings_per_s": round(statistics.median(rtimed)),
            "issue_target": f">= {INGEST_TARGET_RPS:,.0f} readings/s",
            "issue_target_status": verdict,
        }

    def teardown(self) -> None:
        from sensors.models import Gateway

        if getattr(self, "server", None) is not None:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(timeout=30)
        if getattr(self, "stamps", None):
            self._clean("teardown")
        gateway = getattr(self, "gateway", None)
        if gateway is None:
            return
        if self.lent is None:
            Gateway.objects.filter(pk=gateway.pk, code=GATEWAY_CODE).delete()
        else:
            token_hash, last_seen_at = self.lent
            Gateway.objects.filter(pk=gateway.pk).update(
                token_hash=token_hash, last_seen_at=last_seen_at
            )


CASES = [SensorIngest]
