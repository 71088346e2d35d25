"""Background jobs of the incidents app, run by the procrastinate worker that `./gridline up`
starts (`manage.py procrastinate worker`). The queue is a table in PostgreSQL."""

from __future__ import annotations

import logging

from procrastinate.contrib.django import app

from incidents.services import clocks, metrics

log = logging.getLogger(__name__)


# Every minute; a queueing lock keeps one run waiting at most, however long one takes.
@app.periodic(cron="* * * * *", periodic_id="incident-clocks")
@app.task(queue="clocks", queueing_lock="incident-clocks")
def watch_clocks(timestamp: int) -> None:
    run = clocks.mark_overdue()
    if run.overdue:
        log.info(
            "incidents overdue: %d, escalated: %d, people told: %d",
            run.overdue,
            run.escalated,
            run.notified,
        )


# The three-colour status each night, from the incidents of the rule's period.
@app.periodic(cron="10 1 * * *", periodic_id="grid-colours")
@app.task(queue="clocks", queueing_lock="grid-colours")
def recolour_grids(timestamp: int) -> None:
    changed = metrics.update_grid_colours()
    log.info("grid colours changed: %s", changed or "none")
