from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SensorsConfig(AppConfig):
    """Sensor registry and types, heartbeats and readings, fire response, broadcast (issue #6)."""

    name = "sensors"
    verbose_name = _("Sensors")

    def ready(self) -> None:
        # The sensor layers of the command-centre map (maps.registry) and sensor figures as
        # derived indicators of 一表通 (reports.derived).
        from grids.signals import grid_area_changed
        from sensors import indicators, layers  # noqa: F401
        from sensors.signals import on_grid_area_changed

        grid_area_changed.connect(on_grid_area_changed, dispatch_uid="sensors_reassign")
