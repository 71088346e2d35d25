"""The demo's residents (实有人口): who they are, and their 一标三实 attributes in the
proportions a real district has — registration (户籍 / 流动 / 境外) with since when and from
where, relation to the household head, and care and key-population tags from the catalogue
with levels where the catalogue has them.

The attributes are computed from what a household already is (its members' ages and sexes,
urban or rural), with a generator of their own: the same residents get the same attributes
whether the demo is built with them (the residents' COPY) or they are added to a demo built
before (demo_basedata.add_to_existing), which updates the residents in place.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from django.db import connection

from grids import sql
from grids.services.imports import Progress

# The demo's "today" for ages (the residents' birth dates are drawn against it).
REFERENCE_DAY = np.datetime64("2026-01-01")
ATTRIBUTE_SEED = 17_2260

# Where the floating population comes from: Yongchuan draws mostly on the rest of Chongqing
# and Sichuan, then the neighbouring provinces.
ORIGINS = {
    "重庆市荣昌区": 9,
    "重庆市江津区": 9,
    "重庆市大足区": 8,
    "重庆市合川区": 6,
    "重庆市璧山区": 5,
    "重庆市万州区": 4,
    "重庆市开州区": 4,
    "重庆市云阳县": 4,
    "四川省泸州市": 8,
    "四川省内江市": 7,
    "四川省达州市": 6,
    "四川省宜宾市": 5,
    "四川省自贡市": 4,
    "四川省南充市": 4,
    "贵州省遵义市": 5,
    "贵州省毕节市": 3,
    "云南省昭通市": 3,
    "湖北省恩施州": 2,
    "湖南省怀化市": 2,
    "广东省广州市": 1,
}
OVERSEAS_ORIGINS = {"越南": 4, "缅甸": 3, "老挝": 2, "韩国": 2, "日本": 1, "美国": 1, "德国": 1}

# Shares of the people in each level of a tag that has levels, most severe first (残疾等级:
# 一级 and 二级 are the severe grades, about a third of registered disabled people).
LEVEL_WEIGHTS = [0.12, 0.22, 0.28, 0.38]


def _first_in_group(mask: np.ndarray, group_start: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Of the rows where `mask` holds, the first of each group (rows sorted by group)."""
    running = np.cumsum(mask)
    before = np.concatenate([[0], running])[group_start][group]
    return mask & (running - before == 1)


def _relations(household: np.ndarray, age: np.ndarray, rng) -> np.ndarray:
    """户主 the oldest member of working age (else the oldest), 配偶 one adult of about the
    head's age, 子女 / 孙辈 a generation / two below, 父母 a generation above, siblings about
    the same age, and a few others (relatives, lodgers)."""
    n = len(age)
    # Working-age adults first, then the old, children last; the oldest of the best group.
    score = np.where((age >= 18) & (age < 70), age, np.where(age >= 70, age - 200, age - 400))
    order = np.lexsort((-score, household))
    h_sorted = household[order]
    start = np.flatnonzero(np.r_[True, h_sorted[1:] != h_sorted[:-1]])
    group = np.cumsum(np.r_[True, h_sorted[1:] != h_sorted[:-1]]) - 1
    rank = np.arange(n) - start[group]
    a = age[order]
    head_age = a[start][group]
    diff = head_age - a  # positive: younger than the head
    head = rank == 0
    spouse_like = ~head & (a >= 18) & (np.abs(diff) <= 12)
    spouse = _first_in_group(spouse_like, start, group)
    relation = np.full(n, "other", dtype=object)
    relation[head] = "head"
    relation[spouse] = "spouse"
    rest = ~head & ~spouse
    relation[rest & (diff >= 15) & (diff < 45)] = "child"
    relation[rest & (diff >= 45)] = "grandchild"
    relation[rest & (diff <= -15)] = "parent"
    relation[rest & (np.abs(diff) < 15)] = "sibling"
    # A few members are other relatives or lodgers whatever their age.
    relation[rest & (rng.random(n) < 0.03)] = "other"
    out = np.empty(n, dtype=object)
    out[order] = relation
    return out


def _dates(rng, n: int, first: str, last: str) -> np.ndarray:
    start = np.datetime64(first)
    span = (np.datetime64(last) - start).astype(int)
    return (start + rng.integers(0, span, n)).astype("datetime64[D]")


