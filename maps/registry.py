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

    def visible_to(self, user) -> bool:
        if not (user.is_authenticated and user.is_active):
            return False
        return self.roles is None or user.is_superuser or user.role in self.roles


_layers: dict[str, Layer] = {}
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
