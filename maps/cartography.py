"""How the core layers look on the MapLibre map, and the shared colour language (issue #16).

One colour language for every layer: the grid choropleth is a blue ramp (figures) or the
three-colour status in soft 红/黄/蓝 fills; incidents by status in oranges, purples, blue and
teal; alarm red (ALARM) only for alarms, faults and overdue incidents, never for a status or
a figure. Points are aggregated per grid below their layer's aggregation zoom and drawn as
counted circles (features with "n"); symbols appear with zoom. With no base map the
platform's own layers are the quiet base: boundaries, names, buildings from street zoom.

Every function returns MapLibre style layers without "source"/"source-layer" (the style
builder adds them) whose ids start with the registry layer's name.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

FONT = ["Gridline Sans"]
ALARM = "#d7301f"
RAMP = ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"]
THREE_COLOURS = {"red": "#e06666", "yellow": "#f1c232", "blue": "#6fa8dc"}
HOUSEHOLDS = "#52606d"

THEMES = {
    "light": {
        "text": "#24313d",
        "muted": "#5b6875",
        "halo": "#ffffff",
        "district": "#12324f",
        "street": "#2b5d8a",
        "community": "#6b8fb3",
        "grid_line": "#8795a1",
        "grid_fill": "#dfe5eb",
        "selected": "#0b2545",
        "building": "#c3cad2",
        "building_line": "#9aa5b1",
        "count_text": "#ffffff",
    },
    "dark": {
        "text": "#e6edf3",
        "muted": "#9fb0c0",
        "halo": "#0b1320",
        "district": "#7fb3e6",
        "street": "#5b8fc7",
        "community": "#3f6a94",
        "grid_line": "#33475b",
        "grid_fill": "#15202d",
        "selected": "#ffd166",
        "building": "#2a3846",
        "building_line": "#3b4d5f",
        "count_text": "#ffffff",
    },
}


def colours(theme: str) -> dict:
    return THEMES.get(theme, THEMES["light"])


def is_aggregate() -> list:
    return ["has", "n"]


def not_aggregate() -> list:
    return ["!", ["has", "n"]]


def label_paint(theme: str, colour: str | None = None) -> dict:
    c = colours(theme)
    return {"text-color": colour or c["text"], "text-halo-color": c["halo"], "text-halo-width": 1.4}


def counts(name: str, colour: str, theme: str, max_zoom: float, min_zoom: float = 0) -> list[dict]:
    """A layer's aggregates (features with "n"): a circle growing with the log of the count,
    the count in it. Collision on the count keeps crowded grids readable."""
    c = colours(theme)
    # Smaller at district zoom, where a centre's grids crowd together.
    by_count = ["interpolate", ["linear"], ["ln", ["+", ["get", "n"], 1]], 0, 7, 2.3, 10, 6.9, 18]
    radius = ["interpolate", ["linear"], ["zoom"], 9, ["*", 0.7, by_count], 12, by_count]
    return [
        {
            "id": f"{name}-count",
            "type": "circle",
            "minzoom": min_zoom,
            "maxzoom": max_zoom,
            "filter": is_aggregate(),
            "paint": {
                "circle-color": colour,
                "circle-radius": radius,
                "circle-opacity": ["case", ["boolean", ["feature-state", "hover"], False], 1, 0.85],
                "circle-stroke-color": c["halo"],
                "circle-stroke-width": 1.2,
            },
        },
        {
            "id": f"{name}-count-label",
            "type": "symbol",
            "minzoom": min_zoom,
            "maxzoom": max_zoom,
            "filter": is_aggregate(),
            "layout": {
                "text-field": ["to-string", ["get", "n"]],
                "text-font": FONT,
                "text-size": 11,
                "text-allow-overlap": True,
            },
            "paint": {"text-color": c["count_text"]},
        },
    ]


# ---- the jurisdiction tree --------------------------------------------------------------
REGION_LOOK = {
    # name: (colour key, width, dash)
    "districts": ("district", 2.6, None),
    "streets": ("street", 1.6, None),
    "communities": ("community", 0.9, [3, 2]),
}


def region_style(name: str):
    key, width, dash = REGION_LOOK[name]

    def style(theme: str) -> list[dict]:
        line = {"line-color": colours(theme)[key], "line-width": width, "line-opacity": 0.9}
        if dash:
            line["line-dasharray"] = dash
        return [{"id": f"{name}-line", "type": "line", "paint": line}]

    return style


def places_style(theme: str) -> list[dict]:
    """The district's name below z10.5, street names from z9 to z14, community names from
    z12 to z16: one point per place,
    symbol collision keeps them apart (streets win: sort key)."""
    c = colours(theme)
    street = ["==", ["get", "level"], "street"]
    return [
        {
            "id": "places-district",
            "type": "symbol",
            "maxzoom": 10.5,
            "filter": ["==", ["get", "level"], "district"],
            "layout": {
                "text-field": ["get", "name"],
                "text-font": FONT,
                "text-size": 16,
                "symbol-sort-key": 0,
            },
            "paint": label_paint(theme, c["district"] if theme == "light" else c["text"]),
        },
        {
            "id": "places-street",
            "type": "symbol",
            "minzoom": 9,
            "maxzoom": 14,
            "filter": street,
            "layout": {
                "text-field": ["get", "name"],
                "text-font": FONT,
                "text-size": ["interpolate", ["linear"], ["zoom"], 9, 12, 13, 15],
                "text-padding": 8,
                "symbol-sort-key": 0,
            },
            "paint": label_paint(theme, c["street"] if theme == "light" else c["text"]),
        },
        {
            "id": "places-community",
            "type": "symbol",
            "minzoom": 12,
            "maxzoom": 16,
            "filter": ["==", ["get", "level"], "community"],
            "layout": {
                "text-field": ["get", "name"],
                "text-font": FONT,
                "text-size": 11.5,
                "text-padding": 4,
                "symbol-sort-key": 1,
            },
            "paint": label_paint(theme, c["muted"]),
        },
    ]


def region_legend(name: str, title):
    key, _width, _dash = REGION_LOOK[name]
    return lambda: [{"label": str(title), "colour": THEMES["light"][key], "shape": "line"}]


# ---- grids: the choropleth (fill colour by feature-state, set by the page) ---------------
def grids_style(theme: str) -> list[dict]:
    c = colours(theme)
    state = ["feature-state", "fill"]
    hover = ["boolean", ["feature-state", "hover"], False]
    selected = ["boolean", ["feature-state", "selected"], False]
    return [
        {
            "id": "grids-fill",
            "type": "fill",
            "paint": {
                "fill-color": ["coalesce", state, c["grid_fill"]],
                "fill-opacity": ["case", hover, 0.85, 0.62 if theme == "light" else 0.75],
            },
        },
        {
            "id": "grids-line",
            "type": "line",
            "paint": {"line-color": c["grid_line"], "line-width": 0.6},
        },
        {
            "id": "grids-selected",
            "type": "line",
            "paint": {
                "line-color": c["selected"],
                "line-width": ["case", selected, 3.2, hover, 1.8, 0],
            },
        },
    ]


def grid_names_style(theme: str) -> list[dict]:
    """Grid names from z14, one point per grid (a polygon's label repeats per tile)."""
    return [
        {
            "id": "grid_names-label",
            "type": "symbol",
            "minzoom": 14,
            "layout": {
                "text-field": ["get", "name"],
                "text-font": FONT,
                "text-size": 11,
                "text-padding": 4,
                "symbol-sort-key": 2,
            },
            "paint": label_paint(theme, colours(theme)["muted"]),
        }
    ]


def grids_legend() -> list[dict]:
    return [
        {"label": str(_("grid boundary")), "colour": THEMES["light"]["grid_line"], "shape": "line"}
    ]


# ---- households, buildings, units ---------------------------------------------------------
def households_style(theme: str) -> list[dict]:
    c = colours(theme)
    return counts("households", HOUSEHOLDS, theme, 15) + [
        {
            "id": "households-point",
            "type": "circle",
            "minzoom": 15,
            "filter": not_aggregate(),
            "paint": {
                "circle-color": HOUSEHOLDS if theme == "light" else "#9fb0c0",
                "circle-radius": ["interpolate", ["linear"], ["zoom"], 15, 2.5, 19, 6],
                "circle-stroke-color": c["halo"],
                "circle-stroke-width": 0.8,
            },
        }
    ]


def households_legend() -> list[dict]:
    return [
        {
            "label": str(_("households per grid")),
            "colour": HOUSEHOLDS,
            "shape": "count",
            "max_zoom": 15,
        },
        {"label": str(_("a household")), "colour": HOUSEHOLDS, "shape": "circle", "min_zoom": 15},
    ]


def buildings_style(theme: str) -> list[dict]:
    # The quiet base: footprints from street zoom; the per-grid counts are not drawn (a
    # building count says little on a command map and would crowd the other counts).
    c = colours(theme)
    return [
        {
            "id": "buildings-fill",
            "type": "fill",
            "minzoom": 16,
            "filter": ["all", not_aggregate(), ["==", ["geometry-type"], "Polygon"]],
            "paint": {
                "fill-color": c["building"],
                "fill-opacity": 0.7,
                "fill-outline-color": c["building_line"],
            },
        },
        {
            "id": "buildings-point",
            "type": "circle",
            "minzoom": 16,
            "filter": ["all", not_aggregate(), ["==", ["geometry-type"], "Point"]],
            "paint": {"circle-color": c["building_line"], "circle-radius": 2},
        },
    ]


def buildings_legend() -> list[dict]:
    return [
        {
            "label": str(_("buildings")),
            "colour": THEMES["light"]["building"],
            "shape": "fill",
            "min_zoom": 15,
        }
    ]


UNIT_GROUPS = {
    "enterprise": "#1f6feb",
    "self_employed": "#bf8700",
    "shop": "#d4a72c",
    "restaurant": "#e16f24",
    "hotel": "#a371f7",
    "school": "#2da44e",
    "clinic": "#0a9396",
    "party_org": "#9c1c3c",
    "social_org": "#8250df",
    "government": "#0550ae",
}
UNITS = "#6f42c1"


def units_style(theme: str) -> list[dict]:
    c = colours(theme)
    match = ["match", ["get", "group"]]
    for group, colour in UNIT_GROUPS.items():
        match += [group, colour]
    return counts("units", UNITS, theme, 15) + [
        {
            "id": "units-point",
            "type": "circle",
            "minzoom": 15,
            "filter": not_aggregate(),
            "paint": {
                "circle-color": match + [UNITS],
                "circle-radius": 4,
                "circle-stroke-color": c["halo"],
                "circle-stroke-width": 1,
            },
        },
        {
            "id": "units-label",
            "type": "symbol",
            "minzoom": 17,
            "filter": not_aggregate(),
            "layout": {
                "text-field": ["get", "name"],
                "text-font": FONT,
                "text-size": 10,
                "text-offset": [0, 1.1],
                "text-anchor": "top",
                "text-optional": True,
            },
            "paint": label_paint(theme),
        },
    ]


def units_legend() -> list[dict]:
    return [
        {"label": str(_("units per grid")), "colour": UNITS, "shape": "count", "max_zoom": 15},
        {
            "label": str(_("a unit (colour: its kind)")),
            "colour": UNITS,
            "shape": "circle",
            "min_zoom": 15,
        },
    ]
