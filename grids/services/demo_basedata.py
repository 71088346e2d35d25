"""The demo district's 一标三实 at the seeds' scale: buildings (实有房屋), standard addresses
(标准地址) and units (实有单位) where its households are, and every household linked to its
building and address.

About one building per ten households: residential and mixed buildings hold the households
(neighbours along a space-filling curve within a grid, a few to a rural house, dozens to an
urban block), the rest are commercial, public and industrial buildings near them. A
building stands at its most central household's point, with a small oriented rectangle as
its footprint; its addresses take its point. Urban addresses are road + number + 栋 + 单元 +
room; rural ones are 村 + 组 + number (one per house). Units (demo_units) stand in buildings.

Deterministic (a generator of its own, seeded) and bulk (numpy, then COPY): the same whether
built with the demo or added to a demo built before (`add_to_existing`).
"""

from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from django.db import connection, transaction
from pyproj import Transformer

from grids import sql
from grids.changes import data_changed_since
from grids.services import crs as crs_service
from grids.services.imports import NullProgress, Progress
from grids.signals import announce
from grids.sql import demo as demo_sql

SEED = 4_2260
HOUSEHOLDS_PER_BUILDING = 10
# Residential and mixed buildings, the ones households live in; the rest have none.
RESIDENTIAL_SHARE = 0.89
# Households per building, relative: an urban block holds several times a rural house.
URBAN_MEAN, RURAL_MEAN = 18.0, 4.0
URBAN_STREETS = 7  # the streets numbered 001-007 are the urban core (街道)
CITY = "重庆市永川区"
NON_RESIDENTIAL = {"commercial": 0.55, "public": 0.22, "industrial": 0.18, "other": 0.05}
ROAD_ENDINGS = ["路", "街", "巷", "大道", "路", "街"]
COMPOUND_ENDINGS = ["小区", "花园", "苑", "家园", "公寓", "新村"]
USE_NAMES = {"commercial": "商业楼", "public": "综合楼", "industrial": "厂房", "other": "附属用房",
             "mixed": "商住楼"}  # fmt: skip


@dataclass
class BaseData:
    buildings: int
    addresses: int
    units: int
    households_linked: int
    residents_updated: int = 0
    # Seconds per stage, for the command's report (the full demo's figures in the docs).
    seconds: dict[str, float] = field(default_factory=dict)


@contextmanager
def _timed(seconds: dict[str, float], stage: str):
    start = time.perf_counter()
    yield
    seconds[stage] = round(time.perf_counter() - start, 1)


