"""Editing a change set: every operation of the map editor (reshape, split, merge, add a
grid, set a geometry, retire, rename, revert) and undo/redo.

Each edit runs in one transaction on the locked change set (changesets.edit_guard: the
author, an editable status, an unexpired lock, the version the author saw), computes the
new proposed boundaries on the PRECISION grid (boundaries.services.geometry) so that the
edges two grids share stay the same numbers on both sides, and records a ChangeSetStep with
the items it touched before and after: undo and redo replay those snapshots, also in a later
session."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import shapely
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon
from shapely.ops import split as split_by_line

from boundaries.models import OPEN, ChangeSet, ChangeSetItem, ChangeSetStep
from boundaries.services import changesets
from boundaries.services.geometry import (
    area_m2,
    border_m,
    difference,
    from_geojson,
    intersection,
    line_from_geojson,
    parts,
    snap,
    union_all,
)
from boundaries.services.state import ProposedGrid, communities_of, proposed
from grids.models import GRID_CODE_LENGTH, Grid, Region
from grids.problems import Problem
from grids.services.boundaries import code_problem, to_geos, to_shapely

State = dict | None  # an item's snapshot (ChangeSetStep.before/after), None: no item


def _bad(code: str, message: str, *, field: str | None = None, feature: str | None = None):
    return changesets.Refused([Problem(code, message, field=field, feature=feature)], 400)


def _hex(geom: shapely.Geometry | None) -> str | None:
    if geom is None:
        return None
    return shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True)


def _unhex(value: str | None) -> MultiPolygon | None:
    return None if value is None else shapely.from_wkb(value)


def _snapshot(item: ChangeSetItem | None) -> State:
    if item is None:
        return None
    return {
        "grid": item.grid_id,
        "community": item.community_id,
        "name": item.name,
        "base_version": item.base_version,
        "geom": _hex(to_shapely(item.geom) if item.geom is not None else None),
    }


@dataclass
class _Work:
    """The change set (locked) and its proposed grids by code, for one edit."""

    change_set: ChangeSet
    grids: dict[str, ProposedGrid]
    items: dict[str, ChangeSetItem]

    def grid(self, code: str, *, field: str = "code") -> ProposedGrid:
        found = self.grids.get(code)
        if found is None:
            # The code sent is not echoed: it may be a grid of another jurisdiction.
            raise _bad(
                "unknown_grid",
                _("no grid with this code in this change set's region"),
                field=field,
            )
        if found.geom is None:
            raise _bad(
                "grid_retired",
                _("grid %(code)s is retired in this change set: revert it first") % {"code": code},
                field=field,
                feature=code,
            )
        return found

    def siblings(self, grid: ProposedGrid, exclude: Iterable[str] = ()) -> list[ProposedGrid]:
        skip = {grid.code, *exclude}
        return [
            g
            for g in self.grids.values()
            if g.community_id == grid.community_id and g.code not in skip and g.geom is not None
        ]

    def state(self, grid: ProposedGrid, *, geom=..., name: str | None = None) -> State:
        """The item state of a grid after the edit (geom None: retired; ...: unchanged)."""
        item = self.items.get(grid.code)
        if geom is ...:
            geom = grid.geom
        if grid.grid_id is None:
            if geom is None:
                return None  # a new grid retired is simply dropped
            base = None
        else:
            base = item.base_version if item is not None else grid.version
        return {
            "grid": grid.grid_id,
            "community": grid.community_id,
            "name": grid.name if name is None else name,
            "base_version": base,
            "geom": _hex(snap(geom) if geom is not None else None),
        }


def _begin(change_set: ChangeSet, user, expected_version: int | None) -> _Work:
    locked = changesets.edit_guard(change_set, user, expected_version)
    grids = {g.code: g for g in proposed(locked)}
    items = {item.code: item for item in locked.items.all()}
    return _Work(locked, grids, items)


def _unchanged(work: _Work, code: str, state: State) -> bool:
    """An existing grid proposed exactly as it is today needs no item."""
    grid = work.grids.get(code)
    if state is None or grid is None or grid.grid_id is None or state["geom"] is None:
        return False
    if grid.current is None or state["name"] != _current_name(grid):
        return False
    return bool(shapely.equals(snap(grid.current), _unhex(state["geom"])))


def _current_name(grid: ProposedGrid) -> str:
    return Grid.objects.values_list("name", flat=True).get(pk=grid.grid_id)


def _write(change_set: ChangeSet, states: dict[str, State]) -> None:
    """Make the change set's items for these codes what the states say; a grid that gets an
    item for the first time must not be held by another change set."""
    current = {i.code: i for i in change_set.items.filter(code__in=list(states))}
    fresh_grids = [
        s["grid"]
        for code, s in states.items()
        if s is not None and s["grid"] is not None and code not in current
    ]
    fresh_codes = [code for code, s in states.items() if s is not None and s["grid"] is None]
    if problems := changesets.conflicts(change_set, grid_ids=fresh_grids, codes=fresh_codes):
        raise changesets.Refused(problems, 409)
    gone = [code for code, s in states.items() if s is None and code in current]
    if gone:
        change_set.items.filter(code__in=gone).delete()
    for code, s in states.items():
        if s is None:
            continue
        geom = _unhex(s["geom"])
        fields = {
            "grid_id": s["grid"],
            "community_id": s["community"],
            "name": s["name"],
            "base_version": s["base_version"],
            "geom": to_geos(geom) if geom is not None else None,
        }
        item = current.get(code)
        if item is None:
            ChangeSetItem.objects.create(change_set=change_set, code=code, **fields)
        else:
            for key, value in fields.items():
                setattr(item, key, value)
            item.save()


def _sync(change_set: ChangeSet, locked: ChangeSet) -> None:
    """Let the caller's instance see the new version, position and lock."""
    for name in ("version", "position", "lock_expires_at", "author_id", "status"):
        setattr(change_set, name, getattr(locked, name))


