"""The map's MapLibre style and TileJSON, built from the layer registry per user (issue #16).

The style holds every layer the user may see (a layer's own `map_style(theme)`, or a plain
default from its kind until it has one), visible when in the preset; one vector source,
"gridline", whose tiles are the signed composite URL of the preset's layers and filters. The
map fetches a new TileJSON (and sets its tiles) when layers or filters change, after a live
event, and before the URL expires.
"""

from __future__ import annotations

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from grids.basemap import usable_basemap_style
from grids.models import Region
from maps import registry
from maps.composite import (
    SOURCE_MAX_ZOOM,
    Request,
    combined_version,
    layer_versions,
    parse_request,
)
from maps.fastpath import expiry, holder, signed_query
from maps.registry import Layer, Preset
from maps.tiles import scope_key

THEMES = ("light", "dark")
BACKGROUND = {"light": "#f4f3ef", "dark": "#0b1622"}
FONT = "Gridline Sans"


def tile_url(request, tiles: Request) -> tuple[str, int]:
    """The signed composite tile URL template of these layers for the request's user, and
    when it expires (unix seconds)."""
    expires = expiry()
    values = {
        "l": tiles.names,
        "f": tiles.filters_text,
        "v": combined_version(tiles, layer_versions([layer.name for layer in tiles.layers])),
        "s": scope_key(request.user),
        "u": holder(request),
        "e": str(expires),
    }
    path = "/tiles/{z}/{x}/{y}.pbf?" + signed_query(values)
    return request.build_absolute_uri("/").rstrip("/") + path, expires


def jurisdiction_extent(user) -> list[float] | None:
    """[x0, y0, x1, y1] in WGS84 of the user's grid, region or department's district."""
    node = user.grid or user.region or (user.department.district if user.department_id else None)
    if node is None:
        node = Region.objects.visible_to(user).filter(parent__isnull=True).first()
    if node is None:
        return None
    boundary = node.boundary_on()
    return list(boundary.extent) if boundary is not None else None


def _fields(layer: Layer) -> dict[str, str]:
    fields = dict.fromkeys(layer.attributes, "")
    if layer.aggregation is not None:
        fields |= dict.fromkeys(layer.aggregation.attributes, "")
        fields["n"] = "features aggregated into this one"
    return fields | {"id": "the feature's id"}


def tilejson(request, tiles: Request) -> dict:
    url, expires = tile_url(request, tiles)
    return {
        "tilejson": "3.0.0",
        "tiles": [url],
        "minzoom": 0,
        "maxzoom": SOURCE_MAX_ZOOM,
        "vector_layers": [
            {
                "id": layer.name,
                "minzoom": layer.min_zoom,
                "maxzoom": min(layer.max_zoom, SOURCE_MAX_ZOOM),
                "fields": _fields(layer),
            }
            for layer in tiles.layers
        ],
        "bounds": jurisdiction_extent(request.user) or [-180, -85.0511, 180, 85.0511],
        "expires": expires,
    }


