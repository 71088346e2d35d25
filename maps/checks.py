"""Start-up check of the base map setting (`manage.py check`, runserver, migrate): the map
pages leave a broken base map out rather than fail (grids.basemap.usable_basemap_style), so
this is where an operator hears about it before a user does."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from grids.basemap import BadBasemap, basemap_style

HINT = "Set GRIDLINE_BASEMAP to none, xyz, tianditu or pmtiles with its setting (README)."


@register(Tags.compatibility)
def basemap_setting(app_configs=None, **kwargs) -> list:
    try:
        basemap_style("light", str)
    except BadBasemap as exc:
        if settings.GRIDLINE_BASEMAP == "pmtiles" and settings.GRIDLINE_BASEMAP_PMTILES:
            # The file may be mounted after the checks run (migrate in a fresh container).
            return [
                Warning(str(exc), hint="The map pages show no base map until it is readable.",
                        id="maps.W001")
            ]  # fmt: skip
        return [Error(str(exc), hint=HINT, id="maps.E001")]
    return []