def _morton(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Z-order of points: neighbours on the curve are neighbours on the ground."""

    def spread(v):
        v = v.astype(np.uint64)
        for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    def quantise(v):
        span = float(np.ptp(v)) if len(v) else 0.0
        return ((v - (v.min() if len(v) else 0)) / (span or 1.0) * 65535).astype(np.uint32)

    return spread(quantise(x)) | (spread(quantise(y)) << np.uint64(1))


def _transformers() -> tuple[Transformer, Transformer]:
    from grids.services.demo import CENTRE

    metric = crs_service.local_metric_crs(*CENTRE)
    return (
        Transformer.from_crs(crs_service.WGS84, metric, always_xy=True),
        Transformer.from_crs(metric, crs_service.WGS84, always_xy=True),
    )


def _read() -> tuple[pd.DataFrame, pd.DataFrame]:
    with connection.cursor() as cursor:
        households = demo_sql.read_frame(cursor, demo_sql.HOUSEHOLDS).to_pandas()
        grids = demo_sql.read_frame(
            cursor, demo_sql.GRIDS, strings=("code", "community_code", "street_code")
        ).to_pandas()
    grids["urban"] = grids["street_code"].str[-3:].astype(int) <= URBAN_STREETS
    return households, grids


def _solve_counts(counts: np.ndarray, mean: np.ndarray, target: int) -> np.ndarray:
    """Buildings per grid, ∝ households / mean size, adding up to about `target`."""
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        b = np.clip(np.rint(counts / (mean * np.exp(mid))), 1, counts)
        lo, hi = (mid, hi) if b.sum() > target else (lo, mid)
    return np.clip(np.rint(counts / (mean * np.exp(hi))), 1, counts).astype(int)


def _group(rng, x, y, grid_key, urban, n_target) -> np.ndarray:
    """Each household's building (0..B-1): runs of neighbours along the Z-curve within a
    grid, cut at random points (sizes vary as real buildings' do)."""
    order = np.lexsort((_morton(x, y), grid_key))
    keys, start, counts = np.unique(grid_key[order], return_index=True, return_counts=True)
    mean = np.where(urban[order][start], URBAN_MEAN, RURAL_MEAN)
    per_grid = _solve_counts(counts, mean, n_target)
    building = np.empty(len(x), dtype=np.int64)
    first = 0
    for s, c, b in zip(start, counts, per_grid, strict=True):
        cuts = np.sort(rng.choice(np.arange(1, c), b - 1, replace=False)) if b > 1 else []
        building[order[s : s + c]] = first + np.searchsorted(cuts, np.arange(c), side="right")
        first += b
    return building


def _footprints(rng, x, y, use, urban, units, to_wgs84) -> np.ndarray:
    """Oriented rectangles (metres, then WGS84) as hex EWKB MultiPolygons."""
    n = len(x)
    width = np.where(urban, rng.uniform(11, 18, n), rng.uniform(8, 13, n))
    length = np.where(urban, 8 + 16 * units + rng.uniform(0, 8, n), rng.uniform(9, 16, n))
    big = np.isin(use, ["commercial", "public"]) & urban
    width = np.where(big, rng.uniform(20, 45, n), width)
    length = np.where(big, rng.uniform(25, 70, n), length)
    factory = use == "industrial"
    width = np.where(factory, rng.uniform(20, 60, n), width)
    length = np.where(factory, rng.uniform(30, 120, n), length)
    # Urban blocks follow the street grid (one bearing, a little noise); rural houses face
    # any way.
    angle = np.where(urban, 0.35 + rng.normal(0, 0.08, n), rng.uniform(0, np.pi, n))
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], dtype=float) / 2
    dx = corners[None, :, 0] * length[:, None]
    dy = corners[None, :, 1] * width[:, None]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    px = x[:, None] + dx * cos - dy * sin
    py = y[:, None] + dx * sin + dy * cos
    lon, lat = to_wgs84.transform(px.ravel(), py.ravel())
    rings = np.stack([np.asarray(lon), np.asarray(lat)], axis=-1).reshape(n, 5, 2)
    polygons = shapely.polygons(rings)
    multi = shapely.multipolygons(polygons, indices=np.arange(n))
    return shapely.to_wkb(shapely.set_srid(multi, 4326), hex=True, include_srid=True)


def _floors(rng, use, urban, households, units) -> np.ndarray:
    n = len(use)
    rooms = units * 2  # two flats a floor on each staircase
    flats = np.clip(np.ceil(households / np.maximum(rooms, 1)) + rng.integers(0, 8, n), 6, 33)
    rural = rng.choice([1, 2, 3], n, p=[0.3, 0.5, 0.2])
    floors = np.where(urban, flats, rural)
    floors = np.where((use == "mixed") & urban, np.minimum(floors + 2, 33), floors)
    floors = np.where((use == "commercial") & urban, rng.integers(2, 25, n), floors)
    floors = np.where((use == "public") & urban, rng.integers(2, 9, n), floors)
    floors = np.where(use == "industrial", rng.integers(1, 5, n), floors)
    floors = np.where(use == "other", rng.integers(1, 4, n), floors)
    return floors.astype(int)