def default_style(layer: Layer, theme: str) -> list[dict]:
    """A plain style from the layer's kind and legend colour, for a layer without its own."""
    colour = layer.style.get("color", "#5b6b7a")
    name = layer.name
    if layer.kind == "polygon":
        return [
            {"id": f"{name}-fill", "type": "fill", "paint": {"fill-color": colour,
             "fill-opacity": layer.style.get("fillOpacity", 0.2)}},
            {"id": f"{name}-line", "type": "line", "paint": {"line-color": colour,
             "line-width": layer.style.get("weight", 1)}},
        ]  # fmt: skip
    if layer.kind == "line":
        return [{"id": f"{name}-line", "type": "line", "paint": {"line-color": colour,
                 "line-width": layer.style.get("weight", 1)}}]  # fmt: skip
    return [
        {"id": f"{name}-aggregate", "type": "circle", "filter": ["has", "n"],
         "paint": {"circle-color": colour, "circle-opacity": 0.6,
                   "circle-radius": ["interpolate", ["linear"], ["get", "n"], 1, 6, 1000, 18]}},
        {"id": f"{name}-point", "type": "circle", "filter": ["!", ["has", "n"]],
         "paint": {"circle-color": colour, "circle-radius": 4,
                   "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}},
    ]  # fmt: skip


def _layer_meta(layer: Layer, user) -> dict:
    return {
        "name": layer.name,
        "title": str(layer.title),
        "kind": layer.kind,
        "minZoom": layer.min_zoom,
        "aggregatedBelow": layer.aggregation.below_zoom if layer.aggregation else None,
        "legend": layer.legend() if layer.legend else [],
        "module": static(layer.module) if layer.module else None,
        "link": layer.link,
        "label": layer.label,
        "filters": {
            name: {
                "title": str(f.title),
                "choices": [[value, str(label)] for value, label in f.choices(user)],
            }
            for name, f in layer.filters.items()
        },
        "style": layer.style,
    }


def _preset_meta(preset: Preset) -> dict:
    return {
        "name": preset.name,
        "title": str(preset.title),
        "layers": list(preset.layers),
        "figure": preset.figure,
        "filters": {
            layer: {param: list(values) for param, values in params.items()}
            for layer, params in preset.filters.items()
        },
    }


def preset_request(preset: Preset | None, visible: list[Layer], user) -> Request:
    """The layers and filters a preset turns on, of those the user may see."""
    names = {layer.name for layer in visible}
    on = [n for n in preset.layers if n in names] if preset else []
    on = on or sorted(names)  # no preset, or none of its layers: everything the user may see
    params = {
        f"{layer}.{param}": list(values)
        for layer, by_param in (preset.filters.items() if preset else ())
        if layer in on
        for param, values in by_param.items()
    }
    return parse_request(",".join(on), params, user)


def build_style(request, preset: Preset | None, theme: str) -> dict:
    user = request.user
    visible = registry.layers_for(user)
    tiles = preset_request(preset, visible, user)
    url, expires = tile_url(request, tiles)
    on = {layer.name for layer in tiles.layers}
    sources, basemap_layers, has_basemap = usable_basemap_style(theme, request.build_absolute_uri)
    sources["gridline"] = {
        "type": "vector",
        "tiles": [url],
        "minzoom": 0,
        "maxzoom": SOURCE_MAX_ZOOM,
        "attribution": "",
    }
    layers = [{"id": "background", "type": "background",
               "paint": {"background-color": BACKGROUND[theme]}}, *basemap_layers]  # fmt: skip
    for layer in visible:
        for style_layer in (
            layer.map_style(theme) if layer.map_style else default_style(layer, theme)
        ):
            layout = {**style_layer.get("layout", {})}
            layout["visibility"] = "visible" if layer.name in on else "none"
            layers.append(
                {**style_layer, "source": "gridline", "source-layer": layer.name, "layout": layout}
            )
    urls = {
        "rollup": reverse("api-rollup"),
        "grids": "/api/grids/",
        "households": "/api/households/",
        "search": reverse("map-search"),
        "indicators": reverse("indicator-list"),
        "indicatorGroups": reverse("indicator-group-list"),
        "completeness": reverse("completeness"),
        "events": "/events/",
    }
    return {
        "version": 8,
        "name": f"gridline {preset.name if preset else 'all'} {theme}",
        "glyphs": request.build_absolute_uri(
            f"{settings.STATIC_URL}gridline/glyphs/{{fontstack}}/{{range}}.pbf"
        )
        .replace("%7B", "{")
        .replace("%7D", "}"),
        "sources": sources,
        "layers": layers,
        "metadata": {
            "gridline": {
                "preset": preset.name if preset else None,
                "theme": theme,
                "basemapMissing": not has_basemap,
                "presets": [_preset_meta(p) for p in registry.presets_for(user)],
                "layers": [_layer_meta(layer, user) for layer in visible],
                "on": [layer.name for layer in tiles.layers],
                "filters": {name: dict(f) for name, f in tiles.filters.items()},
                "tilejson": reverse("map-tilejson"),
                "expires": expires,
                "extent": jurisdiction_extent(user),
                "today": timezone.localdate().isoformat(),
                "user": {
                    "name": user.get_full_name() or user.username,
                    "role": user.get_role_display() if user.role else "",
                },
                "urls": urls,
            }
        },
    }
