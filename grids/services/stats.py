"""Roll-ups: figures per grid by GROUP BY on the stored grid key, summed up the tree through
foreign keys, for any date with the boundaries and assignments valid then (decisions 2, 3)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Case, CharField, Count, F, FilteredRelation, Func, Q, Sum, When
from django.db.models.functions import Coalesce

from grids import sql
from grids.models import Grid, GridFigures, Household, Region, Resident, today


@dataclass
class Figures:
    households: int = 0
    residents: int = 0
    tags: dict[str, int] = field(default_factory=dict)

    def add(self, other: Figures) -> None:
        self.households += other.households
        self.residents += other.residents
        for tag, n in other.tags.items():
            self.tags[tag] = self.tags.get(tag, 0) + n

    def __eq__(self, other: object) -> bool:
        # Tags counted zero and tags not counted are the same figure.
        if not isinstance(other, Figures):
            return NotImplemented
        nonzero = lambda tags: {tag: n for tag, n in tags.items() if n}  # noqa: E731
        return (self.households, self.residents, nonzero(self.tags)) == (
            other.households,
            other.residents,
            nonzero(other.tags),
        )

    def as_dict(self) -> dict:
        return {"households": self.households, "residents": self.residents, "tags": self.tags}


def grid_then(history: str, prefix: str = "", field: str = "grid_id"):
    """The grid of a history row when there is one (even "no grid"), else today's grid. A
    COALESCE would take a history row's NULL (the household was in no grid then) for "no
    history" and count it in its later grid. `field` picks what of the grid is given: its id
    (`grid_id`) or e.g. its code (`grid__code`)."""
    return Case(
        When(**{f"{history}__id__isnull": False}, then=F(f"{history}__{field}")),
        default=F(f"{prefix}{field}"),
    )


def history_on(on: dt.date, prefix: str = "") -> FilteredRelation:
    """The grid-history row of a household valid on `on` (none when it has not moved since);
    with grid_then(), the grid the household belonged to that day."""
    return FilteredRelation(
        f"{prefix}grid_history",
        condition=Q(
            **{
                f"{prefix}grid_history__valid_from__lte": on,
                f"{prefix}grid_history__valid_to__gt": on,
            }
        ),
    )


def existing_with_grid_on(model, on: dt.date):
    """The rows of a keyed model with a lifetime and a grid history (Household, Building,
    Unit) that exist on `on`, annotated with the grid they belonged to that day (grid_on)."""
    rows = model.objects.existing_on(on)
    if on >= today():
        return rows.annotate(grid_on=F("grid_id"))
    return rows.annotate(past=history_on(on), grid_on=grid_then("past"))


def households_on(on: dt.date):
    """Existing households annotated with the grid they belonged to on `on`."""
    return existing_with_grid_on(Household, on)


def _in_grids(households, grid_ids):
    """Only the households of these grids (None among them: the households in no grid)."""
    if grid_ids is None:
        return households
    ids = [pk for pk in grid_ids if pk is not None]
    q = Q(grid_on__in=ids)
    if None in grid_ids:
        q |= Q(grid_on__isnull=True)
    return households.filter(q)


def household_figures(on: dt.date | None = None, grid_ids=None) -> dict[int | None, Figures]:
    """Households and residents per grid (None: households in no grid)."""
    on = on or today()
    households = _in_grids(households_on(on), grid_ids)
    result: dict[int | None, Figures] = defaultdict(Figures)
    rows = (
        households.order_by()
        .values("grid_on")
        .annotate(n=Count("*"), members=Coalesce(Sum("member_count"), 0))
    )
    for row in rows:
        result[row["grid_on"]] = Figures(households=row["n"], residents=row["members"])
    return result


def resident_tag_figures(on: dt.date | None = None, grid_ids=None) -> dict[int | None, dict]:
    """Residents per grid and tag in one pass: each resident's tags unnested and counted by
    (grid, tag), so the cost follows the tags residents carry, not the number of kinds in the
    catalogue (a filtered count per kind grew with every kind an administrator added). Tags
    nobody in a grid carries are absent (a figure of zero)."""
    on = on or today()
    households = _in_grids(households_on(on), grid_ids)
    residents = Resident.objects.filter(household__in=households.values("pk"), tags__len__gt=0)
    if on < today():
        residents = residents.annotate(
            past=history_on(on, "household__"), grid_on=grid_then("past", "household__")
        )
    else:
        residents = residents.annotate(grid_on=F("household__grid_id"))
    rows = (
        residents.annotate(tag=Func(F("tags"), function="unnest", output_field=CharField()))
        .order_by()
        .values_list("grid_on", "tag")
        .annotate(n=Count("*"))
    )
    result: dict[int | None, dict] = defaultdict(dict)
    for grid_id, tag, n in rows:
        result[grid_id][tag] = n
    return dict(result)


def grid_figures(on: dt.date | None = None, grid_ids=None) -> dict[int | None, Figures]:
    figures = household_figures(on, grid_ids)
    for grid_id, tags in resident_tag_figures(on, grid_ids).items():
        figures[grid_id].tags = tags
    return figures


def refresh_figures() -> None:
    """Bring GridFigures up to date: recount the grids writes have marked stale since the
    last call, or the whole district on a new day or after a bulk write (a few seconds at
    full scale, once); an ordinary edit recounts only its grids (milliseconds)."""
    on = today()
    if sql.figures_are_current(on):
        return
    with transaction.atomic():
        sql.lock_figures()
        everything, stale = sql.take_stale_figures()
        marker = GridFigures.objects.filter(grid__isnull=True).values_list("computed_on")
        if everything or marker.first() != (on,):
            GridFigures.objects.all().delete()
            figures = grid_figures(on)
            figures.setdefault(None, Figures())  # the marker row of this day's full count
        elif stale:
            q = Q(grid__in=[pk for pk in stale if pk is not None])
            if None in stale:
                q |= Q(grid__isnull=True)
            GridFigures.objects.filter(q).delete()
            figures = grid_figures(on, stale)
            figures = {pk: figures.get(pk, Figures()) for pk in stale}
        else:
            return
        GridFigures.objects.bulk_create(
            GridFigures(
                grid_id=pk,
                households=f.households,
                residents=f.residents,
                tags=f.tags,
                computed_on=on,
            )
            for pk, f in figures.items()
        )


def current_figures() -> dict[int | None, Figures]:
    """Today's figures of every grid (None: households in no grid), precomputed."""
    refresh_figures()
    rows = GridFigures.objects.values_list("grid_id", "households", "residents", "tags")
    return {pk: Figures(h, r, tags) for pk, h, r, tags in rows}


