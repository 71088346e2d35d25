"""Live events under the served set-up (#16): commit-to-client latency, memory per open
stream, and pages served while many streams are open.

    python -m bench.live_latency [--clients 200] [--events 30] [--idle 1000] [--loads 40]

Starts gunicorn with the project's gunicorn.conf.py (uvicorn workers, config.asgi) on a free
loopback port against DATABASE_URL (the full demo: gridline_bench), logs a street centre in
by writing a session, then:

1. pages without streams: `--loads` timed GETs of /healthz and of the street's incident
   queue (/api/incidents/), each on a fresh connection;
2. `--clients` streams on /events/, then `--events` incidents published one every 0.2 s
   through live.services.publish into the street's scope: latency = the moment a client
   reads the frame minus the moment before publish() (insert, NOTIFY, commit included);
3. memory: the workers' resident memory before any stream and with `--idle` streams open
   (the `--clients` included), per stream;
4. pages again with the `--idle` streams open, and the latency of one more round of events
   with all of them connected.

Clients are asyncio sockets in this process (one loop, one thread), reading the raw
chunked stream. It writes bench/results/live.json and removes its session and events.
It reports figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from bench.cases_render import free_port
from bench.idle_connections import collected_static

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "live.json"
SEQ = re.compile(rb'"run":"(?P<run>[0-9a-f]+)","seq":(?P<seq>\d+)')


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def session_for_street() -> tuple[str, object]:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from grids.models import User

    user = (
        User.objects.filter(role="street_centre", is_active=True, region__isnull=False)
        .order_by("id")
        .first()
    )
    if user is None:
        raise SystemExit("no street centre user: is this the full demo database?")
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key, user


def get(port: int, path: str, cookie: str, timeout: float = 30.0) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "Accept-Language": "zh-CN"})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def pages(port: int, cookie: str, loads: int) -> dict:
    found = {}
    for path in ("/healthz", "/api/incidents/"):
        times = []
        for _ in range(loads):
            status, seconds = get(port, path, cookie)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
            times.append(seconds)
        found[path] = summary(times)
    return found


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


class Clients:
    """SSE clients on one asyncio loop in a thread of this process."""

    def __init__(self, port: int, cookie: str):
        self.port, self.cookie = port, cookie
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.writers: list[asyncio.StreamWriter] = []
        self.received: dict[tuple[str, int], list[float]] = {}
        self.tasks: list = []

    def open(self, n: int, timeout: float = 180.0) -> float:
        started = time.perf_counter()
        futures = [asyncio.run_coroutine_threadsafe(self._connect(), self.loop) for _ in range(n)]
        for future in futures:
            future.result(timeout)
        return time.perf_counter() - started

    async def _connect(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(
            (
                "GET /events/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Cookie: {self.cookie}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        buffer = b""
        while b"event: hello" not in buffer:
            chunk = await reader.read(65536)
            if not chunk:
                raise RuntimeError(f"stream closed before its hello: {buffer[:300]!r}")
            buffer += chunk
        if not buffer.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(buffer[:300])
        self.writers.append(writer)
        self.tasks.append(asyncio.ensure_future(self._read(reader)))

    async def _read(self, reader) -> None:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return
            now = time.time()
            for match in SEQ.finditer(chunk):
                key = (match["run"].decode(), int(match["seq"]))
                self.received.setdefault(key, []).append(now)

    def close(self) -> None:
        async def shut():
            for writer in self.writers:
                writer.close()
            for task in self.tasks:
                task.cancel()

        asyncio.run_coroutine_threadsafe(shut(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def publish_round(user, events: int, run: str) -> dict[int, float]:
    from live.services import publish

    sent = {}
    for seq in range(events):
        before = time.time()
        publish(
            "incident.created",
            {"run": run, "seq": seq},
            rule="incident",
            layers=["incidents"],
            street=user.region_id,
            district=user.region.parent_id,
        )
        sent[seq] = before
        time.sleep(0.2)
    return sent


def latencies(clients: Clients, sent: dict[int, float], run: str, expected: int) -> dict:
    deadline = time.time() + 15
    while time.time() < deadline:
        if all(len(clients.received.get((run, s), [])) >= expected for s in sent):
            break
        time.sleep(0.2)
    values, missing = [], 0
    for seq, before in sent.items():
        got = clients.received.get((run, seq), [])
        missing += max(0, expected - len(got))
        values += [t - before for t in got]
    return summary(values) | {"events": len(sent), "clients": expected, "missing": missing}


def worker_rss_kb(master: int) -> int:
    total = 0
    for pid in Path("/proc").iterdir():
        if not pid.name.isdigit():
            continue
        try:
            status = (pid / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("PPid", "0").strip()) == master:
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total


def start(app: str, extra: list[str], cookie: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(
        os.environ,
        GRIDLINE_ACCESS_LOG="",
        GRIDLINE_WEB_LOG_LEVEL="error",
        DJANGO_STATIC_ROOT=collected_static(),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "-c", "gunicorn.conf.py"]
        + ["--bind", f"127.0.0.1:{port}", *extra],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 180
    while True:
        try:
            if get(port, "/healthz", cookie, 5)[0] == 200:
                return server, port
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.terminate()
            raise RuntimeError(f"gunicorn ({app}) did not start")
        time.sleep(0.3)


def gthread(cookie: str, streams: int, loads: int, cap: float = 10.0) -> dict:
    """The #15 set-up (gthread, config.wsgi): /events/ is the polling fallback, a thread each."""
    server, port = start("config.wsgi:application", ["--worker-class", "gthread"], cookie)
    sockets = []
    try:
        pages(port, cookie, 5)
        request = f"GET /events/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n"
        for _ in range(streams):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(request.encode())
            sockets.append(sock)
        time.sleep(2)
        times, over = [], 0
        for _ in range(min(loads, 10)):
            try:
                times.append(get(port, "/healthz", cookie, cap)[1])
            except TimeoutError:
                over += 1
        return {"streams": streams, "healthz": summary(times), f"over_{cap:.0f}_s": over}
    finally:
        for sock in sockets:
            sock.close()
        server.terminate()
        server.wait(60)


