"""Background jobs of the sensors app, run by the procrastinate worker that `./gridline up`
starts. Each only calls a service; the services say what they do."""

from __future__ import annotations

import logging

from procrastinate.contrib.django import app

log = logging.getLogger(__name__)


# Devices silent for longer than their type allows go offline and raise an alert.
@app.periodic(cron="* * * * *", periodic_id="sensors-offline-sweep")
@app.task(queue="clocks", queueing_lock="sensors-offline-sweep")
def sweep_offline(timestamp: int) -> None:
    from sensors.services import health

    went = health.sweep_offline()
    if went:
        log.info("sensors: %d went offline", went)


# Monthly reading partitions made ahead, and those past the retention period dropped.
@app.periodic(cron="17 3 * * *", periodic_id="sensors-reading-partitions")
@app.task(queue="clocks", queueing_lock="sensors-reading-partitions")
def maintain_readings(timestamp: int) -> None:
    from sensors.services import readings

    created, dropped = readings.maintain_partitions()
    log.info("readings: %d partitions created, %d dropped", len(created), len(dropped))


# One-key broadcast: sent at once when queued, then retried with back-off.
@app.task(queue="dispatch")
def deliver_broadcast(broadcast_id: int) -> None:
    from sensors.services import broadcast

    broadcast.deliver(broadcast_id)


@app.periodic(cron="* * * * *", periodic_id="sensors-broadcast-retries")
@app.task(queue="dispatch", queueing_lock="sensors-broadcast-retries")
def retry_deliveries(timestamp: int) -> None:
    from sensors.gateways import GatewayUnavailable
    from sensors.services import broadcast

    broadcast.retry_due()
    try:
        broadcast.collect_acknowledgements()
    except GatewayUnavailable as exc:
        # The deliveries stay as they are and the next minute asks again; an outage is
        # reported once a minute as a warning, not as a failed job.
        log.warning("broadcast acknowledgements not collected: %s", exc)


# Camera coverage of the grids a camera or boundary change made stale.
@app.periodic(cron="*/5 * * * *", periodic_id="sensors-coverage")
@app.task(queue="clocks", queueing_lock="sensors-coverage")
def refresh_coverage(timestamp: int) -> None:
    from sensors.services import coverage

    coverage.refresh_stale()


# The demo district's gateways, simulated (only with GRIDLINE_DEMO_SIMULATOR on).
@app.periodic(cron="*/4 * * * *", periodic_id="sensors-demo-simulator")
@app.task(queue="clocks", queueing_lock="sensors-demo-simulator")
def simulate_demo_gateways(timestamp: int) -> None:
    from sensors.services import simulator

    sent = simulator.simulate()
    if sent:
        log.info("demo gateways: %d rows sent", sent)
