from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OgcConfig(AppConfig):
    name = "ogc"
    verbose_name = _("OGC API – Features")

    def ready(self):
        # The core's collections (regions, grids, boundary versions, households, and the
        # 一标三实 buildings and units); the feature apps register theirs from their own ready().
        from ogc import basedata, collections  # noqa: F401
