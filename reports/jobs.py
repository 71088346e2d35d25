"""Background jobs of 一表通, run by the procrastinate worker that `./gridline up` starts."""

from __future__ import annotations

import logging

from procrastinate.contrib.django import app

from reports.services import completeness, snapshots

log = logging.getLogger(__name__)


# 任务主动提醒: each morning, before due dates and once when overdue.
@app.periodic(cron="0 8 * * *", periodic_id="ledger-reminders")
@app.task(queue="clocks", queueing_lock="ledger-reminders")
def remind_ledgers(timestamp: int) -> None:
    sent = completeness.remind()
    log.info(
        "ledger reminders: %d before the due date, %d overdue", sent["before"], sent["overdue"]
    )


# Shortly after midnight: the periods that ended yesterday are computed once for every grid
# and kept, so the first report of a month-end is read, not computed; and what back-dated
# changes dropped in the last 13 months is computed again.
@app.periodic(cron="30 0 * * *", periodic_id="derived-snapshots")
@app.task(queue="clocks", queueing_lock="derived-snapshots")
def keep_derived_snapshots(timestamp: int) -> None:
    looked = snapshots.keep_recent()
    log.info("derived figures kept for %d past periods: %s", len(looked), ", ".join(looked))
