"""The demo's standard addresses (标准地址): urban ones are road + number + 栋 + 单元 +
room, neighbouring blocks sharing a number as a compound (小区); rural ones are 村 + 组 +
number, one number per house. Every household gets one; so does every urban building and
every rural building with no households (a rural house's own address is its first
household's). The text is unique: it names the street and community, and numbers are
counted per community and road."""

from __future__ import annotations

import numpy as np
import pandas as pd

from grids.services.demo_basedata import CITY, ROAD_ENDINGS, USE_NAMES, short_name


def _roads(rng, community_name: str, urban: bool) -> list[str]:
    from grids.services.demo import ROADS, SYLLABLES

    if not urban:
        return [f"{g}组" for g in range(1, int(rng.integers(6, 15)) + 1)]
    own = ["".join(rng.choice(SYLLABLES, 2)) + str(rng.choice(ROAD_ENDINGS)) for _ in range(4)]
    return list(dict.fromkeys([*rng.choice(ROADS, 2, replace=False), *own]))


def addresses_of(rng, b: pd.DataFrame, of: np.ndarray, hh: pd.DataFrame):
    """Standard addresses: a building-level one for each urban building and each rural
    building with no households, one per household (urban: 单元 + room in its building;
    rural: its own number in its 组). Returns (addresses, each household's address index,
    each building's address index, building names)."""
    roads: dict[object, list[str]] = {}
    numbers: dict[tuple, int] = {}
    rows = []  # (community_id, road, number, building_no, unit_no, room, text, building)
    building_address = np.full(len(b), -1, dtype=np.int64)
    names, prefixes, rural_start = [], [], np.zeros(len(b), dtype=np.int64)
    road_of = np.empty(len(b), dtype=object)
    number_of = np.empty(len(b), dtype=object)
    no_of = np.empty(len(b), dtype=object)
    compound_left, compound_no, previous = 0, 0, object()
    columns = ("community_id", "community_name", "street_name", "urban", "households", "use",
               "compound")  # fmt: skip
    for i, (community, c_name, s_name, urban, households, use, compound) in enumerate(
        zip(*(b[c].to_numpy() for c in columns), strict=True)
    ):
        key = community if community == community else None  # NaN: in no community
        c_name = c_name if isinstance(c_name, str) else ""
        s_name = s_name if isinstance(s_name, str) else ""
        if key not in roads:
            roads[key] = _roads(rng, c_name, bool(urban))
        if key != previous:
            compound_left, previous = 0, key
        road = roads[key][int(rng.integers(len(roads[key])))]
        place = f"{CITY}{s_name}{c_name}"
        if urban and households:
            # Neighbouring blocks form a compound (小区) at one number of one road.
            if compound_left == 0:
                compound_left, compound_no = int(rng.integers(1, 9)), 0
                numbers[(key, road)] = numbers.get((key, road), 0) + int(rng.integers(1, 4))
                current = (road, numbers[(key, road)], compound)
            compound_left -= 1
            compound_no += 1
            road, number, compound = current
            text = f"{place}{road}{number}号{compound_no}栋"
            names.append(f"{compound}{compound_no}栋")
            no = str(compound_no)
        elif urban or not households:
            numbers[(key, road)] = numbers.get((key, road), 0) + int(rng.integers(1, 4))
            number, no = numbers[(key, road)], ""
            text = f"{place}{road}{number}号"
            names.append(f"{compound[:2]}{USE_NAMES.get(use, '')}" if urban else
                         f"{short_name(c_name)}{road}{number}号")  # fmt: skip
        else:
            # A rural house: each household has its own number in the 组.
            start = numbers.get((key, road), 0) + 1
            numbers[(key, road)] = start + households - 1
            rural_start[i], number, no = start, start, ""
            text = f"{place}{road}{start}号"
            names.append(f"{short_name(c_name)}{road}{start}号")
        road_of[i], number_of[i], no_of[i] = road, str(number), no
        prefixes.append(place)
        if urban or not households:
            building_address[i] = len(rows)
            rows.append((key, road, str(number), no, "", "", text, i))
    addresses = pd.DataFrame(
        rows,
        columns=["community_id", "road", "number", "building_no", "unit_no", "room", "text",
                 "building"],
    )  # fmt: skip
    # One address per household.
    size = np.bincount(of, minlength=len(b))
    order = np.argsort(of, kind="stable")
    rank = np.empty(len(of), dtype=np.int64)
    rank[order] = np.arange(len(of)) - np.r_[0, np.cumsum(size)][of[order]]
    urban = b["urban"].to_numpy()[of]
    units = b["units"].to_numpy()[of]
    staircase = rank % units + 1
    floor, flat = (rank // units) // 2 + 1, (rank // units) % 2 + 1
    room = pd.Series(floor.astype(str)) + "-" + pd.Series(flat.astype(str))
    rural_number = pd.Series((rural_start[of] + rank).astype(str))
    building_text = addresses["text"].to_numpy()[np.maximum(building_address[of], 0)]
    prefix = np.array(prefixes, dtype=object)[of]
    text = np.where(
        urban,
        pd.Series(building_text) + pd.Series(staircase.astype(str)) + "单元" + room,
        pd.Series(prefix) + pd.Series(road_of[of]) + rural_number + "号",
    )
    community = b["community_id"].to_numpy()[of]
    households = pd.DataFrame(
        {
            "community_id": np.where(community == community, community, None),
            "road": road_of[of],
            "number": np.where(urban, number_of[of], rural_number),
            "building_no": no_of[of],
            "unit_no": np.where(urban, staircase.astype(str), ""),
            "room": np.where(urban, room, ""),
            "text": text,
            "building": of,
        }
    )
    household_address = len(addresses) + np.arange(len(households))
    # A rural house's own address is its first household's.
    first = np.r_[0, np.cumsum(size)[:-1]]
    house = (building_address < 0) & (size > 0)
    building_address[house] = household_address[order[first[house]]]
    all_addresses = pd.concat([addresses, households], ignore_index=True)
    return all_addresses, household_address, building_address, names
