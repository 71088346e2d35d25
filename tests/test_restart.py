"""A restart of PostgreSQL or Redis is a short degradation, not an outage (#15, item 9).

The stand-in for a restart of PostgreSQL: the test database stops accepting connections
(`ALLOW_CONNECTIONS false`) and every connection to it but the test's own is terminated
(`pg_terminate_backend`); a few seconds later it accepts them again. Only this test's
database is touched, never the cluster (bench/restart_drill.py restarts the cluster for
real). The whole drill runs a real gunicorn (gunicorn.conf.py) and a real worker
(`manage.py worker`) in processes of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.test import Client

from grids.services.worker import WORKER_OUTAGE_ERRORS
from incidents.models import Incident
from tests.conftest import centre_of

ROOT = Path(__file__).resolve().parent.parent
OUTAGE_SECONDS = 4

pytestmark = pytest.mark.django_db(transaction=True)


def control_dsn() -> str:
    """The server of the test database, through the `postgres` database: a connection that
    survives the outage of the test database."""
    s = connection.settings_dict
    return (
        f"host={s['HOST'] or '127.0.0.1'} port={s['PORT'] or 5432} dbname=postgres "
        f"user={s['USER']} password={s['PASSWORD']}"
    )


@contextlib.contextmanager
def database_away(keep_own_connection: bool = True):
    """The test database refuses new connections and loses every open one (but the test's
    own, when asked) until the block ends."""
    name = connection.settings_dict["NAME"]
    own = None
    if keep_own_connection:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            own = cursor.fetchone()[0]
    else:
        connection.close()
    with psycopg.connect(control_dsn(), autocommit=True) as control:
        control.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            control.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() AND pid IS DISTINCT FROM %s",
                [name, own],
            )
            yield
        finally:
            control.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


# --- in process: what a request meets during the outage -------------------------------------


def test_during_an_outage_the_api_answers_503_json_and_pages_a_chinese_notice(users):
    client = Client()
    client.force_login(users.worker)
    assert client.get("/healthz").status_code == 200
    with database_away(keep_own_connection=False):
        api = client.get("/api/incidents/")
        page = client.get("/incidents/")
        health = client.get("/healthz")
    for answer in (api, page, health):
        assert answer.status_code == 503, answer.content[:300]
        assert int(answer["Retry-After"]) > 0
    assert api.json() == {
        "status": 503,
        "errors": [{"code": "service_unavailable", "message": api.json()["errors"][0]["message"]}],
    }
    text = page.content.decode()
    assert "暂时" in text and "Traceback" not in text and "<html" in text
    assert health.json()["database"] == "unavailable"
    # Back: the next request reconnects.
    assert client.get("/api/incidents/").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_a_redis_that_is_away_is_a_503_too(users, settings):
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.SharedRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    client = Client()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["cache"] == "unavailable"
    assert health.json()["database"] == "ok"
    login = client.post("/login/", {"username": "worker", "password": "pw-worker"})
    assert login.status_code == 503 and "Retry-After" in login


def test_jobs_left_running_by_a_dead_worker_go_back_to_the_queue(drill_table):
    from procrastinate.contrib.django import app

    from grids.services.worker import connection_params, requeue_orphans, worker_connector
    from tests import restart_jobs

    async def scenario():
        with app.replace_connector(worker_connector(connection_params())) as worker_app:
            async with worker_app.open_async():
                dead = await worker_app.job_manager.register_worker()
                job_id = await restart_jobs.record.defer_async(key="orphan")
                job = await worker_app.job_manager.fetch_job(
                    queues=["restart-drill"], worker_id=dead
                )
                assert job.id == job_id
                # The worker died before it could record the end: the next one requeues.
                return job_id, await requeue_orphans(worker_app, {dead})

    job_id, requeued = asyncio.run(scenario())
    assert requeued == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, worker_id FROM procrastinate_jobs WHERE id = %s", [job_id])
        assert cursor.fetchone() == ("todo", None)


# --- the drill: a real gunicorn and a real worker while clients write -----------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, port: int):
        self.port = port

    def request(self, method, path, body=None, token=None, timeout=10.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        try:
            conn.request(method, path, json.dumps(body) if body is not None else None, headers)
            response = conn.getresponse()
            # uvicorn sends header names in lower case; HTTP names are case-insensitive.
            headers = {k.title(): v for k, v in response.getheaders()}
            return response.status, headers, response.read()
        finally:
            conn.close()


def wait_until(check, seconds: float, step: float = 0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if check():
                return True
        time.sleep(step)
    return False


@pytest.fixture
def drill_table():
    with connection.cursor() as cursor:
        for table in ("restart_drill_runs", "restart_drill_attempts"):
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (key text, at timestamptz DEFAULT now())"
            )
            cursor.execute(f"TRUNCATE {table}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS restart_drill_runs, restart_drill_attempts")
        cursor.execute("DELETE FROM procrastinate_jobs WHERE queue_name = 'restart-drill'")


@pytest.fixture
def processes(tree, users, catalogue, drill_table, tmp_path):
    """gunicorn (2 workers x 4 threads) and `manage.py worker` on the test database."""
    s = connection.settings_dict
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.restart_settings",
        DATABASE_URL=(
            f"postgis://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:"
            f"{s['PORT'] or 5432}/{s['NAME']}"
        ),
        GRIDLINE_CACHE_URL="locmem://",
        GRIDLINE_WEB_WORKERS="2",
        GRIDLINE_WEB_THREADS="4",
        GRIDLINE_ACCESS_LOG="",
        GRIDLINE_WORKER_BACKOFF_MAX="2",
        GRIDLINE_WORKER_STALLED_SECONDS="5",
        DJANGO_MEDIA_ROOT=str(tmp_path),
    )
    port = free_port()
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("web", "worker")}  # noqa: SIM115
    children = {
        "web": subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.asgi:application",
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=logs["web"],
            stderr=subprocess.STDOUT,
        ),
        "worker": subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--concurrency", "4"],
            cwd=ROOT,
            env=env,
            stdout=logs["worker"],
            stderr=subprocess.STDOUT,
        ),
    }
    server = Server(port)
    try:
        assert wait_until(lambda: server.request("GET", "/healthz")[0] == 200, 180), (
            tmp_path / "web.log"
        ).read_text()[-3000:]
        yield server, children, tmp_path
    finally:
        for child in children.values():
            child.terminate()
        for child in children.values():
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
        for log in logs.values():
            log.close()


class Writer(threading.Thread):
    """Reports incidents with a client key until stopped; an unanswered or refused report is
    sent again with the same key until it is acknowledged, as the phone app does."""

    def __init__(self, server, token, point):
        super().__init__(daemon=True)
        self.server, self.token, self.point = server, token, point
        self.stop = threading.Event()
        self.acknowledged: dict[str, int] = {}
        self.statuses: list[int] = []
        self.bad_503s = 0

    def send(self, key) -> bool:
        body = {
            "title": "井盖缺失",
            "category": "T0101",
            "source": "patrol",
            "location": {"type": "Point", "coordinates": [self.point.x, self.point.y]},
            "client_key": key,
        }
        try:
            status, headers, content = self.server.request(
                "POST", "/api/incidents/", body, self.token
            )
        except (OSError, http.client.HTTPException):
            self.statuses.append(0)
            return False
        self.statuses.append(status)
        if status in (200, 201):
            self.acknowledged[key] = json.loads(content)["id"]
            return True
        if status == 503:
            if "Retry-After" not in headers or b"service_unavailable" not in content:
                self.bad_503s += 1
            time.sleep(0.2)
        return False

    def run(self):
        while not self.stop.is_set():
            key = str(uuid.uuid4())
            while not self.send(key):
                if self.stop.is_set() and self.statuses[-1] not in (0, 503):
                    break
                time.sleep(0.05)

    def finish(self):
        self.stop.set()
        self.join(60)


class Deferrer(threading.Thread):
    """Defers a job every 0.1 s until stopped; a defer refused by the outage is not one."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.keys: list[str] = []

    def run(self):
        from django.db import connections

        from tests import restart_jobs

        try:
            while not self.stop.is_set():
                key = f"job-{len(self.keys)}-{uuid.uuid4().hex[:6]}"
                try:
                    restart_jobs.record.defer(key=key)
                    self.keys.append(key)
                except WORKER_OUTAGE_ERRORS:  # the outage: this job was never deferred
                    connections.close_all()
                time.sleep(0.1)
        finally:
            connections.close_all()

    def finish(self):
        self.stop.set()
        self.join(30)