def _commit(
    work: _Work, user, operation: str, summary: str, after: dict[str, State], origin: ChangeSet
) -> ChangeSetStep:
    after = {code: (None if _unchanged(work, code, s) else s) for code, s in after.items()}
    before = {code: _snapshot(work.items.get(code)) for code in after}
    after = {code: s for code, s in after.items() if s != before[code]}
    before = {code: before[code] for code in after}
    if not after:
        raise _bad("nothing_changed", _("the edit changes nothing"))
    change_set = work.change_set
    _write(change_set, after)
    change_set.steps.filter(number__gt=change_set.position).delete()
    step = ChangeSetStep.objects.create(
        change_set=change_set,
        number=change_set.position + 1,
        operation=operation,
        summary=summary[:200],
        before=before,
        after=after,
        by=user,
    )
    change_set.position += 1
    changesets.edited(change_set)
    _sync(origin, change_set)
    step.change_set = change_set
    return step


def _too_small(geom: shapely.Geometry | None) -> bool:
    return geom is None or area_m2(geom) < settings.GRIDLINE_SLIVER_M2


# --- the operations -------------------------------------------------------------------------


@transaction.atomic
def reshape(
    change_set: ChangeSet,
    user,
    *,
    code: str,
    geom,
    adjust_neighbours: bool = True,
    expected_version: int | None = None,
) -> ChangeSetStep:
    """The grid's new boundary as drawn. With `adjust_neighbours`, the sibling grids of its
    community lose the ground it now covers, and each piece of ground it gave up goes to the
    sibling sharing the longest border with it (a piece touching none stays a gap). Grids of
    other communities never change."""
    work = _begin(change_set, user, expected_version)
    grid = work.grid(code)
    new = from_geojson(geom, label=code)
    after: dict[str, State] = {}
    if adjust_neighbours:
        new, after = _adjust_neighbours(work, grid, new)
    after[code] = work.state(grid, geom=new)
    return _commit(
        work, user, "reshape", _("reshaped %(code)s") % {"code": code}, after, change_set
    )