def rollup(
    on: dt.date | None = None, *, grids=None, regions=None, count_unassigned: bool = True
) -> dict:
    """Figures for every grid and every region of the tree valid on `on`.

    Returns {"grids": {grid_id: Figures}, "regions": {region_id: Figures}, "unassigned":
    Figures}. `grids` and `regions` are querysets (usually scoped with visible_to);
    `count_unassigned` is whether the caller may see the households in no grid at all.
    """
    on = on or today()
    grids = (grids if grids is not None else Grid.objects.all()).valid_on(on)
    regions = (regions if regions is not None else Region.objects.all()).valid_on(on)
    per_grid = current_figures() if on == today() else grid_figures(on)
    grid_parent = dict(grids.values_list("pk", "community_id"))
    region_parent = dict(Region.objects.valid_on(on).values_list("pk", "parent_id"))
    visible_regions = set(regions.values_list("pk", flat=True))
    by_grid = {pk: per_grid.get(pk, Figures()) for pk in grid_parent}
    by_region: dict[int, Figures] = defaultdict(Figures)
    for grid_id, community_id in grid_parent.items():
        node = community_id
        while node is not None:
            by_region[node].add(by_grid[grid_id])
            node = region_parent.get(node)
    return {
        "on": on,
        "grids": by_grid,
        "regions": {pk: by_region[pk] for pk in visible_regions},
        "unassigned": per_grid.get(None, Figures()) if count_unassigned else Figures(),
    }