def _built_years(rng, urban, floors) -> np.ndarray:
    n = len(urban)
    urban_year = np.clip(np.rint(rng.normal(2008, 9, n)), 1980, 2024)
    year = np.where(urban, urban_year, rng.integers(1980, 2021, n))
    # High-rises came with the new town.
    return np.where(floors >= 18, np.maximum(year, 2000 + rng.integers(0, 20, n)), year).astype(int)


def short_name(name: str) -> str:
    for ending in ("社区", "村"):
        if name.endswith(ending):
            return name[: -len(ending)]
    return name


def buildings_of(rng, households: pd.DataFrame, grids: pd.DataFrame):
    """The buildings (one row each, in order), and each household's building index."""
    from grids.services.demo import SYLLABLES

    to_metric, to_wgs84 = _transformers()
    n = len(households)
    hh = households.merge(
        grids.rename(columns={"id": "grid_id"}), on="grid_id", how="left", sort=False
    )
    hh["urban"] = hh["urban"].fillna(False).astype(bool)
    x, y = (np.asarray(v) for v in to_metric.transform(hh["lon"].to_numpy(), hh["lat"].to_numpy()))
    urban = hh["urban"].to_numpy()
    target = max(1, round(n / HOUSEHOLDS_PER_BUILDING * RESIDENTIAL_SHARE))
    of = _group(rng, x, y, hh["grid_id"].to_numpy(), urban, target)
    b_res = int(of.max()) + 1 if n else 0
    size = np.bincount(of, minlength=b_res)
    cx = np.bincount(of, x, minlength=b_res) / np.maximum(size, 1)
    cy = np.bincount(of, y, minlength=b_res) / np.maximum(size, 1)
    # Each building at its most central household (inside that household's grid).
    by_distance = np.lexsort(((x - cx[of]) ** 2 + (y - cy[of]) ** 2, of))
    first = np.r_[0, np.cumsum(size)[:-1]]
    medoid = by_distance[first]
    registered = pd.to_datetime(hh["registered_on"]).to_numpy().astype("datetime64[D]")
    earliest = np.full(b_res, np.datetime64("2100-01-01"), dtype="datetime64[D]")
    np.minimum.at(earliest, of, registered)
    res = pd.DataFrame(
        {
            "x": x[medoid],
            "y": y[medoid],
            "urban": urban[medoid],
            "anchor": medoid,  # the household whose community it takes
            "households": size,
            "use": np.where(
                rng.random(b_res) < np.where(urban[medoid], 0.07, 0.02), "mixed", "residential"
            ),
            "registered_on": earliest,
        }
    )
    # Buildings with no households, near the residential ones (more in the urban core).
    extra = round(n / HOUSEHOLDS_PER_BUILDING * (1 - RESIDENTIAL_SHARE)) if b_res else 0
    weight = np.where(res["urban"], 3.0, 1.0)
    near = rng.choice(b_res, extra, p=weight / weight.sum()) if b_res else np.array([], int)
    distance, bearing = rng.uniform(40, 150, extra), rng.uniform(0, 2 * np.pi, extra)
    other = pd.DataFrame(
        {
            "x": res["x"].to_numpy()[near] + distance * np.cos(bearing),
            "y": res["y"].to_numpy()[near] + distance * np.sin(bearing),
            "urban": res["urban"].to_numpy()[near],
            "anchor": res["anchor"].to_numpy()[near],
            "households": 0,
            "use": rng.choice(list(NON_RESIDENTIAL), extra, p=list(NON_RESIDENTIAL.values())),
            "registered_on": np.datetime64("2019-01-01")
            + rng.integers(0, 5 * 365, extra).astype("timedelta64[D]"),
        }
    )
    b = pd.concat([res, other], ignore_index=True)
    for column in ("grid_id", "community_id", "community_code", "community_name", "street_name"):
        b[column] = hh[column].to_numpy()[b["anchor"].to_numpy()]
    b["grid_id"] = b["grid_id"].fillna(0).astype(int)
    urban_b, use = b["urban"].to_numpy(), b["use"].to_numpy()
    hh_count = b["households"].to_numpy()
    units = np.where(
        urban_b & (hh_count > 0),
        np.maximum(rng.integers(1, 4, len(b)), np.ceil(hh_count / 66)),
        1,
    ).astype(int)
    b["units"] = units
    b["floors"] = _floors(rng, use, urban_b, hh_count, units)
    b["built_year"] = _built_years(rng, urban_b, b["floors"].to_numpy())
    lon, lat = to_wgs84.transform(b["x"].to_numpy(), b["y"].to_numpy())
    b["lon"], b["lat"] = np.asarray(lon), np.asarray(lat)
    b["footprint"] = _footprints(rng, b["x"].to_numpy(), b["y"].to_numpy(), use, urban_b, units,
                                 to_wgs84)  # fmt: skip
    b["compound"] = [
        "".join(rng.choice(SYLLABLES, 2)) + COMPOUND_ENDINGS[i % len(COMPOUND_ENDINGS)]
        for i in rng.integers(0, 60, len(b))
    ]
    return b, of, hh