def _adjust_neighbours(
    work: _Work, grid: ProposedGrid, new: MultiPolygon
) -> tuple[MultiPolygon, dict[str, State]]:
    siblings = work.siblings(grid)
    reshaped: dict[str, MultiPolygon] = {}
    remnants = []
    for sibling in siblings:
        if not shapely.intersects(sibling.geom, new):
            reshaped[sibling.code] = snap(sibling.geom)
            continue
        rest = difference(sibling.geom, new)
        kept = [p for p in parts(rest) if not _too_small(p)]
        if not kept:
            raise _bad(
                "swallows_grid",
                _(
                    "the new boundary of %(code)s covers all of grid %(other)s: merge the "
                    "two grids instead"
                )
                % {"code": grid.code, "other": sibling.code},
                field="geometry",
                feature=grid.code,
            )
        # Crumbs of a sibling left by a line drawn a hair off its edge go to the grid being
        # drawn, so that they become neither a gap nor a second part of the sibling.
        remnants += [p for p in parts(rest) if _too_small(p)]
        reshaped[sibling.code] = union_all(kept)
    if remnants:
        new = union_all([new, *remnants])
    given_up = difference(grid.geom, new)
    for piece in parts(given_up):
        borders = [(border_m(piece, reshaped[s.code]), s.code) for s in siblings]
        length, best = max(borders, default=(0.0, None))
        if best is not None and length > 0:
            reshaped[best] = union_all([reshaped[best], piece])
    after = {}
    for sibling in siblings:
        geom = reshaped[sibling.code]
        if not shapely.equals(geom, snap(sibling.geom)):
            after[sibling.code] = work.state(sibling, geom=geom)
    if after:
        # Where the drawn edge crosses an old edge the overlays made a vertex (rounded to
        # the grid) that the drawing lacks; taking the siblings off once more (snap-rounding
        # overlay) puts those vertices into the drawn edge too, so both sides are identical.
        new = difference(new, union_all(reshaped.values()))
    return new, after


@transaction.atomic
def split(
    change_set: ChangeSet, user, *, code: str, line, expected_version: int | None = None
) -> ChangeSetStep:
    """Cut a grid with a drawn line into two or more parts: the largest keeps the grid,
    every other part becomes a new grid under the next free code."""
    work = _begin(change_set, user, expected_version)
    grid = work.grid(code)
    cut = line_from_geojson(line, label=code)
    pieces = [
        snap(p)
        for p in shapely.get_parts(split_by_line(grid.geom, cut))
        if p.geom_type == "Polygon"
    ]
    pieces = [p for p in pieces if not _too_small(p)]
    if len(pieces) < 2:
        raise _bad(
            "split_line_does_not_cross",
            _("the line must cross grid %(code)s from edge to edge to cut it in two")
            % {"code": code},
            field="line",
            feature=code,
        )
    pieces.sort(key=area_m2, reverse=True)
    community = Region.objects.get(pk=grid.community_id)
    number = int(next_code(community, work.change_set)[-3:])
    after = {code: work.state(grid, geom=pieces[0])}
    for piece in pieces[1:]:
        new_code = _numbered(community, number)
        after[new_code] = _new_state(community, new_code, None, piece)
        number += 1
    return _commit(
        work,
        user,
        "split",
        _("split %(code)s into %(n)s grids") % {"code": code, "n": len(pieces)},
        after,
        change_set,
    )


@transaction.atomic
def merge(
    change_set: ChangeSet,
    user,
    *,
    codes: list[str],
    keep: str | None = None,
    expected_version: int | None = None,
) -> ChangeSetStep:
    """Join two or more adjacent grids of one community: `keep` (default the first code)
    takes the union; the others are retired (new grids of the change set are dropped)."""
    codes = list(dict.fromkeys(codes or []))
    work = _begin(change_set, user, expected_version)
    if len(codes) < 2:
        raise _bad("merge_needs_two", _("choose at least two grids to merge"), field="codes")
    grids = [work.grid(code, field="codes") for code in codes]
    keep = keep or codes[0]
    if keep not in codes:
        raise _bad(
            "bad_keep",
            _("the grid to keep (%(code)s) must be one of the merged grids") % {"code": keep},
            field="keep",
            feature=keep,
        )
    if len({g.community_id for g in grids}) > 1:
        raise _bad(
            "merge_different_communities",
            _(
                "grids %(codes)s belong to different communities: only grids of one community "
                "can be merged"
            )
            % {"codes": ", ".join(codes)},
            field="codes",
        )
    _require_connected(grids)
    merged = union_all(g.geom for g in grids)
    after = {}
    for grid in grids:
        after[grid.code] = work.state(grid, geom=merged if grid.code == keep else None)
    return _commit(
        work,
        user,
        "merge",
        _("merged %(codes)s into %(keep)s") % {"codes": ", ".join(codes), "keep": keep},
        after,
        change_set,
    )


