from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BoundariesConfig(AppConfig):
    """Redrawing grid boundaries (issue #7): change sets edited on the map, validated as they
    are drawn, previewed, approved and applied as new boundary versions."""

    name = "boundaries"
    verbose_name = _("Boundary changes")

    def build_demo(self, scale, progress=None):
        """Called by `manage.py demo`: a split of the first grid worker's grid, submitted
        for the community secretary's review (boundaries.services.demo)."""
        from boundaries.services import demo

        return demo.build(scale, progress)
