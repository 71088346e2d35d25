"""The gunicorn worker class of `./gridline up` and the image (gunicorn.conf.py): uvicorn's,
with a bound on the graceful shutdown. Event streams never finish by themselves, so without
it a restart waited gunicorn's whole graceful_timeout for them; after this many seconds
the streams still open are cut and the browsers reconnect (to the new process) with their
Last-Event-ID. Requests for pages finish well within it."""

import os

from uvicorn_worker import UvicornWorker


class Worker(UvicornWorker):
    CONFIG_KWARGS = {
        "loop": "auto",
        "http": "auto",
        "timeout_graceful_shutdown": int(os.environ.get("GRIDLINE_WEB_SHUTDOWN_SECONDS", "10")),
    }
