"""Gunicorn's settings for `./gridline up` and the Docker image (read from the working
directory; command-line flags win).

Threaded workers (gthread): a sync worker is held by every connection it accepts until a
request arrives on it, and browsers pre-open idle connections, so after a map page three sync
workers stalled every other page for 30-65 s. A gthread worker parks idle connections in
its poller and gives threads only to requests; bench/idle_connections.py measures it.
"""

from __future__ import annotations

import os


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GRIDLINE_BIND", "127.0.0.1:8000")
worker_class = "gthread"
# One process per core, and threads for requests waiting on PostgreSQL or Redis.
workers = _int("GRIDLINE_WEB_WORKERS", _cores())
threads = _int("GRIDLINE_WEB_THREADS", 8)
# Idle connections kept per worker (browsers' pre-opened ones included).
worker_connections = _int("GRIDLINE_WEB_CONNECTIONS", 1000)
keepalive = _int("GRIDLINE_WEB_KEEPALIVE", 5)
timeout = _int("GRIDLINE_WEB_TIMEOUT", 120)
graceful_timeout = 30
# "-" is stdout; empty turns the access log off.
accesslog = os.environ.get("GRIDLINE_ACCESS_LOG", "-") or None
loglevel = os.environ.get("GRIDLINE_WEB_LOG_LEVEL", "warning")

# gunicorn 27's gthread worker gives each new connection a thread for up to 5 s to wait for
# its first bytes before parking it in the poller: 20 idle pre-opened connections held every
# thread of a worker and a page load waited 4.5 s behind them (bench/idle_connections.py).
# A connection that has sent nothing after this many seconds waits in the poller instead,
# costing no thread; when its request comes it is served as any other.
FIRST_BYTE_WAIT = float(os.environ.get("GRIDLINE_WEB_FIRST_BYTE_WAIT", "0.5"))


def post_fork(server, worker):
    from gunicorn.workers import gthread

    if hasattr(gthread, "DEFAULT_WORKER_DATA_TIMEOUT"):
        gthread.DEFAULT_WORKER_DATA_TIMEOUT = FIRST_BYTE_WAIT
