"""The core's OGC API – Features collections: regions by level, grids, grid boundary versions
and households (issue #19). Sensors and incidents register theirs from their own apps.

Every collection reads through the models' `visible_to(user)` (decision 4), its geometry is a
stored column of the base model (so a `bbox` is served by that column's GiST index, never
through a join) and its feature id is stable: a region's or grid's code, a version's or
household's primary key.

Time (`datetime`): the tree and its boundaries have versions ([valid_from, valid_to) dates),
households a lifetime and a grid history. An instant is the state on that (local) day. An
interval gives, for regions and grids, each one's last version within it, so that the code
stays a unique id (every version of a grid is in `grid-versions`); households existing at
some time within it, with their grid as at the interval's end.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Exists, F, Min, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import (
    Colour,
    Grid,
    GridBoundary,
    Household,
    Level,
    Region,
    RegionBoundary,
    Theme,
    today,
)
from grids.services.stats import grid_then, history_on
from ogc.editors import HOUSEHOLDS as HOUSEHOLD_EDITOR
from ogc.registry import Collection, Interval, Property, register

# Boundaries change only through change sets (issue #7): the page where they are drawn. A
# path, not reverse(): the URLconf is not loaded yet when the apps are ready.
CHANGE_SETS = "/boundaries/"
# Roles that see households (decision 4): a department sees none, so for it the collection
# does not exist at all (404, like an unknown collection).
HOUSEHOLD_ROLES = frozenset(
    {"grid_worker", "community_staff", "street_centre", "district_centre", "administrator"}
)


# --- time ------------------------------------------------------------------------------------


def local_date(moment: dt.datetime) -> dt.date:
    """The day a moment falls on where the platform is (Asia/Shanghai): the dates of the
    version tables are local dates."""
    if timezone.is_aware(moment):
        return timezone.localtime(moment).date()
    return moment.date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local day as aware datetimes."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def interval_dates(interval: Interval) -> tuple[dt.date | None, dt.date | None]:
    """The local days an interval starts and ends on (None: open)."""
    start = local_date(interval.start) if interval.start is not None else None
    end = local_date(interval.end) if interval.end is not None else None
    return start, end


def moment_filter(path: str, interval: Interval) -> Q:
    """A timestamp column narrowed to a `datetime`: an instant is its whole local day, an
    interval is closed at both ends (OGC API – Features)."""
    if interval.instant:
        start, end = day_bounds(local_date(interval.start))
        return Q(**{f"{path}__gte": start, f"{path}__lt": end})
    q = Q()
    if interval.start is not None:
        q &= Q(**{f"{path}__gte": interval.start})
    if interval.end is not None:
        q &= Q(**{f"{path}__lte": interval.end})
    return q


def period_meets(start: dt.date | None, end: dt.date | None, prefix: str = "") -> Q:
    """A [valid_from, valid_to) period that meets the days [start, end]. A zero-length
    version (a same-day redraw's record) meets no day."""
    q = Q(**{f"{prefix}valid_to__isnull": True}) | Q(
        **{f"{prefix}valid_to__gt": F(f"{prefix}valid_from")}
    )
    if end is not None:
        q &= Q(**{f"{prefix}valid_from__lte": end})
    if start is not None:
        q &= Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gt": start})
    return q


def versions_in(queryset, interval: Interval, owner: str):
    """Boundary versions (`owner`: "region" or "grid") for a `datetime`: the version valid on
    an instant's day; for an interval, each owner's last version within it, so the owner's
    code stays a unique feature id. The owner itself must have existed then too."""
    start, end = interval_dates(interval)
    if interval.instant:
        end = start
    meets = period_meets(start, end)
    queryset = queryset.filter(meets, period_meets(start, end, f"{owner}__"))
    if interval.instant:
        return queryset  # one version is valid on a day
    later = queryset.model.objects.filter(
        meets, **{owner: OuterRef(owner)}, valid_from__gt=OuterRef("valid_from")
    )
    return queryset.filter(~Exists(later))


def extent_of(history, model, **filters):
    """The temporal extent of a version table: from the first version the user may see, open
    at the end (the current versions are open). `history(user)`: the user's versions; called
    without a user (the core's views before they pass one), every version of `model`."""

    def extent(user=None) -> tuple[str | None, str | None]:
        rows = history(user) if user is not None else model.objects.filter(**filters)
        first = rows.aggregate(first=Min("valid_from"))["first"]
        return (first.isoformat() if first else None, None)

    return extent


def values_of(choices):
    return lambda _user: list(choices.values)


# --- regions ---------------------------------------------------------------------------------

REGION_IDS = {Level.DISTRICT: "districts", Level.STREET: "streets", Level.COMMUNITY: "communities"}
REGION_TITLES = {
    Level.DISTRICT: _("districts"),
    Level.STREET: _("streets / towns"),
    Level.COMMUNITY: _("communities / villages"),
}


def region_versions(level: str):
    """Boundary versions of the user's regions of one level, all times."""

    def queryset(user):
        return RegionBoundary.objects.filter(
            region__in=Region.objects.visible_to(user).filter(level=level)
        )

    return queryset


def current_regions(level: str):
    history = region_versions(level)

    def queryset(user):
        return history(user).filter(valid_to__isnull=True, region__valid_to__isnull=True)

    return queryset


def region_temporal(queryset, interval: Interval, _user):
    return versions_in(queryset, interval, "region")


def validity_properties() -> tuple[Property, ...]:
    return (
        Property("valid_from", "valid_from", "date", _("valid from"), nullable=False),
        Property("valid_to", "valid_to", "date", _("valid to")),
    )


def region_collection(level: str, order: int) -> Collection:
    properties = [
        Property("code", "region__code", "string", _("code"), nullable=False),
        Property("name", "region__name", "string", _("name"), nullable=False),
        Property(
            "level", "region__level", "string", _("level"), enum=values_of(Level), nullable=False
        ),
        Property("parent", "region__parent__code", "string", _("parent")),
        *validity_properties(),
    ]
    if level == Level.DISTRICT:
        properties.append(
            Property(
                "full_coverage",
                "region__full_coverage",
                "boolean",
                _("grids must cover every community"),
                nullable=False,
            )
        )
    return Collection(
        id=REGION_IDS[level],
        title=REGION_TITLES[level],
        description=_(
            "Boundaries of the jurisdiction tree; with datetime, the boundary valid then."
        ),
        queryset=current_regions(level),
        history=region_versions(level),
        geometry="geom",
        geometry_type="MultiPolygon",
        id_field="region__code",
        id_type="string",
        properties=tuple(properties),
        temporal=region_temporal,
        temporal_extent=extent_of(region_versions(level), RegionBoundary, region__level=level),
        read_only_note=_("Boundaries change only through boundary change sets."),
        read_only_link=CHANGE_SETS,
        order=order,
        keywords=("boundary", str(level)),
    )


# --- grids -----------------------------------------------------------------------------------


def grid_versions(user):
    """Boundary versions of the user's grids (every theme), all times."""
    return GridBoundary.objects.filter(grid__in=Grid.objects.visible_to(user))


def current_grids(user):
    return grid_versions(user).filter(valid_to__isnull=True, grid__valid_to__isnull=True)


def grid_temporal(queryset, interval: Interval, _user):
    return versions_in(queryset, interval, "grid")


def version_temporal(queryset, interval: Interval, _user):
    """Every version whose period meets the days asked for (an instant: valid that day)."""
    start, end = interval_dates(interval)
    return queryset.filter(period_meets(start, start if interval.instant else end))


GRIDS = Collection(
    id="grids",
    title=_("grids"),
    description=_(
        "Grids of every theme (governance, forest fire, safety) with their three-colour "
        "status; with datetime, the boundary valid then."
    ),
    queryset=current_grids,
    history=grid_versions,
    geometry="geom",
    geometry_type="MultiPolygon",
    id_field="grid__code",
    id_type="string",
    properties=(
        Property("code", "grid__code", "string", _("code"), nullable=False),
        Property("name", "grid__name", "string", _("name"), nullable=False),
        Property("community", "grid__community__code", "string", _("community"), nullable=False),
        Property(
            "theme", "grid__theme", "string", _("theme"), enum=values_of(Theme), nullable=False
        ),
        Property(
            "colour",
            "grid__colour",
            "string",
            _("three-colour status"),
            enum=values_of(Colour),
            nullable=False,
        ),
        Property("version", "grid__version", "integer", _("version"), nullable=False),
        *validity_properties(),
    ),
    temporal=grid_temporal,
    temporal_extent=extent_of(grid_versions, GridBoundary),
    read_only_note=_("Grid boundaries change only through boundary change sets."),
    read_only_link=CHANGE_SETS,
    order=20,
    keywords=("grid", "boundary"),
)

GRID_VERSIONS = Collection(
    id="grid-versions",
    title=_("grid boundary versions"),
    description=_(
        "Every boundary version of every grid, valid over [valid_from, valid_to); nothing is "
        "deleted, a redraw closes a version and opens the next."
    ),
    queryset=grid_versions,
    geometry="geom",
    geometry_type="MultiPolygon",
    id_field="id",
    id_type="integer",
    properties=(
        Property("grid", "grid__code", "string", _("grid"), nullable=False),
        Property("name", "grid__name", "string", _("name"), nullable=False),
        *validity_properties(),
        Property("reason", "reason", "string", _("reason"), queryable=False, nullable=False),
        Property("created_at", "created_at", "date-time", _("created at"), nullable=False),
    ),
    temporal=version_temporal,
    temporal_extent=extent_of(grid_versions, GridBoundary),
    read_only_note=_("Grid boundaries change only through boundary change sets."),
    read_only_link=CHANGE_SETS,
    order=21,
    keywords=("grid", "boundary", "history"),
)


# --- households ------------------------------------------------------------------------------


def grid_code_on(queryset, on: dt.date, user):
    """Households annotated with the code of their grid on `on` (`grid_code`): today's is on
    the household; before a boundary change moved it, the grid is in its history. The
    roll-ups' rule (grids.services.stats.grid_then): a history row wins even when its grid is
    NULL (the household was in no grid then).

    The grid then may be one the user cannot see (a household moved into their grid from
    another street's): its code is then withheld (null, as for no grid), since no answer
    names another jurisdiction's code (decision 4). Today's grid is always the user's: the
    households are scoped by it."""
    if on >= today():
        return queryset.annotate(grid_code=F("grid__code"))
    queryset = queryset.annotate(past=history_on(on))
    code = grid_then("past", field="grid__code")
    if scoping.sees_everything(user):
        return queryset.annotate(grid_code=code)
    return queryset.alias(grid_then_id=grid_then("past")).annotate(
        grid_code=Case(
            When(grid_then_id__in=Grid.objects.visible_to(user).values("pk"), then=code),
            default=Value(None),
        )
    )


def all_households(user):
    """The user's households of all times (scoped by their grid today: decision 4)."""
    return Household.objects.visible_to(user)


def current_households(user):
    return grid_code_on(all_households(user).existing_on(), today(), user)


def household_temporal(queryset, interval: Interval, user):
    start, end = interval_dates(interval)
    if interval.instant:
        return grid_code_on(queryset.existing_on(start), start, user)
    q = Q()
    if end is not None:
        q &= Q(registered_on__lte=end)
    if start is not None:
        q &= Q(removed_on__isnull=True) | Q(removed_on__gt=start)
    return grid_code_on(queryset.filter(q), end or today(), user)


HOUSEHOLDS = Collection(
    id="households",
    title=_("households"),
    description=_(
        "Households (一标三实) at their points with their standard address and grid; no "
        "residents (personal data). With datetime, the households existing then and their "
        "grid then."
    ),
    queryset=current_households,
    history=all_households,
    geometry="location",
    geometry_type="Point",
    id_field="id",
    id_type="integer",
    properties=(
        Property("address", "address", "string", _("standard address"), nullable=False),
        Property("grid", "grid_code", "string", _("grid")),
        Property("member_count", "member_count", "integer", _("members"), nullable=False),
        Property("registered_on", "registered_on", "date", _("registered on"), nullable=False),
        Property("removed_on", "removed_on", "date", _("removed on")),
        Property("client_key", "client_key", "string", _("client key"), nullable=False),
        Property("updated_at", "updated_at", "date-time", _("updated at"), nullable=False),
    ),
    temporal=household_temporal,
    roles=HOUSEHOLD_ROLES,
    large=True,
    # Part 4: written through grids.services.households (ogc/editors.py).
    editor=HOUSEHOLD_EDITOR,
    order=30,
    keywords=("household", "一标三实"),
)


for order, level in enumerate((Level.DISTRICT, Level.STREET, Level.COMMUNITY), 10):
    register(region_collection(level, order))
register(GRIDS)
register(GRID_VERSIONS)
register(HOUSEHOLDS)
