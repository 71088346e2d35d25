"""How the sensor layers look on the MapLibre map (issue #16): the style layers per theme and
the legend entries, kept apart from the layers' querysets in layers.py.

The colour language, agreed with the map core: a device's status is green (online), grey
(offline), orange (maintenance) or the alarm red (fault) — red is used for nothing else here.
Counts (a grid's devices below the aggregation zoom, a cluster of dense devices above it) are
small slate circles, so they never hide the grid choropleth under them; the devices of a grid
that are down (offline or faulty) are a dark badge beside the count. The coverage choropleth
is a green ramp with the grids no camera sees hatched grey (a gap is a planning figure, not an
alarm). The symbols themselves (one shape per role, in the status colour) are images the
layer's browser module draws: `sensor-<role>-<status>`.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

FONT = ["Gridline Sans"]
AGGREGATE_BELOW = 14
SECTORS_FROM = 15  # the camera_sectors layer's min_zoom
ROLES = ("camera", "voice_pole", "water_tank", "detector", "other")

ONLINE = "#2da44e"
OFFLINE = "#8c959f"
FAULT = "#d7301f"  # the alarm red
MAINTENANCE = "#f08c00"
STATUS_COLOURS = {
    "online": ONLINE,
    "offline": OFFLINE,
    "fault": FAULT,
    "maintenance": MAINTENANCE,
}
COUNT = "#34495e"  # blue-slate: a number of devices, whatever their status (households are #52606d)
DOWN_BADGE = "#6e7781"  # the devices of a grid that are down: mostly offline, so grey
COVERAGE_BREAKS = [0.1, 0.25, 0.5, 0.75]
COVERAGE_RAMP = ["#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"]
GAP = "#6e7781"
SECTOR = "#0969da"
HATCH_IMAGE = "sensors-hatch"

_THEMES = {
    "light": {"text": "#24292f", "halo": "#ffffff", "outline": "#ffffff", "line": "#5b6875"},
    "dark": {"text": "#e6edf3", "halo": "#0d1117", "outline": "#0d1117", "line": "#8b949e"},
}


def _theme(theme: str) -> dict:
    return _THEMES.get(theme, _THEMES["light"])


def _count_radius(small: float, large: float):
    """Radius growing with the log of the count, capped: 1 device → `small`, ~1,000 →
    `large` pixels."""
    n = ["ln", ["+", ["to-number", ["get", "n"], 1], 1]]
    return ["min", large, ["+", small, ["*", (large - small) / 6.9, n]]]


def sensors_style(theme: str) -> list[dict]:
    t = _theme(theme)
    statuses = list(STATUS_COLOURS)
    counted = ["has", "n"]
    down = ["all", ["has", "down"], [">", ["to-number", ["get", "down"], 0], 0]]
    # Grids are small at zoom 10-12: the count circles grow with the zoom so that they never
    # cover a neighbouring grid's colour.
    radius = [
        "interpolate",
        ["linear"],
        ["zoom"],
        10,
        _count_radius(2.5, 6),
        12,
        _count_radius(4, 10),
        14,
        _count_radius(7, 15),
    ]
    badge_offset = [
        "interpolate",
        ["linear"],
        ["zoom"],
        10,
        ["literal", [4, -4]],
        14,
        ["literal", [11, -11]],
    ]
    return [
        {
            "id": "sensors-count",
            "type": "circle",
            "filter": counted,
            "paint": {
                "circle-color": COUNT,
                "circle-opacity": 0.8,
                "circle-radius": radius,
                "circle-stroke-color": t["outline"],
                "circle-stroke-width": 1,
            },
        },
        {
            "id": "sensors-count-label",
            "type": "symbol",
            "filter": counted,
            "minzoom": 12,
            "layout": {
                "text-field": ["to-string", ["get", "n"]],
                "text-font": FONT,
                "text-size": 10,
                "text-allow-overlap": False,
            },
            "paint": {"text-color": "#ffffff"},
        },
        {
            "id": "sensors-down",
            "type": "circle",
            "filter": down,
            "minzoom": 11,
            "paint": {
                "circle-color": DOWN_BADGE,
                "circle-radius": ["interpolate", ["linear"], ["zoom"], 11, 3, 14, 6.5],
                "circle-translate": badge_offset,
                "circle-stroke-color": t["outline"],
                "circle-stroke-width": 1,
            },
        },
        {
            "id": "sensors-down-label",
            "type": "symbol",
            "filter": down,
            "minzoom": 12.5,
            "layout": {
                "text-field": ["to-string", ["get", "down"]],
                "text-font": FONT,
                "text-size": 9,
                "text-allow-overlap": True,
                "text-ignore-placement": True,
            },
            "paint": {"text-color": "#ffffff", "text-translate": badge_offset},
        },
        {
            # One shape per role in its status colour; they never hide a label or each other
            # (a device hidden by collision would look absent).
            "id": "sensors-symbol",
            "type": "symbol",
            "filter": ["!", counted],
            "layout": {
                "icon-image": [
                    "concat",
                    "sensor-",
                    ["match", ["get", "role"], list(ROLES), ["get", "role"], "other"],
                    "-",
                    ["match", ["get", "status"], statuses, ["get", "status"], "offline"],
                ],
                "icon-size": ["interpolate", ["linear"], ["zoom"], 14, 0.65, 17, 1],
                "icon-allow-overlap": True,
                "icon-ignore-placement": True,
                # Faults drawn last, on top.
                "symbol-sort-key": ["match", ["get", "status"], "fault", 3, "offline", 2, 1],
            },
        },
        {
            "id": "sensors-label",
            "type": "symbol",
            "filter": ["!", counted],
            "minzoom": 17,
            "layout": {
                "text-field": ["coalesce", ["get", "name"], ["get", "code"]],
                "text-font": FONT,
                "text-size": 11,
                "text-offset": [0, 1.1],
                "text-anchor": "top",
                "text-optional": True,
            },
            "paint": {
                "text-color": t["text"],
                "text-halo-color": t["halo"],
                "text-halo-width": 1.2,
            },
        },
    ]


def sensors_legend() -> list[dict]:
    # The map's legend shows an entry while min_zoom <= zoom < max_zoom.
    below = AGGREGATE_BELOW
    entries = [
        {
            "label": _("devices in a grid"),
            "colour": COUNT,
            "shape": "count",
            "min_zoom": None,
            "max_zoom": below,
        },
        {
            "label": _("of them offline or faulty"),
            "colour": DOWN_BADGE,
            "shape": "count",
            "min_zoom": None,
            "max_zoom": below,
        },
        {
            "label": _("devices close together"),
            "colour": COUNT,
            "shape": "count",
            "min_zoom": AGGREGATE_BELOW,
            "max_zoom": None,
        },
    ]
    labels = {"online": _("online"), "offline": _("offline"), "fault": _("fault")}
    labels["maintenance"] = _("maintenance")
    entries += [
        {
            "label": labels[status],
            "colour": colour,
            "shape": "circle",
            "min_zoom": AGGREGATE_BELOW,
            "max_zoom": None,
        }
        for status, colour in STATUS_COLOURS.items()
    ]
    return entries


def coverage_step():
    step: list = ["step", ["to-number", ["get", "share"], 0], COVERAGE_RAMP[0]]
    for edge, colour in zip(COVERAGE_BREAKS, COVERAGE_RAMP[1:], strict=True):
        step += [edge, colour]
    return step


def coverage_style(theme: str) -> list[dict]:
    t = _theme(theme)
    gap = ["==", ["get", "gap"], True]
    return [
        {
            "id": "camera_coverage-fill",
            "type": "fill",
            "filter": ["!", gap],
            "paint": {"fill-color": coverage_step(), "fill-opacity": 0.65},
        },
        {
            "id": "camera_coverage-gap",
            "type": "fill",
            "filter": gap,
            "paint": {"fill-color": GAP, "fill-opacity": 0.15},
        },
        {
            # The hatch image is drawn by the layer's module (sensors/map-layer.js).
            "id": "camera_coverage-hatch",
            "type": "fill",
            "filter": gap,
            "paint": {"fill-pattern": HATCH_IMAGE, "fill-opacity": 0.6},
        },
        {
            "id": "camera_coverage-line",
            "type": "line",
            "filter": ["!", gap],
            "paint": {"line-color": t["line"], "line-width": 0.6, "line-opacity": 0.7},
        },
        {
            "id": "camera_coverage-gap-line",
            "type": "line",
            "filter": gap,
            "paint": {"line-color": GAP, "line-width": 1.2, "line-dasharray": [3, 2]},
        },
    ]


def coverage_legend() -> list[dict]:
    edges = [0, *COVERAGE_BREAKS]
    entries = []
    for i, colour in enumerate(COVERAGE_RAMP):
        if i < len(COVERAGE_BREAKS):
            label = f"{round(edges[i] * 100)}–{round(COVERAGE_BREAKS[i] * 100)}%"
        else:
            label = f"> {round(edges[i] * 100)}%"
        entries.append(
            {"label": label, "colour": colour, "shape": "fill", "min_zoom": None, "max_zoom": None}
        )
    entries.append(
        {
            "label": _("no camera coverage"),
            "colour": GAP,
            "shape": "fill",
            "min_zoom": None,
            "max_zoom": None,
        }
    )
    return entries


def sectors_style(theme: str) -> list[dict]:
    working = ["==", ["get", "status"], "online"]
    colour = ["case", working, SECTOR, OFFLINE]
    return [
        {
            "id": "camera_sectors-fill",
            "type": "fill",
            "paint": {"fill-color": colour, "fill-opacity": 0.12},
        },
        {
            "id": "camera_sectors-line",
            "type": "line",
            "paint": {"line-color": colour, "line-width": 1, "line-opacity": 0.6},
        },
    ]


def sectors_legend() -> list[dict]:
    return [
        {
            "label": _("view sector of a working camera"),
            "colour": SECTOR,
            "shape": "fill",
            "min_zoom": SECTORS_FROM,
            "max_zoom": None,
        },
        {
            "label": _("view sector of a camera out of service"),
            "colour": OFFLINE,
            "shape": "fill",
            "min_zoom": SECTORS_FROM,
            "max_zoom": None,
        },
    ]
