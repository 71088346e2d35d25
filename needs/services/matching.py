"""Candidates for an accepted need: the offers of its kind in reach, each with the distance
in metres (on the spheroid) between the provider and the need, the provider's load and the
offer's free capacity, and whether it may be dispatched to (else why not). Ranked: eligible
first, then those with room, then nearest, then least loaded. The ranking is one statement
(needs/sql.py says why); `judge` states the same rules for dispatch.send."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.geos import Point

from grids.models import GridBoundary
from needs import sql
from needs.models import Need, ProviderStatus, ServiceOffer

OUTSIDE_AREA, OVER_RADIUS = "outside_area", "over_radius"
NO_CAPACITY, NOT_CONFIRMED = "no_capacity", "not_confirmed"


@dataclass
class Candidate:
    provider: object
    offer: ServiceOffer
    distance_m: float | None
    load: int
    free: int
    eligible: bool
    reason: str = ""


def need_point(need: Need) -> Point | None:
    """Where the need is: its point, else a point surely inside its grid."""
    if need.location is not None:
        return need.location
    boundary = GridBoundary.objects.valid_on().filter(grid=need.grid_id).first()
    if boundary is None:
        boundary = GridBoundary.objects.filter(grid=need.grid_id).order_by("-valid_from").first()
    return boundary.geom.point_on_surface if boundary is not None else None


def judge(offer: ServiceOffer, need: Need, distance_m: float | None) -> str:
    """Why the offer may not take the need ("" when it may), capacity aside: the rules of
    needs.sql.RANKED_OFFERS, for dispatch.send on the locked rows."""
    if offer.provider.status != ProviderStatus.CONFIRMED:
        return NOT_CONFIRMED
    # An offer with no area rows serves its provider's community (the default area).
    area = set(offer.area.values_list("pk", flat=True)) or {offer.provider.community_id}
    if need.community_id not in area:
        return OUTSIDE_AREA
    if offer.radius_m is not None and (distance_m is None or distance_m > offer.radius_m):
        return OVER_RADIUS
    return ""


def candidates(need: Need, limit: int = 20) -> list[Candidate]:
    """Ranked: eligible first, then those with room, then nearest, then least loaded. The
    ranking in one statement (needs.sql.ranked_offers), then the best offers' rows."""
    best = sql.ranked_offers(need.pk, need_point(need), limit)
    offers = ServiceOffer.objects.select_related("provider", "provider__community").in_bulk(
        [row[0] for row in best]
    )
    return [
        Candidate(
            provider=offers[pk].provider,
            offer=offers[pk],
            distance_m=float(metres) if metres is not None else None,
            load=load,
            free=free,
            eligible=not reason,
            reason=reason,
        )
        for pk, metres, load, free, reason in best
    ]