def generate(households: pd.DataFrame, grids: pd.DataFrame, unit_types: dict[str, int]):
    """The demo's buildings, addresses, household links and units as frames (no ids yet:
    indices into each other)."""
    from grids.services.demo_addresses import addresses_of
    from grids.services.demo_units import units_of

    rng = np.random.default_rng(SEED)
    b, of, hh = buildings_of(rng, households, grids)
    addresses, household_address, building_address, names = addresses_of(rng, b, of, hh)
    b["name"] = names
    b["address"] = addresses["text"].to_numpy()[building_address]
    b["address_index"] = building_address
    b["code"] = _codes(b)
    units = units_of(rng, b, unit_types, _transformers()[1])
    return b, addresses, household_address, of, units


def _codes(b: pd.DataFrame) -> list[str]:
    """房屋编码: the community's 12 digits and a number within it."""
    community = b["community_code"].astype(object).fillna("500118999999").to_numpy()
    order = np.argsort(community, kind="stable")
    sorted_c = community[order]
    start = np.r_[True, sorted_c[1:] != sorted_c[:-1]]
    group_first = np.maximum.accumulate(np.where(start, np.arange(len(b)), 0))
    seq = np.empty(len(b), dtype=np.int64)
    seq[order] = np.arange(len(b)) - group_first + 1
    return [f"{c}{s:06d}" for c, s in zip(community, seq, strict=True)]


def _date_text(values) -> np.ndarray:
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]").astype(object)


def write(progress: Progress | None = None) -> BaseData:
    """Generate and write the 一标三实 for the households there (inside the caller's
    transaction)."""
    from grids.models import Address, Building, Household, Unit, UnitType

    progress = progress or NullProgress()
    progress.stage("buildings and units", None)
    # Points are keyed to grids and households written until the commit: a boundary change
    # waits (the tree lock, as for every household write) instead of deadlocking with this
    # transaction's foreign-key checks on the grids at commit.
    sql.lock_tree(shared=True)
    seconds: dict[str, float] = {}
    with _timed(seconds, "generate"):
        households, grids = _read()
        unit_types = dict(UnitType.objects.filter(active=True).values_list("code", "pk"))
        b, addresses, household_address, of, units = generate(households, grids, unit_types)
    with connection.cursor() as cursor, _timed(seconds, "write"):
        first_b = demo_sql.lock_and_allocate(cursor, "grids_building", len(b))
        first_a = demo_sql.lock_and_allocate(cursor, "grids_address", len(addresses))
        b["id"] = first_b + np.arange(len(b))
        b["client_key"] = [f"demo-b-{i}" for i in range(len(b))]
        b["registered_on"] = _date_text(b["registered_on"])
        with _timed(seconds, "buildings"):
            demo_sql.insert_buildings(cursor, b)
        addresses["id"] = first_a + np.arange(len(addresses))
        addresses["building_id"] = first_b + addresses["building"].to_numpy()
        addresses["community_id"] = addresses["community_id"].astype("Int64")
        with _timed(seconds, "addresses"):
            demo_sql.insert_addresses(cursor, addresses)
        units["building_id"] = first_b + units["building"].to_numpy()
        units["standard_address_id"] = first_a + b["address_index"].to_numpy()[units["building"]]
        units["id"] = np.arange(len(units))
        with _timed(seconds, "units"):
            demo_sql.insert_units(cursor, units)
        links = pd.DataFrame(
            {
                "id": households["id"].to_numpy(),
                "building_id": first_b + of,
                "standard_address_id": first_a + household_address,
                "address": addresses["text"].to_numpy()[household_address],
            }
        )
        with sql.bulk_write(cursor), _timed(seconds, "households"):
            linked = demo_sql.link_households(cursor, links)
            sql.mark_all_figures_stale(cursor)
    since = min(b["registered_on"].min(), dt.date.today()) if len(b) else None
    for subject in ("buildings", "units", "households"):
        data_changed_since(subject, since)
    for model in (Building, Unit, Address, Household):
        announce(model)
    return BaseData(len(b), len(addresses), len(units), linked, seconds=seconds)


