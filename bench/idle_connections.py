"""Idle pre-opened connections against a page load (#15, item 5).

    python -m bench.idle_connections [--idle 20] [--loads 5] [--compare-sync]

Starts gunicorn with the project's gunicorn.conf.py on a free loopback port, opens `--idle`
TCP connections that never send a byte (what a browser's speculative pre-connects look
like), then times `--loads` page loads (the login page and the static files it links, on a
fresh connection each, as a browser would). With `--compare-sync` it does the same with the
old configuration (3 sync workers) for scale; a load that takes longer than `--cap` seconds
is reported as such. It reports figures; it asserts nothing.

Needs the environment of `./gridline up` (DJANGO_SECRET_KEY, DATABASE_URL); the login page
reads nothing from the database.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cases_render import free_port

ROOT = Path(__file__).resolve().parent.parent
PAGE = "/login/"


def get(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept-Language": "zh-CN"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def page_load(port: int, timeout: float) -> float:
    """Seconds for the page and every /static/ file it links; raises on a timeout."""
    started = time.perf_counter()
    status, body = get(port, PAGE, timeout)
    if status != 200:
        raise RuntimeError(f"{PAGE} answered {status}")
    assets = sorted(set(re.findall(rb'(?:href|src)="(/static/[^"]+)"', body)))
    for asset in assets:
        remaining = timeout - (time.perf_counter() - started)
        get(port, asset.decode(), max(remaining, 0.01))
    return time.perf_counter() - started


def collected_static() -> str:
    """A STATIC_ROOT with the manifest the production storage needs: the one `./gridline up`
    collects, or one collected now into a temporary folder."""
    root = Path(os.environ.get("DJANGO_STATIC_ROOT", ROOT / "var" / "static"))
    if (root / "staticfiles.json").exists():
        return str(root)
    root = Path(tempfile.mkdtemp(prefix="gridline-static-"))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=dict(os.environ, DJANGO_STATIC_ROOT=str(root)),
        check=True,
    )
    return str(root)


def run(
    label: str,
    extra_args: list[str],
    *,
    idle: int,
    loads: int,
    cap: float,
    app: str = "config.asgi:application",
) -> dict:
    port = free_port()
    env = dict(
        os.environ,
        GRIDLINE_ACCESS_LOG="",
        GRIDLINE_WEB_LOG_LEVEL="error",
        DJANGO_STATIC_ROOT=collected_static(),
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            *extra_args,
        ],
        cwd=ROOT,
        env=env,
    )
    sockets: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                get(port, PAGE, 5)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"gunicorn ({label}) did not start") from None
                time.sleep(0.2)
        for _ in range(20):  # warm every worker and thread: templates, URLconf
            page_load(port, 30)
        sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(idle)]
        time.sleep(0.5)  # the server has accepted them
        times: list[float | None] = []
        for _ in range(loads):
            try:
                times.append(page_load(port, cap))
            except TimeoutError:
                times.append(None)
        done = [t for t in times if t is not None]
        return {
            "label": label,
            "idle": idle,
            "loads": loads,
            "timed_out": loads - len(done),
            "median_s": statistics.median(done) if done else None,
            "max_s": max(done) if done else None,
        }
    finally:
        for s in sockets:
            s.close()
        server.terminate()
        server.wait(30)


def describe(result: dict, cap: float) -> str:
    if result["median_s"] is None:
        return f"{result['label']}: every page load took more than {cap:.0f} s"
    text = (
        f"{result['label']}: {result['idle']} idle connections, page load median "
        f"{result['median_s'] * 1000:.0f} ms, max {result['max_s'] * 1000:.0f} ms"
    )
    if result["timed_out"]:
        text += f", {result['timed_out']} of {result['loads']} over {cap:.0f} s"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=int, default=20)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--cap", type=float, default=10.0, help="seconds before giving up")
    parser.add_argument("--compare-sync", action="store_true")
    args = parser.parse_args()
    results = [
        run("uvicorn (gunicorn.conf.py)", [], idle=args.idle, loads=args.loads, cap=args.cap)
    ]
    if args.compare_sync:
        # --threads 1: gunicorn turns a sync worker with threads into gthread.
        results.append(
            run(
                "sync x3 (before)",
                ["--worker-class", "sync", "--workers", "3", "--threads", "1"],
                idle=args.idle,
                loads=min(args.loads, 2),
                cap=args.cap,
                app="config.wsgi:application",
            )
        )
    for result in results:
        print(describe(result, args.cap))


if __name__ == "__main__":
    main()
