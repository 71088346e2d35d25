"""Gunicorn's settings for `./gridline up` and the Docker image (read from the working
directory; command-line flags win). The application is config.asgi:application.

Uvicorn workers (issue #16): live event streams (/events/, Server-Sent Events) stay open for
hours, so they must not hold a thread each. A uvicorn worker serves every connection from
one asyncio loop: a stream is a coroutine waiting on its queue; every other request runs
the WSGI application in a pool of GRIDLINE_WEB_THREADS threads (config/asgi.py). Idle
pre-opened connections cost a socket in the loop, no thread: the gthread first-byte problem
of #15 (below) does not arise; bench/idle_connections.py and bench/live_latency.py measure
both. GRIDLINE_WEB_WORKER_CLASS=gthread (with config.wsgi:application) is the old set-up:
/events/ then holds a thread per stream for up to GRIDLINE_LIVE_WSGI_SECONDS.
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
# Uvicorn (config/web_worker.py), or gthread (the #15 set-up, with config.wsgi:application).
worker_class = os.environ.get("GRIDLINE_WEB_WORKER_CLASS", "config.web_worker.Worker")
# One process per core, and threads for requests waiting on PostgreSQL or Redis (gthread's
# threads, or the pool config/asgi.py runs pages in: config.web_worker passes this on).
workers = _int("GRIDLINE_WEB_WORKERS", _cores())
threads = _int("GRIDLINE_WEB_THREADS", 8)
# Connections kept per worker (browsers' pre-opened ones and open event streams included);
# under uvicorn (config.web_worker) the cap beyond which new ones are answered 503.
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


def on_starting(server):
    # gthread runs WSGI only: with config.asgi:application every request would fail. Said
    # once, at start, instead of a traceback per request.
    uri = str(getattr(server.app, "app_uri", "") or "")
    if "gthread" in str(server.cfg.worker_class_str) and "asgi" in uri:
        raise SystemExit(
            f"gunicorn: the gthread worker cannot run the ASGI application {uri}; "
            "use config.wsgi:application with GRIDLINE_WEB_WORKER_CLASS=gthread"
        )


def post_fork(server, worker):
    from config.web_worker import mask_kiosk_secrets

    # Kiosk secrets in old links' paths stay out of the access log (screen.views).
    mask_kiosk_secrets()
    # The class in force (a command-line --worker-class wins over the one above).
    if "gthread" not in str(server.cfg.worker_class_str):
        return
    from gunicorn.workers import gthread

    if hasattr(gthread, "DEFAULT_WORKER_DATA_TIMEOUT"):
        gthread.DEFAULT_WORKER_DATA_TIMEOUT = FIRST_BYTE_WAIT
