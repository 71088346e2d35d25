"""Background jobs of 一表通, run by the procrastinate worker that `./gridline up` starts."""

from __future__ import annotations

import logging

from procrastinate.contrib.django import app

from reports.services import completeness

log = logging.getLogger(__name__)


# 任务主动提醒: each morning, before due dates and once when overdue.
@app.periodic(cron="0 8 * * *", periodic_id="ledger-reminders")
@app.task(queue="clocks", queueing_lock="ledger-reminders")
def remind_ledgers(timestamp: int) -> None:
    sent = completeness.remind()
    log.info(
        "ledger reminders: %d before the due date, %d overdue", sent["before"], sent["overdue"]
    )
