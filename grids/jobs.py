"""Background jobs of the core, run by the worker (`manage.py worker`)."""

from __future__ import annotations

import logging

from procrastinate.contrib.django import app

log = logging.getLogger(__name__)


# A worker that died without a word (killed, its machine gone) leaves its jobs `doing`; once
# its heartbeat is older than GRIDLINE_WORKER_STALLED_SECONDS they go back to the queue
# (grids/services/worker.py does the same when it starts a worker again).
@app.periodic(cron="* * * * *", periodic_id="requeue-stalled-jobs")
@app.task(queue="clocks", queueing_lock="requeue-stalled-jobs", pass_context=True)
async def requeue_stalled_jobs(context, timestamp: int) -> None:
    from grids.services.worker import requeue_orphans

    requeued = await requeue_orphans(context.app, set())
    if requeued:
        log.warning("%d jobs of dead workers queued again", requeued)