def _levels_of(rng, n: int, levels: list[str]) -> np.ndarray:
    """An index into `levels` for each of n people, the milder levels more common."""
    if len(levels) == len(LEVEL_WEIGHTS):
        weights = np.array(LEVEL_WEIGHTS)
    else:
        weights = np.linspace(1.0, 2.0, len(levels))
    return rng.choice(min(len(levels), 15), n, p=weights[:15] / weights[:15].sum())


def tag_flags(rng, household, sizes_of_person, age, male, urban_person) -> dict[str, np.ndarray]:
    """Each tag code → who has it, at rates a real district has."""
    n = len(age)
    households = household.max() + 1 if n else 0
    adult = age >= 18
    working = adult & (age < 60)
    elderly = age >= 60
    alone = sizes_of_person == 1

    def per_household(p_urban: float, p_rural: float) -> np.ndarray:
        """Chosen households (all their members share it): about p of the people."""
        draw = rng.random(households)[household]
        return draw < np.where(urban_person, p_urban, p_rural)

    # Who lives with a working-age adult: children without one are left behind (留守).
    has_working = np.bincount(household, weights=working, minlength=households)[household] > 0
    all_elderly = np.bincount(household, weights=~elderly, minlength=households)[household] == 0
    disabled = rng.random(n) < np.where(elderly, 0.115, np.where(adult, 0.045, 0.012))
    low_income = per_household(0.018, 0.036)
    key = {
        "community_correction": adult & (rng.random(n) < 0.0003),
        "released": adult & (rng.random(n) < 0.0004),
        "drug_user": adult & (age < 60) & (rng.random(n) < 0.0005),
        "mental_disorder": adult & (rng.random(n) < 0.0045),
    }
    flags = {
        "elderly": elderly,
        "child": age < 14,
        "disabled": disabled,
        "low_income": low_income,
        # 特困: the old or disabled without family to support them, never also 低保.
        "extreme_poverty": ~low_income
        & alone
        & (elderly | disabled)
        & (rng.random(n) < np.where(urban_person, 0.12, 0.25)),
        "living_alone": alone & elderly,
        "empty_nest": all_elderly & elderly,
        "left_behind_child": ~urban_person & (age < 16) & (~has_working | (rng.random(n) < 0.05)),
        "orphan": (age < 18) & (rng.random(n) < 0.0004),
        "veteran": (age >= 30) & (rng.random(n) < np.where(male, 0.028, 0.003)),
        "military_family": per_household(0.004, 0.005),
        "party_member": adult
        & (rng.random(n) < np.where(elderly, 0.10, 0.065) * np.where(male, 1.3, 0.7)),
        "pregnant": ~male & (age >= 20) & (age < 40) & (rng.random(n) < 0.05),
        "unemployed": working & (rng.random(n) < 0.025),
        **key,
        "key_population": np.logical_or.reduce(list(key.values())),
    }
    return flags


def attributes(
    household: np.ndarray,
    age: np.ndarray,
    male: np.ndarray,
    urban: np.ndarray,
    catalogue: dict[str, list[str]],
) -> pd.DataFrame:
    """The 一标三实 attributes of residents: `household` is each person's household as an
    index 0..H-1, `urban` each household's (by index). `catalogue` maps the tag codes in
    force to their levels; a code the catalogue lacks is not given. Returns one row per
    person: registration, residence_since, origin, relation, tags and tag_levels (as the
    text COPY reads: an array literal and a JSON object)."""
    rng = np.random.default_rng(ATTRIBUTE_SEED)
    n = len(age)
    households = int(household.max()) + 1 if n else 0
    sizes = np.bincount(household, minlength=households)
    urban_person = urban[household]

    # Floating population comes as households (renting, working in the district).
    floating = (rng.random(households) < np.where(urban, 0.20, 0.08))[household]
    overseas = rng.random(n) < 0.001
    registration = np.where(overseas, "overseas", np.where(floating, "floating", "registered"))
    since_household = _dates(rng, households, "2008-01-01", "2025-12-01")[household]
    since_person = _dates(rng, n, "2015-01-01", "2025-12-01")
    residence_since = np.where(overseas, since_person, since_household).astype(object)
    residence_since[registration == "registered"] = None
    names, weights = zip(*ORIGINS.items(), strict=True)
    origin_household = np.array(names)[
        rng.choice(len(names), households, p=np.array(weights) / sum(weights))
    ][household]
    names, weights = zip(*OVERSEAS_ORIGINS.items(), strict=True)
    origin_overseas = np.array(names)[rng.choice(len(names), n, p=np.array(weights) / sum(weights))]
    origin = np.where(overseas, origin_overseas, np.where(floating, origin_household, "")).astype(
        object
    )

    flags = tag_flags(rng, household, sizes[household], age, male, urban_person)
    codes = [code for code in flags if code in catalogue]
    # Tag sets as bit masks: the text of each distinct set is made once (a few hundred sets
    # for millions of people).
    bits = np.zeros(n, dtype=np.int64)
    for i, code in enumerate(codes):
        bits |= flags[code].astype(np.int64) << i
    # Levels: one per levelled tag a person has, folded into the key of the distinct sets.
    levelled = [code for code in codes if catalogue[code]]
    key = bits.copy()
    shift = len(codes)
    for code in levelled:
        level = _levels_of(rng, n, catalogue[code])
        key |= np.where(flags[code], level, 0).astype(np.int64) << shift
        shift += 4
    distinct, inverse = np.unique(key, return_inverse=True)
    tag_text, level_text = [], []
    for k in distinct:
        mine = [code for i, code in enumerate(codes) if k >> i & 1]
        tag_text.append("{" + ",".join(mine) + "}")
        chosen, at = {}, len(codes)
        for code in levelled:
            if code in mine:
                chosen[code] = catalogue[code][(k >> at) & 15]
            at += 4
        level_text.append(json.dumps(chosen, ensure_ascii=False))
    return pd.DataFrame(
        {
            "registration": registration,
            "residence_since": residence_since,
            "origin": origin,
            "relation": _relations(household, age, rng),
            "tags": np.array(tag_text, dtype=object)[inverse],
            "tag_levels": np.array(level_text, dtype=object)[inverse],
        }
    )


