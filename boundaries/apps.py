from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BoundariesConfig(AppConfig):
    """Redrawing grid boundaries (issue #7): change sets edited on the map, validated as they
    are drawn, previewed, approved and applied as new boundary versions."""

    name = "boundaries"
    verbose_name = _("Boundary changes")