def served(args, user, cookie: str, run: str) -> dict:
    result: dict = {}
    server, port = start("config.asgi:application", [], cookie)
    clients = None
    try:
        pages(port, cookie, 10)  # warm every worker: URLconf, templates, connections
        result["pages_without_streams"] = pages(port, cookie, args.loads)
        rss_before = worker_rss_kb(server.pid)
        clients = Clients(port, cookie)
        result["open_seconds"] = {str(args.clients): round(clients.open(args.clients), 2)}
        time.sleep(1)
        sent = publish_round(user, args.events, run + "a")
        result["latency"] = latencies(clients, sent, run + "a", args.clients)
        more = args.idle - args.clients
        if more > 0:
            result["open_seconds"][str(args.idle)] = round(clients.open(more), 2)
        time.sleep(2)
        rss_after = worker_rss_kb(server.pid)
        result["memory"] = {
            "workers_rss_kb_before": rss_before,
            "workers_rss_kb_with_streams": rss_after,
            "streams": args.idle,
            "per_stream_kb": round((rss_after - rss_before) / max(args.idle, 1), 1),
        }
        result["pages_with_streams"] = pages(port, cookie, args.loads)
        sent = publish_round(user, args.events, run + "b")
        result["latency_all_streams"] = latencies(clients, sent, run + "b", args.idle)
    finally:
        if clients is not None:
            clients.close()
        server.terminate()
        server.wait(60)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--loads", type=int, default=40)
    parser.add_argument(
        "--compare-gthread",
        type=int,
        default=0,
        metavar="N",
        help="also time /healthz under the old gthread set-up with N streams open",
    )
    args = parser.parse_args()
    setup_django()
    from django.contrib.sessions.models import Session
    from django.db import connection

    from live.models import Event

    key, user = session_for_street()
    cookie = f"sessionid={key}"
    run = uuid.uuid4().hex[:12]
    result: dict = {"run": run}
    try:
        result |= served(args, user, cookie, run)
        if args.compare_gthread:
            result["gthread_with_streams"] = gthread(cookie, args.compare_gthread, args.loads)
    finally:
        Event.objects.filter(object__run__startswith=run).delete()
        Session.objects.filter(session_key=key).delete()
    result["environment"] = {
        "python": platform.python_version(),
        "cpus": len(os.sched_getaffinity(0)),
        "workers": os.environ.get("GRIDLINE_WEB_WORKERS", "one per core"),
        "threads": os.environ.get("GRIDLINE_WEB_THREADS", "8"),
        "database": connection.settings_dict["NAME"],
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    connection.close()
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
