"""The base map under every map page (the command centre, incidents, the boundary editor),
from settings (decision 8). In the core so that the feature apps that draw maps need not
import `maps`."""

from __future__ import annotations

from django.conf import settings

TIANDITU = "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={token}"  # noqa: E501


class BadBasemap(ValueError):
    pass


def basemap_layers() -> list[dict]:
    """Raster layers for Leaflet: none, one XYZ template, or Tianditu's map and labels."""
    kind = settings.GRIDLINE_BASEMAP
    if kind == "none":
        return []
    if kind == "xyz":
        if not settings.GRIDLINE_BASEMAP_URL:
            raise BadBasemap("GRIDLINE_BASEMAP=xyz needs GRIDLINE_BASEMAP_URL")
        return [
            {
                "url": settings.GRIDLINE_BASEMAP_URL,
                "options": {"attribution": settings.GRIDLINE_BASEMAP_ATTRIBUTION, "maxZoom": 19},
            }
        ]
    if kind == "tianditu":
        token = settings.GRIDLINE_TIANDITU_TOKEN
        if not token:
            raise BadBasemap("GRIDLINE_BASEMAP=tianditu needs GRIDLINE_TIANDITU_TOKEN")
        options = {"subdomains": "01234567", "maxZoom": 18, "attribution": "天地图"}
        return [
            {"url": TIANDITU.format(s="{s}", layer=layer, token=token), "options": options}
            for layer in ("vec", "cva")
        ]
    raise BadBasemap(f"GRIDLINE_BASEMAP is none, xyz or tianditu, not {kind!r}")
