"""The needs and providers layers of the command-centre map (registered from
NeedsConfig.ready, like incidents/layers.py).

`needs`: the open needs the user may see, coloured by status, and those done in the last
`RECENT_DONE_DAYS` days (grey, from street zoom), overdue ones ringed in alarm red; declined
and merged needs are not on the map. Below zoom `AGGREGATE_BELOW`: one point per grid with
the number of open needs in it. `providers`: the confirmed providers of the services list,
coloured by kind; below the zoom, per grid counts. A person (volunteer, party member) has
no label: a name on a map is personal data; units and co-building units are labelled.

Scoping is the models' (`visible_to`): a department and a provider see neither layer (the
layers are not even offered to them), a grid worker its grid's needs and its community's
providers.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Case,
    CharField,
    F,
    Q,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Role
from maps import cartography as carto
from maps.per_grid import counted_per_grid
from maps.registry import Aggregation, Layer, Preset, register, register_preset
from needs.models import (
    OPEN_STATUSES,
    PERSON_KINDS,
    Need,
    NeedStatus,
    Provider,
    ProviderKind,
    ProviderStatus,
)

RECENT_DONE_DAYS = 30
AGGREGATE_BELOW = 13
DONE_FROM = 15
# Everyone who takes part in the loop from a desk; departments read figures through reports,
# providers their inbox.
ROLES = frozenset(
    {
        Role.GRID_WORKER,
        Role.COMMUNITY_STAFF,
        Role.STREET_CENTRE,
        Role.DISTRICT_CENTRE,
        Role.ADMINISTRATOR,
    }
)

# Waiting on the community in warm colours, with a provider in purples and blues, waiting
# for the resident's confirmation in teal, done grey (maps.cartography's language).
STATUS_COLOURS = {
    NeedStatus.SUBMITTED: "#e8590c",
    NeedStatus.ACCEPTED: "#f59f00",
    NeedStatus.DISPATCHED: "#ae3ec9",
    NeedStatus.TAKEN: "#1c7ed6",
    NeedStatus.REPORTED: "#0ca678",
    NeedStatus.DONE: "#adb5bd",
}
# Providers are hollow rings (needs are filled dots), so that a party member's red never
# reads as a need or as the alarm red of an overdue one; they come in one zoom later.
KIND_COLOURS = {
    ProviderKind.UNIT: "#6f42c1",
    ProviderKind.CO_BUILDING: "#1971c2",
    ProviderKind.VOLUNTEER: "#2f9e44",
    ProviderKind.PARTY_MEMBER: "#c2255c",
}
NEEDS_COUNT = "#f59f00"
PROVIDERS_COUNT = "#7048e8"
PROVIDERS_BELOW = 14


# ---- needs --------------------------------------------------------------------------------


def _needs(user):
    since = timezone.now() - dt.timedelta(days=RECENT_DONE_DAYS)
    return (
        Need.objects.visible_to(user)
        .filter(Q(status__in=OPEN_STATUSES) | Q(status=NeedStatus.DONE, confirmed_at__gte=since))
        .filter(location__isnull=False)
        .annotate(fid=F("pk"), kind_code=F("kind__code"))
    )


def _needs_per_grid(user):
    # A positive list of statuses: the (grid, status) index answers per grid.
    return counted_per_grid(Need.objects.visible_to(user).filter(status__in=OPEN_STATUSES))


def needs_style(theme: str) -> list[dict]:
    c = carto.colours(theme)
    by_status = ["match", ["get", "status"]]
    for status, colour in STATUS_COLOURS.items():
        by_status += [str(status), colour]
    overdue = ["==", ["get", "overdue"], True]
    done = ["==", ["get", "status"], str(NeedStatus.DONE)]
    return [
        *carto.counts("needs", NEEDS_COUNT, theme, AGGREGATE_BELOW),
        {
            "id": "needs-done",
            "type": "circle",
            "minzoom": DONE_FROM,
            "filter": ["all", carto.not_aggregate(), done],
            "paint": {
                "circle-color": STATUS_COLOURS[NeedStatus.DONE],
                "circle-radius": ["interpolate", ["linear"], ["zoom"], DONE_FROM, 2.5, 18, 5],
                "circle-opacity": 0.6,
                "circle-stroke-color": c["halo"],
                "circle-stroke-width": 0.5,
            },
        },
        {
            "id": "needs-point",
            "type": "circle",
            "minzoom": AGGREGATE_BELOW,
            "filter": ["all", carto.not_aggregate(), ["!", done]],
            "paint": {
                "circle-color": by_status + ["#868e96"],
                "circle-radius": ["interpolate", ["linear"], ["zoom"], 13, 5, 18, 8],
                "circle-stroke-color": ["case", overdue, carto.ALARM, c["halo"]],
                "circle-stroke-width": ["case", overdue, 3, 1.5],
            },
        },
        {
            "id": "needs-label",
            "type": "symbol",
            "minzoom": 16,
            "filter": ["all", carto.not_aggregate(), ["!", done]],
            "layout": {
                "text-field": ["get", "title"],
                "text-font": carto.FONT,
                "text-size": 11,
                "text-offset": [0, 1.1],
                "text-anchor": "top",
                "text-max-width": 10,
                "text-optional": True,
            },
            "paint": carto.label_paint(theme),
        },
    ]


def needs_legend() -> list[dict]:
    done = STATUS_COLOURS[NeedStatus.DONE]
    return [
        {
            "label": str(_("open needs per grid")),
            "colour": NEEDS_COUNT,
            "shape": "count",
            "max_zoom": AGGREGATE_BELOW,
        },
        *(
            {
                "label": str(NeedStatus(status).label),
                "colour": colour,
                "shape": "circle",
                "min_zoom": DONE_FROM if colour == done else AGGREGATE_BELOW,
            }
            for status, colour in STATUS_COLOURS.items()
        ),
        {
            "label": str(_("need overdue")),
            "colour": carto.ALARM,
            "shape": "ring",
            "min_zoom": AGGREGATE_BELOW,
        },
    ]


NEEDS = register(
    Layer(
        name="needs",
        title=_("needs"),
        queryset=_needs,
        geometry="location",
        attributes=("fid", "number", "title", "status", "overdue", "urgency", "kind_code"),
        kind="point",
        depends_on=(Need,),
        aggregation=Aggregation(
            below_zoom=AGGREGATE_BELOW,
            queryset=_needs_per_grid,
            geometry="point",
            bbox_field="geom",
            attributes=("fid", "code", "name", "n"),
        ),
        style={
            "color": STATUS_COLOURS[NeedStatus.SUBMITTED],
            "radius": 6,
            "statuses": {str(k): v for k, v in STATUS_COLOURS.items()},
            "statusLabels": {str(k): NeedStatus(k).label for k in STATUS_COLOURS},
            "link": "/needs/{fid}/",
        },
        map_style=needs_style,
        legend=needs_legend,
        module="needs/map-layer.js",
        link="/needs/{fid}/",
        label="title",
        roles=ROLES,
        order=62,
    )
)


# ---- providers ----------------------------------------------------------------------------


def _providers(user):
    return (
        Provider.objects.visible_to(user)
        .filter(status=ProviderStatus.CONFIRMED, location__isnull=False)
        .annotate(
            fid=F("pk"),
            label=Case(
                When(kind__in=list(PERSON_KINDS), then=Value("")),
                default=F("name"),
                output_field=CharField(),
            ),
        )
    )


def _providers_per_grid(user):
    return counted_per_grid(
        Provider.objects.visible_to(user).filter(
            status=ProviderStatus.CONFIRMED, grid__isnull=False
        )
    )


def providers_style(theme: str) -> list[dict]:
    c = carto.colours(theme)
    by_kind = ["match", ["get", "kind"]]
    for kind, colour in KIND_COLOURS.items():
        by_kind += [str(kind), colour]
    return [
        *carto.counts("providers", PROVIDERS_COUNT, theme, PROVIDERS_BELOW),
        {
            "id": "providers-point",
            "type": "circle",
            "minzoom": PROVIDERS_BELOW,
            "filter": carto.not_aggregate(),
            "paint": {
                "circle-color": c["halo"],
                "circle-radius": ["interpolate", ["linear"], ["zoom"], 14, 3, 18, 5.5],
                "circle-stroke-color": by_kind + ["#868e96"],
                "circle-stroke-width": ["interpolate", ["linear"], ["zoom"], 14, 1.5, 18, 2.5],
            },
        },
        {
            "id": "providers-label",
            "type": "symbol",
            "minzoom": 16,
            "filter": ["all", carto.not_aggregate(), ["!=", ["get", "label"], ""]],
            "layout": {
                "text-field": ["get", "label"],
                "text-font": carto.FONT,
                "text-size": 10,
                "text-offset": [0, 1],
                "text-anchor": "top",
                "text-max-width": 10,
                "text-optional": True,
            },
            "paint": carto.label_paint(theme),
        },
    ]


def providers_legend() -> list[dict]:
    return [
        {
            "label": str(_("providers per grid")),
            "colour": PROVIDERS_COUNT,
            "shape": "count",
            "max_zoom": PROVIDERS_BELOW,
        },
        *(
            {
                "label": str(ProviderKind(kind).label),
                "colour": colour,
                "shape": "ring",
                "min_zoom": PROVIDERS_BELOW,
            }
            for kind, colour in KIND_COLOURS.items()
        ),
    ]


PROVIDERS = register(
    Layer(
        name="providers",
        title=_("service providers"),
        queryset=_providers,
        geometry="location",
        attributes=("fid", "kind", "label"),
        kind="point",
        depends_on=(Provider,),
        aggregation=Aggregation(
            below_zoom=PROVIDERS_BELOW,
            queryset=_providers_per_grid,
            geometry="point",
            bbox_field="geom",
            attributes=("fid", "code", "name", "n"),
        ),
        style={
            "color": KIND_COLOURS[ProviderKind.PARTY_MEMBER],
            "radius": 5,
            "statuses": {str(k): v for k, v in KIND_COLOURS.items()},
            "statusLabels": {str(k): ProviderKind(k).label for k in KIND_COLOURS},
        },
        map_style=providers_style,
        legend=providers_legend,
        module="needs/map-layer.js",
        label="label",
        roles=ROLES,
        order=64,
    )
)


# A community's or street's view of the loop: where needs wait and who can serve them
# (/?preset=needs); no role starts on it.
PRESET = register_preset(
    Preset(
        name="needs",
        title=_("Needs and services: needs and providers"),
        layers=(
            "districts",
            "streets",
            "communities",
            "grids",
            "buildings",
            "places",
            "grid_names",
            "needs",
            "providers",
        ),
        figure="none",
        order=40,
    )
)