def catalogue() -> dict[str, list[str]]:
    """The active tag codes and their levels."""
    from grids.models import ResidentTagKind

    return dict(ResidentTagKind.objects.filter(active=True).values_list("code", "levels"))


def ages(birth: np.ndarray) -> np.ndarray:
    """Age in years at the demo's reference day."""
    days = (REFERENCE_DAY - birth.astype("datetime64[D]")).astype(int)
    return days / 365.25


def resident_table(
    rng, household_ids: np.ndarray, sizes: np.ndarray, urban: np.ndarray, id_numbers
) -> pd.DataFrame:
    """Every resident of the demo's households (`sizes` members each, `urban` per
    household), with names, ID numbers, phones, birth dates, sexes and the attributes."""
    from grids.services.demo import GIVEN, SURNAMES

    owner = np.repeat(np.arange(len(household_ids)), sizes)
    n = len(owner)
    # Ages: about 20 % 60 and over, about 15 % under 14 (一老一小).
    age = np.concatenate([rng.uniform(0, 14, n), rng.uniform(14, 60, n), rng.uniform(60, 95, n)])
    pick = rng.choice(3, n, p=[0.15, 0.65, 0.20])
    age = age[pick * n + np.arange(n)]
    birth = (REFERENCE_DAY - (age * 365.25).astype("timedelta64[D]")).astype("datetime64[D]")
    male = rng.random(n) < 0.5
    names = np.char.add(
        np.char.add(rng.choice(SURNAMES, n), rng.choice(GIVEN, n)),
        np.where(rng.random(n) < 0.6, rng.choice(GIVEN, n), ""),
    )
    ids = id_numbers(birth, male, rng)
    phones = np.char.add(
        rng.choice(["138", "139", "151", "177", "186", "199"], n),
        np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8),
    )
    table = pd.DataFrame(
        {
            "household_id": household_ids[owner],
            "name": names,
            "id_number": ids,
            "phone": phones,
            "birth_date": birth.astype(object),
            "sex": np.where(male, "M", "F"),
        }
    )
    extra = attributes(owner, ages(birth), male, urban, catalogue())
    return pd.concat([table, extra], axis=1)


RESIDENT_COLUMNS = (
    "household_id",
    "name",
    "id_number",
    "phone",
    "birth_date",
    "sex",
    "tags",
    "registration",
    "residence_since",
    "origin",
    "relation",
    "tag_levels",
)


def copy_residents(table: pd.DataFrame, progress: Progress) -> int:
    """COPY the residents in (statement triggers off: the caller's figures are recounted)."""
    progress.stage("residents", len(table))
    with connection.cursor() as cursor, sql.bulk_write(cursor):
        sql.copy_frame(cursor, "grids_resident", table, RESIDENT_COLUMNS, progress=progress.advance)
        sql.mark_all_figures_stale(cursor)
    return len(table)