def test_a_database_restart_loses_no_write_and_no_job(processes, tree, users):
    from tests import restart_jobs

    server, children, logs = processes
    status, _, body = server.request(
        "POST", "/api/auth/token/", {"username": "worker", "password": "pw-worker"}
    )
    assert status in (200, 201), body
    token = json.loads(body)["token"]
    keys = [f"before-{i}" for i in range(20)]
    for key in keys:
        restart_jobs.record.defer(key=key)
    writers = [Writer(server, token, centre_of(tree.grids[(1, 1, 1)])) for _ in range(3)]
    for writer in writers:
        writer.start()
    deferrer = Deferrer()
    deferrer.start()
    time.sleep(2)

    with database_away():
        time.sleep(OUTAGE_SECONDS)
        during = server.request("GET", "/api/incidents/", token=token)
    back = time.monotonic()
    # The service answers within 10 s of the database being back (a bound, not a speed).
    recovered = wait_until(
        lambda: server.request("GET", "/api/incidents/", token=token)[0] == 200, 10, 0.1
    )
    recovery_s = time.monotonic() - back

    more = [f"after-{i}" for i in range(10)]
    for key in more:
        restart_jobs.record.defer(key=key)
    keys += more
    time.sleep(2)
    for writer in writers:
        writer.finish()
    deferrer.finish()
    keys += deferrer.keys

    def jobs_done():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) "
                "FROM procrastinate_jobs WHERE queue_name = 'restart-drill'"
            )
            done, total = cursor.fetchone()
            return done == total == len(keys)

    all_done = wait_until(jobs_done, 90, 0.5)

    statuses = [s for w in writers for s in w.statuses]
    acknowledged = {k: v for w in writers for k, v in w.acknowledged.items()}
    print(
        f"\nrestart drill: {len(acknowledged)} reports acknowledged, statuses "
        f"{ {s: statuses.count(s) for s in sorted(set(statuses))} }, back in {recovery_s:.1f} s"
    )
    assert during[0] == 503 and "Retry-After" in during[1]
    assert recovered, "no 200 within 10 s of the database being back"
    assert not [s for s in statuses if s >= 500 and s != 503], "a 500 during the restart"
    assert sum(w.bad_503s for w in writers) == 0
    assert 503 in statuses or 0 in statuses  # the writers did meet the outage
    # Every acknowledged write is there, once.
    found = dict(
        Incident.objects.filter(client_key__in=list(acknowledged)).values_list("client_key", "id")
    )
    assert {str(k): v for k, v in found.items()} == acknowledged
    # Every job ran to its end, none at the same time as itself.
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, count(*) FROM restart_drill_runs GROUP BY key")
        runs = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM restart_drill_attempts")
        attempts = cursor.fetchone()[0]
    print(f"restart drill: {len(keys)} jobs, {attempts} attempts")
    assert all_done, (logs / "worker.log").read_text()[-3000:]
    assert runs == dict.fromkeys(keys, 1)
    for name, child in children.items():
        assert child.poll() is None, f"the {name} process died"