def clear() -> None:
    """Remove the 一标三实 the demo wrote (households keep their points and text)."""
    sql.lock_tree(shared=True)  # it writes households (see write())
    with connection.cursor() as cursor:
        demo_sql.unlink(cursor, _references_from_other_apps())
        demo_sql.clear(cursor)


def _references_from_other_apps() -> list[tuple[str, str]]:
    """(table, column) of the other apps' nullable links to buildings, addresses and units
    (a service provider's unit, #20), from the app registry: the foundation imports no
    other app. Cleared before the places go, as Django's SET_NULL would; the new places the
    demo writes have other ids, so a link could not be kept anyway."""
    from django.apps import apps

    from grids.models import Address, Building, Unit

    places = (Address, Building, Unit)
    found = []
    for model in apps.get_models():
        if model._meta.app_label == "grids":
            continue
        for f in model._meta.concrete_fields:
            if f.many_to_one and f.related_model in places:
                if not f.null:
                    raise ValueError(f"{model._meta.label}.{f.name} must be nullable")
                found.append((model._meta.db_table, f.column))
    return found


def missing() -> bool:
    """A demo with households and no buildings: built before the 一标三实."""
    from grids.models import Building, Household

    return Household.objects.exists() and not Building.objects.exists()


@transaction.atomic
def add_to_existing(progress: Progress | None = None) -> BaseData:
    """Give a demo built before this work its 一标三实: buildings, addresses and units are
    (re)generated, households linked, residents given their new attributes in place."""
    from grids.services import demo_residents

    progress = progress or NullProgress()
    clear()
    result = write(progress)
    progress.stage("resident attributes", None)
    with connection.cursor() as cursor, _timed(result.seconds, "residents"):
        people = demo_sql.read_frame(cursor, demo_sql.RESIDENTS).to_pandas()
        households, grids = _read()
        urban_of = dict(zip(grids["id"], grids["urban"], strict=True))
        ids, household = np.unique(people["household_id"].to_numpy(), return_inverse=True)
        grid_of = dict(zip(households["id"], households["grid_id"], strict=True))
        urban = np.array([bool(urban_of.get(grid_of.get(h, 0), False)) for h in ids])
        birth = pd.to_datetime(people["birth_date"]).to_numpy().astype("datetime64[D]")
        table = demo_residents.attributes(
            household,
            demo_residents.ages(birth),
            (people["sex"] == "M").to_numpy(),
            urban,
            demo_residents.catalogue(),
        )
        table.insert(0, "id", people["id"].to_numpy())
        with sql.bulk_write(cursor):
            result.residents_updated = demo_sql.update_residents(cursor, table)
            sql.mark_all_figures_stale(cursor)
    from grids.models import Resident

    data_changed_since("residents", dt.date(2019, 1, 1))
    announce(Resident)
    return result
