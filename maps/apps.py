from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MapsConfig(AppConfig):
    """The command-centre map page, the layer registry and vector tiles (#3)."""

    name = "maps"
    verbose_name = _("Maps")

    def ready(self):
        from maps import checks, layers, signals  # noqa: F401 - checks registers itself

        layers.register_core_layers()
        signals.connect()