def _django_error(cls, cause):
    error = cls("wrapped")
    error.__cause__ = cause
    return error


def test_only_connection_failures_count_as_an_outage():
    """A deadlock, a statement timeout or a full disk is a bug or an overload (a 500 to be
    seen), never a 503 "restarting, retry" that clients would loop on."""
    import psycopg.errors as pg
    from django.db import InterfaceError, OperationalError
    from redis.exceptions import AuthenticationError, ConnectionError

    from grids.resilience import is_outage

    assert is_outage(_django_error(OperationalError, pg.AdminShutdown("terminated")))
    assert is_outage(_django_error(OperationalError, pg.OperationalError("refused")))
    assert is_outage(_django_error(OperationalError, pg.CannotConnectNow("starting")))
    assert is_outage(InterfaceError("connection already closed"))
    assert is_outage(ConnectionError("redis away"))
    assert not is_outage(_django_error(OperationalError, pg.DeadlockDetected("deadlock")))
    assert not is_outage(_django_error(OperationalError, pg.QueryCanceled("timeout")))
    assert not is_outage(_django_error(OperationalError, pg.DiskFull("full")))
    assert not is_outage(AuthenticationError("wrong password"))
    # An unrelated error raised while an outage was being handled is not an outage.
    try:
        try:
            raise InterfaceError("closed")
        except InterfaceError:
            raise KeyError("a bug") from None
    except KeyError as bug:
        assert not is_outage(bug)
