"""The layer registry: every app says here what it puts on the command-centre map.

A layer names its source queryset (scoped per user, so tiles follow the one scoping rule),
its geometry, the attributes sent to the browser, how it is aggregated at low zoom, style
hints for the legend, and which models invalidate its tiles when they change. `maps` imports
no feature app: apps call `register()` from their AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db.models import QuerySet


@dataclass(frozen=True)
class Aggregation:
    """Below `below_zoom`, features are replaced by `queryset(user)` rows, each an
    aggregate with its own point geometry (e.g. households counted per grid); at and above
    it, a tile with more than `max_points` features is clustered on a pixel grid."""

    below_zoom: int
    geometry: str
    attributes: tuple[str, ...]
    # The aggregates for a user; not used when `of_features` is set.
    queryset: Callable[[object], QuerySet] | None = None
    bbox_field: str | None = None  # an indexed column to find the rows of a tile by
    max_points: int = 5000
    cluster_pixels: int = 48
    # Called before an aggregate tile is built, e.g. to bring precomputed figures up to date.
    prepare: Callable[[], None] | None = None
    # When set, the aggregates are built from the layer's own features (scoped and with the
    # chosen filters applied) instead of `queryset(user)`, so that the counts follow the
    # filters too.
    of_features: Callable[[QuerySet], QuerySet] | None = None


@dataclass(frozen=True)
class Filter:
    """A choice the browser may narrow a layer's features by: `?type=camera&type=water_tank`
    keeps the features with any of the chosen values. `choices(user)` gives the values the
    user may choose with their labels (an unknown value is refused), `apply(queryset,
    values)` narrows."""

    title: str
    choices: Callable[[object], Sequence[tuple[str, str]]]
    apply: Callable[[QuerySet, list[str]], QuerySet]


@dataclass(frozen=True)
class Layer:
    name: str
    title: str
    queryset: Callable[[object], QuerySet]
    geometry: str
    attributes: tuple[str, ...]
    kind: str  # "polygon" or "point": the browser's default style
    bbox_field: str | None = None  # defaults to `geometry`
    min_zoom: int = 0
    max_zoom: int = 22
    depends_on: tuple[type, ...] = ()
    aggregation: Aggregation | None = None
    style: dict = field(default_factory=dict)
    label: str | None = None  # attribute shown as the feature's label
    roles: frozenset[str] | None = None  # None: everyone who may log in
    order: int = 100
    filters: dict[str, Filter] = field(default_factory=dict)  # query parameter -> filter
    # MapLibre style layers for a theme ("light" | "dark"), without "source"/"source-layer"
    # (the style builder sets source "gridline" and source-layer = the layer's name); every
    # id starts with f"{name}-". Aggregates/clusters are features with property "n" (filter
    # ["has", "n"]); every feature carries "id" (= fid) as a property and as its MVT id.
    map_style: Callable[[str], list[dict]] | None = None
    # Legend entries: [{"label", "colour": "#rrggbb", "shape": "fill"|"line"|"circle"|"ring"|
    # "count", "min_zoom", "max_zoom"}]; the legend shows an entry while the layer is on and
    # the zoom is in range, so that it explains what is on screen, aggregates included.
    legend: Callable[[], list[dict]] | None = None
    # Static path of the layer's ES module ("sensors/map-layer.js"); the map imports it when
    # the layer is in the style; its default export install(view, layer) adds its popups,
    # panels and controls, so the map page names no feature app.
    module: str | None = None
    link: str | None = None  # a feature's page, e.g. "/incidents/{fid}/"

    def visible_to(self, user) -> bool:
        if not (user.is_authenticated and user.is_active):
            return False
        return self.roles is None or user.is_superuser or user.role in self.roles


@dataclass(frozen=True)
class Preset:
    """A named set of layers, filters and grid figure: a role's starting view (the street
    command centre, the fire team, a department), which the user may change."""

    name: str
    title: str  # translated (gettext_lazy)
    layers: tuple[str, ...]  # the layers on
    # The grid choropleth: households|residents|oldyoung|colour|indicator|completeness|none.
    figure: str = "households"
    filters: dict = field(default_factory=dict)  # {layer: {param: (values, ...)}}
    roles: frozenset[str] = frozenset()  # the default preset of these roles (first wins)
    order: int = 100

    def visible_to(self, user) -> bool:
        """A preset is offered when the user may see at least one of its layers."""
        return any((layer := _layers.get(n)) and layer.visible_to(user) for n in self.layers)


_layers: dict[str, Layer] = {}
_presets: dict[str, Preset] = {}
_dependents: dict[type, list[Layer]] | None = None  # model -> layers, built on first use


def register(layer: Layer) -> Layer:
    if layer.name in _layers:
        raise ValueError(f"map layer {layer.name!r} is registered twice")
    _layers[layer.name] = layer
    global _dependents
    _dependents = None
    return layer


def get(name: str) -> Layer | None:
    return _layers.get(name)


def layers_for(user) -> list[Layer]:
    return sorted((lay for lay in _layers.values() if lay.visible_to(user)), key=lambda x: x.order)


def depending_on(model: type) -> list[Layer]:
    """The layers whose tiles a change to `model` makes stale (called on every model save:
    a dictionary look-up for the models no layer depends on)."""
    global _dependents
    if _dependents is None:
        found: dict[type, list[Layer]] = {}
        for layer in _layers.values():
            for dependency in layer.depends_on:
                found.setdefault(dependency, []).append(layer)
        _dependents = found
    return _dependents.get(model, [])


def register_preset(preset: Preset) -> Preset:
    if preset.name in _presets:
        raise ValueError(f"map preset {preset.name!r} is registered twice")
    _presets[preset.name] = preset
    return preset


def get_preset(name: str) -> Preset | None:
    return _presets.get(name)


def presets_for(user) -> list[Preset]:
    """The presets with at least one layer the user may see, in order."""
    return sorted((p for p in _presets.values() if p.visible_to(user)), key=lambda p: p.order)


def default_preset(user) -> Preset | None:
    """The first registered preset naming the user's role, else the first the user may use;
    None when no preset is registered (the style then turns every visible layer on)."""
    offered = presets_for(user)
    role = getattr(user, "role", None)
    for preset in _presets.values():
        if role in preset.roles and preset in offered:
            return preset
    return offered[0] if offered else None