def _require_connected(grids: list[ProposedGrid]) -> None:
    """Grids joined by shared edges of positive length (a corner is not enough)."""
    reached = {0}
    frontier = [0]
    while frontier:
        i = frontier.pop()
        for j in range(len(grids)):
            if j not in reached and border_m(grids[i].geom, grids[j].geom) > 0:
                reached.add(j)
                frontier.append(j)
    if len(reached) < len(grids):
        apart = [g.code for j, g in enumerate(grids) if j not in reached]
        raise _bad(
            "merge_not_touching",
            _(
                "grid %(codes)s shares no edge with the other grids: only adjacent grids can be "
                "merged"
            )
            % {"codes": ", ".join(apart)},
            field="codes",
            feature=apart[0],
        )


@transaction.atomic
def add_grid(
    change_set: ChangeSet,
    user,
    *,
    geom,
    code: str | None = None,
    name: str | None = None,
    expected_version: int | None = None,
) -> ChangeSetStep:
    """A new grid drawn over ground of a community of the region that no grid covers: the
    drawing within the community (the one holding most of it), less every proposed grid."""
    work = _begin(change_set, user, expected_version)
    drawn = from_geojson(geom, label=code)
    best, ground = None, MultiPolygon()
    for community in communities_of(work.change_set):
        boundary = community.boundary_on()
        if boundary is None:
            continue
        inside = intersection(drawn, to_shapely(boundary))
        if not inside.is_empty and (best is None or area_m2(inside) > area_m2(ground)):
            best, ground = community, inside
    if best is not None:
        taken = [g.geom for g in work.grids.values() if g.community_id == best.pk and g.geom]
        ground = difference(ground, union_all(taken)) if taken else ground
    if best is None or _too_small(ground):
        raise _bad(
            "no_uncovered_ground",
            _("the drawing covers no ground of the region that is not already in a grid"),
            field="geometry",
            feature=code,
        )
    if code is None:
        code = next_code(best, work.change_set)
    elif problem := _new_code_problem(best, work, code):
        raise changesets.Refused([problem], 400)
    name = (name or "").strip()[:100] or None
    return _commit(
        work,
        user,
        "add",
        _("added grid %(code)s") % {"code": code},
        {code: _new_state(best, code, name, ground)},
        change_set,
    )


def _new_code_problem(community: Region, work: _Work, code: str) -> Problem | None:
    if problem := code_problem(code, None, community.code):
        return problem
    if code in work.grids or Grid.objects.filter(code=code).exists():
        return Problem(
            "duplicate_code",
            _("code %(code)s is already used (codes of retired grids are never reused)")
            % {"code": code},
            field="code",
            feature=code,
        )
    return None


def default_name(community: Region, code: str) -> str:
    """The name of a new grid nobody named: its community and its number (萱板社区4号网格)."""
    return _("%(community)s grid %(number)s") % {
        "community": community.name,
        "number": int(code[-3:]),
    }


def _new_state(community: Region, code: str, name: str | None, geom) -> State:
    return {
        "grid": None,
        "community": community.pk,
        "name": name or default_name(community, code),
        "base_version": None,
        "geom": _hex(snap(geom)),
    }


@transaction.atomic
def set_geometry(
    change_set: ChangeSet, user, *, code: str, geom, expected_version: int | None = None
) -> ChangeSetStep:
    """Replace a grid's proposed boundary as given, neighbours untouched (a desktop GIS or a
    script that computed every boundary itself)."""
    work = _begin(change_set, user, expected_version)
    grid = work.grids.get(code)
    if grid is not None and grid.geom is None:
        # Giving a retired grid a boundary again brings it back.
        grid = ProposedGrid(**{**grid.__dict__, "action": "reshape"})
    elif grid is None:
        grid = work.grid(code)
    new = from_geojson(geom, label=code)
    return _commit(
        work,
        user,
        "set_geometry",
        _("set the boundary of %(code)s") % {"code": code},
        {code: work.state(grid, geom=new)},
        change_set,
    )


