"""Codes for a file that has none (--generate-codes), so that a GIS officer need not edit it.

Each feature without a code goes under the parent its representative point lies in (or the
parent_code of its row), and gets the parent's next free 3-digit suffixes: above the highest
code ever given under that parent (retired ones included: a code is never reused) and above
those in the file. Features are numbered in a stated, repeatable order: by the longitude of
their centroid, west to east; at equal longitude (to 1e-6°), north to south."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pandas as pd
import shapely
from django.utils.translation import gettext as _

from grids.models import CODE_LENGTH, GRID_CODE_LENGTH, PARENT_LEVEL, Grid, Level, Region
from grids.problems import Problem
from grids.services.imports.report import ImportReport

SUFFIX = 3


def _parent_level(level: str) -> str:
    return Level.COMMUNITY if level == "grid" else PARENT_LEVEL[level]


def _no_parent(parent_level: str) -> str:
    if parent_level == Level.DISTRICT:
        return _("cannot generate a code: the feature lies in no district")
    if parent_level == Level.STREET:
        return _("cannot generate a code: the feature lies in no street")
    return _("cannot generate a code: the feature lies in no community")


def _parent_areas(level: str, on: dt.date) -> list[tuple[str, object]]:
    regions = Region.objects.valid_on(on).filter(level=_parent_level(level))
    out = []
    for region in regions:
        geom = region.boundary_on(on)
        if geom is not None:
            area = shapely.from_wkb(bytes(geom.wkb))
            shapely.prepare(area)
            out.append((region.code, area))
    return out


def _highest(level: str, parent: str) -> int:
    length = GRID_CODE_LENGTH if level == "grid" else CODE_LENGTH[level]
    model = Grid if level == "grid" else Region
    used = [
        int(code[len(parent) :])
        for code in model.objects.filter(code__startswith=parent).values_list("code", flat=True)
        if len(code) == length
    ]
    return max(used, default=0)


def generate_codes(
    table: pd.DataFrame, geoms: np.ndarray, usable: np.ndarray, *, level: str, on, report
) -> None:
    """Fill the empty codes of `table` (geometries in WGS84), reporting each code made."""
    report: ImportReport
    rows = table["row"].to_numpy()
    empty = (table["code"].astype(str) == "").to_numpy() & usable
    if not empty.any():
        return
    given_parents = table["parent_code"].astype(str).to_numpy() if "parent_code" in table else None
    areas = _parent_areas(level, on)
    centroids = shapely.centroid(geoms[empty])
    inside = shapely.point_on_surface(geoms[empty])
    idx = np.flatnonzero(empty)
    by_parent: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for j, i in enumerate(idx):
        parent = given_parents[i] if given_parents is not None and given_parents[i] else None
        if parent is None:
            parent = next((code for code, area in areas if shapely.contains(area, inside[j])), None)
        if parent is None:
            report.problems.append(
                Problem(
                    "no_parent",
                    _no_parent(_parent_level(level)),
                    row=int(rows[i]),
                    field="code",
                )
            )
            usable[i] = False
            continue
        c = centroids[j]
        by_parent[parent].append((round(c.x, 6), -round(c.y, 6), i))
    in_file = [str(c) for c in table["code"] if c]
    codes = table["code"].astype(object).to_numpy(copy=True)
    for parent, features in by_parent.items():
        taken = [
            int(c[len(parent) :])
            for c in in_file
            if c.startswith(parent) and c[len(parent) :].isdigit()
        ]
        next_suffix = max([_highest(level, parent), *taken]) + 1
        for _x, _y, i in sorted(features):
            if next_suffix >= 10**SUFFIX:
                report.problems.append(
                    Problem(
                        "codes_exhausted",
                        _("no free code left under %(parent)s") % {"parent": parent},
                        row=int(rows[i]),
                        field="code",
                    )
                )
                usable[i] = False
                continue
            code = f"{parent}{next_suffix:0{SUFFIX}d}"
            next_suffix += 1
            codes[i] = code
            report.problems.append(
                Problem(
                    "generated_code",
                    _("code %(code)s generated for %(name)s under %(parent)s")
                    % {"code": code, "name": table["name"].iloc[i], "parent": parent},
                    row=int(rows[i]),
                    field="code",
                    feature=code,
                    value=code,
                    severity="info",
                )
            )
    table["code"] = codes
