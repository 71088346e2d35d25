"""What sensors does when the core changes: grids redrawn → devices in the area re-keyed."""

from __future__ import annotations

from grids.signals import announce
from sensors.models import Sensor
from sensors.sql.grids import reassign_sensors


def on_grid_area_changed(sender, area: bytes, on, **kwargs) -> dict:
    moved = reassign_sensors(area, on)
    if moved:
        announce(Sensor)
    return {"sensors": moved}


# --- camera coverage (sensors.services.coverage) ---------------------------------------------

_SECTOR_FIELDS = frozenset({"coverage", "location", "properties", "role", "type"})


def remember_old_sector(sender, instance: Sensor, update_fields=None, **kwargs) -> None:
    """Before a camera is saved: its sector as stored, so that the grids it no longer sees
    are marked stale too. A save of other fields only (a heartbeat) costs nothing."""
    instance._old_sector = None
    if instance.role != "camera" or instance.pk is None:
        return
    if update_fields is not None and not _SECTOR_FIELDS & set(update_fields):
        return
    stored = Sensor.objects.filter(pk=instance.pk).values_list("coverage", flat=True).first()
    instance._old_sector = bytes(stored.ewkb) if stored is not None else None


def on_camera_saved(sender, instance: Sensor, created: bool, update_fields=None, **kwargs) -> None:
    from sensors.services.coverage import mark_stale_for

    if instance.role != "camera":
        return
    if update_fields is not None and not _SECTOR_FIELDS & set(update_fields):
        return
    old = getattr(instance, "_old_sector", None)
    new = bytes(instance.coverage.ewkb) if instance.coverage is not None else None
    if not created and old == new:
        return  # renamed, status set by hand: the same ground is seen
    mark_stale_for(instance, old)


def on_camera_deleted(sender, instance: Sensor, **kwargs) -> None:
    from sensors.services.coverage import mark_stale_for

    mark_stale_for(instance)
