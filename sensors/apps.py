from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SensorsConfig(AppConfig):
    """Sensor registry and types, heartbeats and readings, fire response, broadcast (issue #6)."""

    name = "sensors"
    verbose_name = _("Sensors")

    def ready(self) -> None:
        # The sensor layers of the command-centre map (maps.registry), sensor figures as
        # derived indicators of 一表通 (reports.derived) and sensors as a subject of
        # indicators defined as data (reports.subjects).
        from grids.signals import grid_area_changed
        from sensors import indicators, layers, subjects  # noqa: F401
        from sensors.signals import on_grid_area_changed

        grid_area_changed.connect(on_grid_area_changed, dispatch_uid="sensors_reassign")
        # Counted by the boundary editor's impact preview (issue #7).
        from grids import keyed
        from sensors.sql.grids import SENSORS

        keyed.register(SENSORS)
        # A camera created, moved, re-aimed or deleted makes its grids' coverage stale.
        from django.db.models.signals import post_delete, post_save, pre_save

        from sensors.models import Sensor
        from sensors.signals import on_camera_deleted, on_camera_saved, remember_old_sector

        pre_save.connect(remember_old_sector, sender=Sensor, dispatch_uid="sensors_cov_pre")
        post_save.connect(on_camera_saved, sender=Sensor, dispatch_uid="sensors_cov_save")
        post_delete.connect(on_camera_deleted, sender=Sensor, dispatch_uid="sensors_cov_delete")
        # Reading partitions from the retention period's start to months ahead, on migrate.
        from django.db.models.signals import post_migrate

        from sensors.services.readings import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="sensors_partitions")
        # One OGC API – Features collection per sensor type the user may see (ogc.registry).
        from sensors import ogc  # noqa: F401

    def build_demo(self, scale, progress=None):
        """Called by `manage.py demo` once the demo district is built: the forest street's
        cameras, voice poles and water tanks and the district's other devices, with recent
        readings (sensors.services.demo). The gateways' tokens are not shown here (the
        command's output is often kept in logs): `manage.py sensors_demo` rebuilds the
        sensors and prints new ones once."""
        from sensors.services import demo

        return demo.build(scale, progress)
