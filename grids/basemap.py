"""The base map under every map page (the command centre, incidents, the boundary editor),
from settings (decision 8). In the core so that the feature apps that draw maps need not
import `maps`."""

from __future__ import annotations

import logging
import os

from django.conf import settings

log = logging.getLogger(__name__)

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
    if kind == "pmtiles":
        return []  # the Leaflet pages cannot draw it; the command-centre map does
    raise BadBasemap(f"GRIDLINE_BASEMAP is none, xyz, tianditu or pmtiles, not {kind!r}")


# MapLibre (the command-centre map, issue #16): the base map as style sources and layers.

PMTILES_URL = "/basemap.pmtiles"
RASTER = {2: "png", 3: "jpeg", 4: "webp", 5: "avif"}  # PMTiles header tile_type


def pmtiles_path() -> str:
    path = getattr(settings, "GRIDLINE_BASEMAP_PMTILES", "")
    if not path:
        raise BadBasemap("GRIDLINE_BASEMAP=pmtiles needs GRIDLINE_BASEMAP_PMTILES (a file)")
    return path


# The last file read: (path, mtime, size) and its header and metadata. Every map page and
# style asks; the file changes when an operator replaces it.
_read: tuple[tuple, tuple[dict, dict]] | None = None


def pmtiles_header() -> tuple[dict, dict]:
    """The PMTiles file's header and metadata (its vector layers, name, attribution), read
    again only when the file has changed."""
    global _read
    from pmtiles.reader import MmapSource, Reader

    path = pmtiles_path()
    try:
        stat = os.stat(path)
        key = (path, stat.st_mtime_ns, stat.st_size)
        found = _read
        if found is not None and found[0] == key:
            return found[1]
        with open(path, "rb") as f:
            reader = Reader(MmapSource(f))
            value = reader.header(), reader.metadata()
    except Exception as exc:  # noqa: BLE001 - any reader failure, re-raised naming the file
        raise BadBasemap(
            f"GRIDLINE_BASEMAP_PMTILES={path!r} is not a readable PMTiles file: {exc}"
        ) from exc
    _read = (key, value)
    return value


# Quiet colours under the platform's layers, per theme: land, water, green, roads, buildings,
# place names.
QUIET = {
    "light": {"water": "#cfdde8", "green": "#e4ebdf", "road": "#ffffff", "roadline": "#dcd9d2",
              "building": "#e3e0da", "text": "#6b7075", "halo": "#f4f3ef"},
    "dark": {"water": "#14263a", "green": "#16241c", "road": "#26313d", "roadline": "#1c252f",
             "building": "#1d2733", "text": "#8b98a5", "halo": "#0b1622"},
}  # fmt: skip
# The usual layer names of vector base maps (OpenMapTiles, Protomaps, Shortbread): a style
# layer whose source layer the file lacks draws nothing.
VECTOR_LAYERS = [
    ("water", "fill", ("water", "ocean", "water_polygons"), "water"),
    ("green", "fill", ("landuse", "landcover", "park", "natural", "land"), "green"),
    ("roads", "line", ("transportation", "roads", "streets", "road"), "road"),
    ("buildings", "fill", ("building", "buildings"), "building"),
    ("places", "symbol", ("place", "places", "place_labels"), "text"),
]


def _vector_layers(theme: str, present: set[str] | None) -> list[dict]:
    colours = QUIET[theme]
    layers = []
    for kind, type_, names, colour in VECTOR_LAYERS:
        for name in names:
            if present is not None and name not in present:
                continue
            layer = {"id": f"basemap-{kind}-{name}", "type": type_, "source": "basemap",
                     "source-layer": name}  # fmt: skip
            if type_ == "fill":
                layer["paint"] = {"fill-color": colours[colour], "fill-opacity": 0.8}
            elif type_ == "line":
                layer["paint"] = {
                    "line-color": colours["road"],
                    "line-width": ["interpolate", ["linear"], ["zoom"], 10, 0.5, 16, 4],
                }
            else:
                layer["minzoom"] = 10
                layer["layout"] = {
                    "text-field": ["coalesce", ["get", "name:zh"], ["get", "name"]],
                    "text-font": ["Gridline Sans"],
                    "text-size": 11,
                }
                layer["paint"] = {"text-color": colours["text"], "text-halo-color": colours["halo"],
                                  "text-halo-width": 1}  # fmt: skip
            layers.append(layer)
    return layers


def basemap_style(theme: str, absolute) -> tuple[dict, list[dict]]:
    """The base map's MapLibre sources and layers: none, an XYZ raster, Tianditu's map and
    labels, or the PMTiles file the app serves (raster or vector, by its header).
    `absolute(path)` makes a URL absolute (the map's worker cannot resolve relative ones)."""
    kind = settings.GRIDLINE_BASEMAP
    if kind == "none":
        return {}, []
    if kind in ("xyz", "tianditu"):
        sources, layers = {}, []
        for i, found in enumerate(basemap_layers()):
            url, options = found["url"], found["options"]
            subdomains = options.get("subdomains", "abc")  # Leaflet's default for {s}
            tiles = [url.replace("{s}", s) for s in subdomains] if "{s}" in url else [url]
            name = f"basemap-{i}"
            sources[name] = {"type": "raster", "tiles": tiles, "tileSize": 256,
                             "maxzoom": options["maxZoom"],
                             "attribution": options.get("attribution", "")}  # fmt: skip
            layers.append({"id": name, "type": "raster", "source": name})
        return sources, layers
    if kind == "pmtiles":
        header, metadata = pmtiles_header()
        source = {
            "url": f"pmtiles://{absolute(PMTILES_URL)}",
            "attribution": str(metadata.get("attribution", "")),
        }
        tile_type = getattr(header["tile_type"], "value", header["tile_type"])
        if tile_type in RASTER:
            return {"basemap": {**source, "type": "raster", "tileSize": 256}}, [
                {"id": "basemap-raster", "type": "raster", "source": "basemap"}
            ]
        if tile_type == 1:
            present = {layer["id"] for layer in metadata.get("vector_layers", [])} or None
            return {"basemap": {**source, "type": "vector"}}, _vector_layers(theme, present)
        raise BadBasemap(
            f"GRIDLINE_BASEMAP_PMTILES holds tiles of type {tile_type}, not MVT or an image"
        )
    raise BadBasemap(f"GRIDLINE_BASEMAP is none, xyz, tianditu or pmtiles, not {kind!r}")


def usable_basemap_style(theme: str, absolute) -> tuple[dict, list[dict], bool]:
    """basemap_style(), and whether the base map is there: a wrong setting or a missing file
    leaves it out (the platform's layers still draw, the page says the base map is missing)
    rather than taking the map pages down. The reason, which names server paths, goes to the
    log for the operator, not to the user; the system check (maps.checks) says it at start."""
    try:
        sources, layers = basemap_style(theme, absolute)
    except BadBasemap:
        log.error("the base map is left out of the map", exc_info=True)
        return {}, [], False
    return sources, layers, True
