"""What the web server runs (`gunicorn config.asgi:application -c gunicorn.conf.py`, uvicorn
workers): /events/, the live event streams, are answered here by an async handler that
holds no thread while a stream is open; every other request goes to the WSGI application
(config/wsgi.py: the tile fast path, then Django with its middleware) in a pool of
GRIDLINE_WEB_THREADS threads per process, so pages behave as under a threaded server.

Why not Django's own ASGI handler: every view and middleware here is synchronous and
the tile fast path is WSGI middleware; a thread pool in front of the WSGI stack keeps both
as they are, and only the stream is async (bench/live_latency.py measures both paths).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from a2wsgi import WSGIMiddleware  # noqa: E402

from config.wsgi import application as wsgi_application  # noqa: E402
from live.asgi import events_app  # noqa: E402
from live.hub import stop_hub  # noqa: E402

EVENTS = "/events/"


def _threads() -> int:
    value = os.environ.get("GRIDLINE_WEB_THREADS", "").strip()
    return int(value) if value else 8


pages = WSGIMiddleware(wsgi_application, workers=_threads())


async def application(scope, receive, send):
    kind = scope["type"]
    # Behind a proxy with a path prefix (root_path) the path carries it: without removing it
    # every stream would fall into the WSGI fallback and hold a pool thread.
    if kind == "http" and scope["path"].removeprefix(scope.get("root_path", "")) == EVENTS:
        return await events_app(scope, receive, send)
    if kind == "lifespan":
        return await _lifespan(receive, send)
    return await pages(scope, receive, send)


async def _lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            # The listener's connections are closed; open streams end with the process.
            await stop_hub()
            await send({"type": "lifespan.shutdown.complete"})
            return
