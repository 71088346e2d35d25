"""The background worker that outlives a restart of PostgreSQL (#15, item 9).

procrastinate 3's worker stops for good when its database connection dies: a failed
heartbeat, listener or job fetch stops it, and `manage.py procrastinate worker` exits. Here
the worker runs in a loop instead: when it stops on an outage it is started again, with a
backoff (1 s doubling to GRIDLINE_WORKER_BACKOFF_MAX seconds), on a new connection pool, until
a signal asks it to stop.

Nothing is lost on the way:
- a job whose task failed because the database went away is retried (every task without a
  retry strategy of its own gets one for outage errors only, `outage_retry`);
- a job left in `doing` by a worker that could not record its end (the database was away) is
  handed back to the queue when the next worker starts: the dead worker's row is removed
  (its jobs lose their worker) and jobs without a live worker are retried. A job runs twice
  only when its task finished but the end could not be written; the clocks and deliveries
  are idempotent (queueing locks, delivery states).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import time
from typing import Any

import psycopg
from django.conf import settings
from procrastinate import PsycopgConnector, RetryStrategy
from procrastinate import worker as procrastinate_worker
from procrastinate.contrib.django import app as django_app
from procrastinate.contrib.django import settings as procrastinate_settings
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.contrib.django.utils import connector_params
from procrastinate.exceptions import ConnectorException
from psycopg import Error as PsycopgError

from grids.resilience import OUTAGE_ERRORS

log = logging.getLogger("gridline.worker")

# What a worker that lost PostgreSQL raises: procrastinate wraps psycopg's errors in
# ConnectorException; OSError for a refused connection while opening the pool.
WORKER_OUTAGE_ERRORS = (ConnectorException, PsycopgError, OSError, *OUTAGE_ERRORS)


def outage_retry() -> RetryStrategy:
    return RetryStrategy(
        max_attempts=settings.GRIDLINE_WORKER_OUTAGE_RETRIES,
        wait=2,
        exponential_wait=2,
        retry_exceptions=OUTAGE_ERRORS,
    )


def give_tasks_outage_retries(app) -> None:
    """A task interrupted by an outage runs again later instead of failing for good."""
    app.perform_import_paths()
    for task in app.tasks.values():
        if task.retry_strategy is None:
            task.retry_strategy = outage_retry()


async def requeue_orphans(app, dead_worker_ids: set[int]) -> int:
    """Remove the rows of workers that died without unregistering, then retry the jobs in
    `doing` that no live worker holds. Returns how many jobs went back to the queue."""
    for worker_id in list(dead_worker_ids):
        await app.job_manager.unregister_worker(worker_id)
        dead_worker_ids.discard(worker_id)
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.GRIDLINE_WORKER_STALLED_SECONDS
    )
    for job in stalled:
        await app.job_manager.retry_job_by_id_async(job.id, retry_at=dt.datetime.now(dt.UTC))
        log.warning(
            "job %s (%s) was left running by a dead worker: queued again", job.id, job.task_name
        )
    return len(stalled)


class OutageAwareWorker(procrastinate_worker.Worker):
    """procrastinate's worker, stopping when the end of a job cannot be written.

    When the database goes away while a job runs, procrastinate cannot record the job's end;
    the job stays `doing` under this worker, which keeps running and would never hand it
    back. Stopping lets the supervision loop requeue it (`requeue_orphans`) and start again.
    """

    outage_seen = False

    async def _process_job(self, context):
        try:
            await super()._process_job(context)
        except WORKER_OUTAGE_ERRORS as exc:
            self.outage_seen = True
            log.warning(
                "job %s: its end could not be recorded (%s); restarting the worker",
                context.job.id,
                type(exc).__name__,
            )
            self.stop()


class SupervisedWorker:
    """Runs procrastinate workers one after another until stopped by SIGINT/SIGTERM."""

    def __init__(self, app, probe: dict | None = None, **options: Any):
        self.app = app
        # Connection parameters tried once before a pool is opened: the pool itself would
        # retry for 30 s with its own growing delays, logging each attempt.
        self.probe = probe
        self.options = options
        self.stopping = False
        self.stop_requested = asyncio.Event()
        self.current: OutageAwareWorker | None = None
        self.dead_worker_ids: set[int] = set()
        self.starts = 0

    def stop(self) -> None:
        self.stopping = True
        self.stop_requested.set()
        if self.current is not None:
            self.current.stop()

    async def database_answers(self) -> bool:
        if self.probe is None:
            return True
        try:
            conn = await psycopg.AsyncConnection.connect(**self.probe, connect_timeout=3)
        except PsycopgError as exc:
            log.info("database not answering yet: %s", str(exc).strip().splitlines()[-1])
            return False
        await conn.close()
        return True

    async def run_once(self) -> None:
        if not await self.database_answers():
            raise ConnectorException("the database does not answer")
        async with self.app.open_async():
            await requeue_orphans(self.app, self.dead_worker_ids)
            options = {**self.app.worker_defaults, **self.options}
            options["install_signal_handlers"] = False
            self.current = OutageAwareWorker(app=self.app, **options)
            self.starts += 1
            try:
                await self.current.run()
            finally:
                if self.current.worker_id is not None:  # could not unregister
                    self.dead_worker_ids.add(self.current.worker_id)
                self.current = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        delay = 1.0
        try:
            while not self.stopping:
                started = time.monotonic()
                try:
                    await self.run_once()
                    reason = "it stopped itself: its heartbeat, listener or job end failed"
                except WORKER_OUTAGE_ERRORS as exc:
                    reason = f"{type(exc).__name__}: {str(exc).strip()[:200]}"
                if self.stopping:
                    break
                if time.monotonic() - started > 60:
                    delay = 1.0  # it ran a while: this is a new outage
                log.warning("worker stopped (%s); starting again in %.0f s", reason, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop_requested.wait(), timeout=delay)
                delay = min(delay * 2, settings.GRIDLINE_WORKER_BACKOFF_MAX)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


def connection_params() -> dict:
    params = connector_params(procrastinate_settings.settings.DATABASE_ALIAS)
    params.setdefault("application_name", "gridline-worker")
    return params


def worker_connector(params: dict) -> PsycopgConnector:
    """The worker's pool on Django's database, as `manage.py procrastinate worker` makes it
    (the Django connector cannot listen; procrastinate's pool checks each connection it hands
    out, so one terminated while idle is replaced), named for pg_stat_activity."""
    return PsycopgConnector(kwargs=params, timeout=10)


def run_supervised(**options: Any) -> None:
    app = django_app
    give_tasks_outage_retries(app)
    if isinstance(app.connector, DjangoConnector):
        params = connection_params()
        with app.replace_connector(worker_connector(params)) as worker_app:
            asyncio.run(SupervisedWorker(worker_app, probe=params, **options).run())
    else:
        asyncio.run(SupervisedWorker(app, **options).run())
