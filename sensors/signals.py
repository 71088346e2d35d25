"""What sensors does when the core changes: grids redrawn → devices in the area re-keyed."""

from __future__ import annotations

from grids.signals import announce
from sensors.models import Sensor
from sensors.sql.grids import reassign_sensors


def on_grid_area_changed(sender, area: bytes, on, **kwargs) -> None:
    if reassign_sensors(area, on):
        announce(Sensor)
