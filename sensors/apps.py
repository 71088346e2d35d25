from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SensorsConfig(AppConfig):
    """Sensor registry and types, heartbeats and readings, fire response, broadcast (issue #6)."""

    name = "sensors"
    verbose_name = _("Sensors")
