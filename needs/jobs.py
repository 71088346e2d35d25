"""Background jobs of the needs app, run by the procrastinate worker (as incidents/jobs.py)."""

from __future__ import annotations

import logging

from procrastinate.contrib.django import app

from needs.services import clocks

log = logging.getLogger(__name__)


# Every 5 minutes: deadlines of days and reminders of hours need no finer clock.
@app.periodic(cron="*/5 * * * *", periodic_id="needs-clocks")
@app.task(queue="clocks", queueing_lock="needs-clocks")
def watch_clocks(timestamp: int) -> None:
    run = clocks.watch()
    if run.reminded or run.overdue:
        log.info(
            "needs: dispatches reminded %d, needs overdue %d, people told %d",
            run.reminded,
            run.overdue,
            run.notified,
        )
