"""The gunicorn worker class of `./gridline up` and the image (gunicorn.conf.py): uvicorn's,
with a bound on the graceful shutdown. Event streams never finish by themselves, so without
it a restart waited gunicorn's whole graceful_timeout for them; after this many seconds
the streams still open are cut and the browsers reconnect (to the new process) with their
Last-Event-ID. Requests for pages finish well within it.

uvicorn_worker reads neither gunicorn's `threads` nor its `worker_connections`; this class
passes both on (review M5), so gunicorn.conf.py and `--threads`/`--worker-connections` mean
what they say: the pool config/asgi.py runs pages in, and the cap on open connections and
streams per process (uvicorn answers 503 beyond it)."""

import logging
import os
import re

from uvicorn_worker import UvicornWorker

# A kiosk link's secret (screen.views): links issued before the secret moved into the URL's
# fragment still carry it in the path, and access logs and proxies keep request lines.
KIOSK_PATH = re.compile(r"(/screen/kiosk/)[^\s?#\"]+")


def _mask(value):
    return KIOSK_PATH.sub(r"\1…", value) if isinstance(value, str) else value


class MaskKioskSecrets(logging.Filter):
    """Masks kiosk secrets in access log records (uvicorn's args tuple, gunicorn's atoms)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_mask(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _mask(v) for k, v in record.args.items()}
        record.msg = _mask(record.msg)
        return True


def mask_kiosk_secrets() -> None:
    for name in ("uvicorn.access", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskKioskSecrets) for f in logger.filters):
            logger.addFilter(MaskKioskSecrets())


class Worker(UvicornWorker):
    CONFIG_KWARGS = {
        "loop": "auto",
        "http": "auto",
        "timeout_graceful_shutdown": int(os.environ.get("GRIDLINE_WEB_SHUTDOWN_SECONDS", "10")),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.config.limit_concurrency = self.cfg.worker_connections

    def pool_environment(self) -> None:
        # config/asgi.py sizes its page pool from this when the application is loaded (in
        # init_process, after the fork; with preload_app it was loaded before and keeps it).
        os.environ["GRIDLINE_WEB_THREADS"] = str(max(int(self.cfg.threads), 1))

    def init_process(self) -> None:
        self.pool_environment()
        mask_kiosk_secrets()
        super().init_process()