@transaction.atomic
def retire(
    change_set: ChangeSet, user, *, code: str, expected_version: int | None = None
) -> ChangeSetStep:
    """The grid ends with the change (its ground should go to a neighbour or be merged); a
    new grid of the change set is dropped."""
    work = _begin(change_set, user, expected_version)
    grid = work.grid(code)
    return _commit(
        work,
        user,
        "retire",
        _("retired %(code)s") % {"code": code},
        {code: work.state(grid, geom=None)},
        change_set,
    )


@transaction.atomic
def rename(
    change_set: ChangeSet, user, *, code: str, name: str, expected_version: int | None = None
) -> ChangeSetStep:
    work = _begin(change_set, user, expected_version)
    grid = work.grid(code)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise _bad(
            "bad_name", _("a grid's name has 1 to 100 characters"), field="name", feature=code
        )
    return _commit(
        work,
        user,
        "rename",
        _("renamed %(code)s to %(name)s") % {"code": code, "name": name},
        {code: work.state(grid, name=name)},
        change_set,
    )


@transaction.atomic
def revert(
    change_set: ChangeSet, user, *, code: str, expected_version: int | None = None
) -> ChangeSetStep:
    """Drop the grid's item: back to its current boundary and name (a new grid goes). For a
    grid changed since the draft touched it (stale), this is the way out."""
    work = _begin(change_set, user, expected_version)
    if code not in work.items:
        raise _bad(
            "nothing_to_revert",
            _("the change set does not change grid %(code)s") % {"code": code},
            field="code",
            feature=code,
        )
    return _commit(
        work, user, "revert", _("reverted %(code)s") % {"code": code}, {code: None}, change_set
    )


# --- undo and redo --------------------------------------------------------------------------


@transaction.atomic
def undo(change_set: ChangeSet, user, *, expected_version: int | None = None) -> ChangeSetStep:
    """Take back the last done step: its items as they were before it."""
    locked = changesets.edit_guard(change_set, user, expected_version)
    if locked.position == 0:
        raise _bad("nothing_to_undo", _("there is nothing to undo"))
    step = locked.steps.get(number=locked.position)
    _write(locked, step.before)
    locked.position -= 1
    changesets.edited(locked)
    _sync(change_set, locked)
    step.change_set = locked
    return step


@transaction.atomic
def redo(change_set: ChangeSet, user, *, expected_version: int | None = None) -> ChangeSetStep:
    """Do again the step last undone (kept until a new edit replaces it)."""
    locked = changesets.edit_guard(change_set, user, expected_version)
    step = locked.steps.filter(number=locked.position + 1).first()
    if step is None:
        raise _bad("nothing_to_redo", _("there is nothing to redo"))
    _write(locked, step.after)
    locked.position += 1
    changesets.edited(locked)
    _sync(change_set, locked)
    step.change_set = locked
    return step


def can_undo(change_set: ChangeSet) -> bool:
    return change_set.position > 0


def can_redo(change_set: ChangeSet) -> bool:
    return change_set.steps.filter(number=change_set.position + 1).exists()


# --- codes ----------------------------------------------------------------------------------


def _numbered(community: Region, number: int) -> str:
    if number > 999:
        raise _bad(
            "no_free_code",
            _("community %(code)s has used all 999 grid codes") % {"code": community.code},
            field="code",
        )
    return f"{community.code}{number:03d}"


def next_code(community: Region, change_set: ChangeSet | None = None) -> str:
    """The community's code and 3 digits, one above the highest ever used under it (retired
    grids included: a code is never reused), in this change set or in another open one."""
    prefix = community.code
    length = GRID_CODE_LENGTH
    used = list(Grid.objects.filter(code__startswith=prefix).values_list("code", flat=True)) + list(
        ChangeSetItem.objects.filter(
            code__startswith=prefix, change_set__status__in=OPEN
        ).values_list("code", flat=True)
    )
    if change_set is not None:
        used += list(change_set.items.values_list("code", flat=True))
    numbers = [int(code[-3:]) for code in used if len(code) == length and code.isdigit()]
    return _numbered(community, max(numbers, default=0) + 1)
