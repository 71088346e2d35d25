"""A realistic, deterministic demo district at the seeds' scale.

Yongchuan (永川区, GB/T 2260 code 500118): 7 streets and 16 towns, 300 communities/villages
and 988 grids that tessellate the district with no gaps or overlaps, households denser in the
urban core, residents with realistic tags, and demo users for every role. The outline is the
published one when the optional `cnmaps` package is installed, else a synthetic outline of the
same size and place. The same seed always gives the same district.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from django.contrib.auth.hashers import make_password
from django.db import transaction
from pyproj import Transformer
from shapely.geometry import MultiPoint, Polygon

from grids.models import Colour, Department, Grid, Household, Level, Region, Role, User
from grids.problems import ProblemsError
from grids.services import crs as crs_service
from grids.services import demo_basedata, demo_residents

# Re-exported: callers and tests use demo.reset(), demo.vacuum_all()...
from grids.services.demo_reset import _other_demo_tables as _other_demo_tables
from grids.services.demo_reset import reset as reset
from grids.services.demo_reset import vacuum as vacuum
from grids.services.demo_reset import vacuum_all as vacuum_all
from grids.services.imports import GRID, NullProgress, Progress, load_boundaries, load_households

log = logging.getLogger(__name__)

DISTRICT_CODE = "500118"
DISTRICT_NAME = "永川区"
CENTRE = (105.927, 29.356)  # the urban core of Yongchuan, lon/lat
AREA_KM2 = 1576
SEED = 2260
VALID_FROM = dt.date(2024, 1, 1)

# Streets first: they take the urban core (numbered from the centre outwards).
STREET_NAMES = [
    "中山路街道",
    "胜利路街道",
    "南大街街道",
    "茶山竹海街道",
    "大安街道",
    "陈食街道",
    "卫星湖街道",
    "青峰镇",
    "金龙镇",
    "临江镇",
    "何埂镇",
    "松溉镇",
    "仙龙镇",
    "吉安镇",
    "五间镇",
    "来苏镇",
    "宝峰镇",
    "双石镇",
    "红炉镇",
    "永荣镇",
    "三教镇",
    "板桥镇",
    "朱沱镇",
]
URBAN_STREETS = 7
SYLLABLES = list(
    "兴龙凤凰双竹桂山萱花玉屏星光文昌渝西红旗光明新华和平朝阳莲花石梯红岩金盆九龙玉泉白鹤"
    "青杠黄桷桃源临江松林柏树茶园麻柳天堂永兴双河高峰五峰铁山凉风长春瓦子板桥盘龙石庙"
)
ROADS = [
    "人民大道",
    "兴龙大道",
    "昌州大道",
    "萱花路",
    "汇龙大道",
    "红河大道",
    "文曲路",
    "渝西大道",
    "星光大道",
    "玉屏路",
    "中山路",
    "胜利路",
    "棠城大道",
    "凤凰湖大道",
]
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈"
)
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌辉成波宇浩鑫")
DEPARTMENTS = [
    ("civil-affairs", "区民政局"),
    ("transport", "区交通局"),
    ("forestry", "区林业局"),
    ("emergency", "区应急管理局"),
    ("urban-management", "区城市管理局"),
    ("health", "区卫生健康委"),
    ("public-security", "区公安分局"),
]
SCALES = {"small": 50_000, "full": 1_000_000}
# The last two are service providers (#20), made by the needs app's demo (a party member and
# a unit's contact); demo_logins lists whichever exist.
DEMO_USERS = [
    "admin",
    "district",
    "street",
    "community",
    "gridworker",
    "gridworker2",
    "department",
    "provider",
    "unitprovider",
]


@dataclass
class DemoResult:
    streets: int
    communities: int
    grids: int
    households: int
    residents: int
    flagged: int
    users: int
    outline: str
    basedata: demo_basedata.BaseData | None = None


def demo_password() -> str:
    return os.environ.get("GRIDLINE_DEMO_PASSWORD", "gridline-demo")


def exists() -> bool:
    return Region.objects.filter(code=DISTRICT_CODE).exists()


def current_scale() -> int:
    """The number of households of the demo that is there, as `build` takes it: an app
    adding its part to an existing demo (`demo --if-empty`) sizes it to match."""
    return Household.objects.count()


def _outline(to_wgs84: Transformer, to_metric: Transformer) -> tuple[Polygon, str]:
    try:
        from cnmaps import get_adm_maps  # optional extra: ~250 MB of published outlines
    except ImportError:
        cnmaps = None
    else:
        cnmaps = get_adm_maps(
            province="重庆市", district="永川区", record="first", only_polygon=True
        )
    if cnmaps is not None:
        outline = shapely.make_valid(shapely.from_wkb(cnmaps.wkb))  # a MapPolygon, not shapely
        outline = shapely.transform(outline, lambda xy: np.column_stack(to_metric.transform(*xy.T)))
        return max(getattr(outline, "geoms", [outline]), key=lambda g: g.area), "cnmaps"
    # A lobed outline of Yongchuan's size around its centre, in metres.
    theta = np.linspace(0, 2 * np.pi, 361)[:-1]
    radius = np.sqrt(AREA_KM2 * 1e6 / np.pi) * (
        1
        + 0.16 * np.sin(3 * theta + 1.1)
        + 0.09 * np.sin(5 * theta + 2.3)
        + 0.04 * np.sin(11 * theta + 0.4)
    )
    ring = np.column_stack([radius * np.cos(theta) * 0.85, radius * np.sin(theta) * 1.15])
    return Polygon(ring).buffer(0), "synthetic"


def _sample_inside(rng, outline: Polygon, n: int, urban_share: float, sigma: float) -> np.ndarray:
    """Points inside the outline, a share of them clustered on the urban core."""
    shapely.prepare(outline)
    minx, miny, maxx, maxy = outline.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        m = (n - len(out)) * 2
        urban = rng.random(m) < urban_share
        pts = np.where(
            urban[:, None],
            rng.normal(0, sigma, (m, 2)),
            np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)]),
        )
        inside = shapely.contains_xy(outline, pts[:, 0], pts[:, 1])
        out = np.vstack([out, pts[inside]])
    return out[:n]


def kmeans(rng, points: np.ndarray, k: int, iterations: int = 30) -> np.ndarray:
    """Lloyd's k-means; returns the cluster of every point (each cluster non-empty)."""
    centres = points[rng.choice(len(points), k, replace=False)]
    for _ in range(iterations):
        d = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
        labels = d.argmin(1)
        for j in range(k):
            members = points[labels == j]
            centres[j] = members.mean(0) if len(members) else points[rng.integers(len(points))]
    d = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    labels = d.argmin(1)
    # An empty cluster takes the point farthest from its own centre.
    for j in range(k):
        if not (labels == j).any():
            far = d[np.arange(len(points)), labels].argmax()
            labels[far] = j
    return labels


def _names(rng, n: int, suffix: str, taken: set[str]) -> list[str]:
    names = []
    while len(names) < n:
        name = "".join(rng.choice(SYLLABLES, 2)) + suffix
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def build_tree(rng, grids: int = 988, communities: int = 300):
    """The tessellation in metres: grid cells, their community and street, and codes."""
    centre_lon, centre_lat = CENTRE
    metric = crs_service.local_metric_crs(centre_lon, centre_lat)
    to_metric = Transformer.from_crs(crs_service.WGS84, metric, always_xy=True)
    to_wgs84 = Transformer.from_crs(metric, crs_service.WGS84, always_xy=True)
    outline, source = _outline(to_wgs84, to_metric)

    seeds = _sample_inside(rng, outline, grids, urban_share=0.55, sigma=3500)
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=outline.buffer(5000))
    cells = np.array(list(cells.geoms), dtype=object)
    # voronoi_polygons does not keep the input order: match each cell to its seed.
    order = shapely.STRtree(cells).query(shapely.points(seeds), predicate="within")
    cell_of_seed = np.empty(grids, dtype=object)
    cell_of_seed[order[0]] = cells[order[1]]
    cells = shapely.intersection(cell_of_seed, outline)

    community_of = kmeans(rng, seeds, communities)
    community_centres = np.array([seeds[community_of == c].mean(0) for c in range(communities)])
    street_of_community = kmeans(rng, community_centres, len(STREET_NAMES))
    # Number streets from the core outwards so that the urban streets (街道) get the centre.
    street_centres = np.array(
        [community_centres[street_of_community == s].mean(0) for s in range(len(STREET_NAMES))]
    )
    street_rank = np.argsort(np.argsort(np.hypot(*street_centres.T)))

    def wgs(geom):
        return shapely.transform(geom, lambda xy: np.column_stack(to_wgs84.transform(*xy.T)))

    district = {"code": DISTRICT_CODE, "name": DISTRICT_NAME, "geom": wgs(outline)}
    streets, comms, grid_rows = [], [], []
    taken: set[str] = set()
    for s in np.argsort(street_rank):
        rank = int(street_rank[s])
        street_code = f"{DISTRICT_CODE}{rank + 1:03d}"
        members = np.flatnonzero(street_of_community == s)
        members = members[np.argsort(np.hypot(*community_centres[members].T))]
        urban = rank < URBAN_STREETS
        street_cells = []
        names = _names(rng, len(members), "社区" if urban else "村", taken)
        for c_number, (c, c_name) in enumerate(zip(members, names, strict=True), 1):
            community_code = f"{street_code}{c_number:03d}"
            grid_idx = np.flatnonzero(community_of == c)
            grid_idx = grid_idx[np.lexsort((seeds[grid_idx, 0], -seeds[grid_idx, 1]))]
            community_geom = shapely.union_all(cells[grid_idx])
            street_cells.append(community_geom)
            comms.append(
                {
                    "code": community_code,
                    "name": c_name,
                    "geom": wgs(community_geom),
                    "urban": urban,
                }
            )
            for g_number, g in enumerate(grid_idx, 1):
                grid_rows.append(
                    {
                        "code": f"{community_code}{g_number:03d}",
                        "name": f"{c_name}第{g_number}网格",
                        "geom": wgs(cells[g]),
                    }
                )
        streets.append(
            {
                "code": street_code,
                "name": STREET_NAMES[rank],
                "geom": wgs(shapely.union_all(street_cells)),
            }
        )
    return district, sorted(streets, key=lambda r: r["code"]), comms, grid_rows, source


def _frame(rows: list[dict]) -> tuple[pd.DataFrame, np.ndarray]:
    table = pd.DataFrame(
        {
            "row": np.arange(1, len(rows) + 1),
            "code": [r["code"] for r in rows],
            "name": [r["name"] for r in rows],
        }
    )
    return table, np.array([r["geom"] for r in rows], dtype=object)


def _load(rows, level, progress, **extra) -> None:
    table, geoms = _frame(rows)
    for key, values in extra.items():
        table[key] = values
    report = load_boundaries(
        table, geoms, level=level, valid_from=VALID_FROM, commit=True, progress=progress
    )
    if report.errors:
        raise ProblemsError(report.errors)


def _household_table(rng, n: int, district_geom, streets_by_code, comms) -> pd.DataFrame:
    centre_lon, centre_lat = CENTRE
    metric = crs_service.local_metric_crs(centre_lon, centre_lat)
    to_metric = Transformer.from_crs(crs_service.WGS84, metric, always_xy=True)
    to_wgs84 = Transformer.from_crs(metric, crs_service.WGS84, always_xy=True)
    outline = shapely.transform(
        district_geom, lambda xy: np.column_stack(to_metric.transform(*xy.T))
    )
    outline = max(getattr(outline, "geoms", [outline]), key=lambda g: g.area)
    xy = _sample_inside(rng, outline, n, urban_share=0.7, sigma=4000)
    # A handful of households just outside the district: kept and flagged, as in real data.
    stray = max(n // 10000, 3)
    edge = np.array(outline.exterior.coords)[rng.choice(len(outline.exterior.coords) - 1, stray)]
    xy[:stray] = edge * (1 + 300 / np.hypot(*edge.T))[:, None]
    lon, lat = to_wgs84.transform(xy[:, 0], xy[:, 1])
    roads = rng.choice(ROADS, n)
    numbers = rng.integers(1, 999, n)
    buildings = rng.integers(1, 40, n)
    units = rng.integers(1, 6, n)
    floors = rng.integers(1, 33, n)
    rooms = rng.integers(1, 6, n)
    address = [
        f"重庆市永川区{roads[i]}{numbers[i]}号{buildings[i]}栋{units[i]}单元{floors[i]}-{rooms[i]}"
        for i in range(n)
    ]
    sizes = rng.choice([1, 2, 3, 4, 5, 6], n, p=[0.18, 0.30, 0.26, 0.15, 0.07, 0.04])
    start = np.datetime64("2019-01-01")
    days = rng.integers(0, (np.datetime64("2025-12-31") - start).astype(int), n)
    registered = (start + days).astype("datetime64[D]").astype(object)
    return pd.DataFrame(
        {
            "row": np.arange(1, n + 1),
            "address": address,
            "lon": lon,
            "lat": lat,
            "client_key": [f"demo-{i}" for i in range(n)],
            "member_count": sizes,
            "registered_on": registered,
        }
    )


ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.array(list("10X98765432"))


def _id_numbers(birth: np.ndarray, sex_male: np.ndarray, rng) -> np.ndarray:
    """18-digit resident ID numbers with a valid GB 11643 check digit."""
    ymd = pd.to_datetime(birth).strftime("%Y%m%d").to_numpy(str)
    seq = rng.integers(0, 500, len(birth)) * 2 + np.where(sex_male, 1, 0)
    body = np.char.add(np.char.add(DISTRICT_CODE, ymd), np.char.zfill(seq.astype(str), 3))
    digits = np.array([list(b) for b in body], dtype=int)
    check = ID_CHECK[(digits * ID_WEIGHTS).sum(1) % 11]
    return np.char.add(body, check)


@transaction.atomic
def build(scale: str = "small", *, progress: Progress | None = None) -> DemoResult:
    """Build the demo district in one transaction."""
    progress = progress or NullProgress()
    rng = np.random.default_rng(SEED)
    progress.stage("tessellating", None)
    district, streets, comms, grids, source = build_tree(rng)
    _load([district], Level.DISTRICT, progress)
    _load(streets, Level.STREET, progress)
    _load(comms, Level.COMMUNITY, progress)
    colours = rng.choice([Colour.BLUE, Colour.YELLOW, Colour.RED], len(grids), p=[0.70, 0.22, 0.08])
    _load(grids, GRID, progress, colour=colours)

    n = SCALES[scale] if isinstance(scale, str) else int(scale)
    table = _household_table(rng, n, district["geom"], streets, comms)
    report = load_households(table, commit=True, progress=progress)
    if report.errors:
        raise ProblemsError(report.errors)
    ids = dict(
        Household.objects.filter(client_key__startswith="demo-").values_list("client_key", "pk")
    )
    household_ids = np.array([ids[k] for k in table["client_key"]])
    urban = set(
        Household.objects.filter(
            client_key__startswith="demo-",
            grid__community__parent__code__lte=f"{DISTRICT_CODE}{URBAN_STREETS:03d}",
        ).values_list("pk", flat=True)
    )
    people = demo_residents.resident_table(
        rng,
        household_ids,
        table["member_count"].to_numpy(),
        np.array([pk in urban for pk in household_ids]),
        _id_numbers,
    )
    residents = demo_residents.copy_residents(people, progress)
    basedata = demo_basedata.write(progress)
    users = _users()
    return DemoResult(
        streets=len(streets),
        communities=len(comms),
        grids=len(grids),
        households=n,
        residents=residents,
        flagged=report.flagged,
        users=users,
        outline=source,
        basedata=basedata,
    )


def _users() -> int:
    password = make_password(demo_password())
    district = Region.objects.get(code=DISTRICT_CODE)
    departments = Department.objects.bulk_create(
        [Department(code=code, name=name, district=district) for code, name in DEPARTMENTS]
    )
    street = Region.objects.get(code=f"{DISTRICT_CODE}002")
    community = street.children.order_by("code").first()
    grid = community.grids.order_by("code").first()
    other_grid = Grid.objects.filter(community__parent__code=f"{DISTRICT_CODE}009").first()
    named = [
        User(
            username="admin",
            role=Role.ADMINISTRATOR,
            is_staff=True,
            is_superuser=True,
            first_name="系统管理员",
        ),
        User(
            username="district",
            role=Role.DISTRICT_CENTRE,
            region=district,
            is_staff=True,
            first_name="区治理中心",
        ),
        User(
            username="street",
            role=Role.STREET_CENTRE,
            region=street,
            is_staff=True,
            first_name=f"{street.name}指挥中心",
        ),
        User(
            username="community",
            role=Role.COMMUNITY_STAFF,
            region=community,
            is_staff=True,
            first_name=f"{community.name}工作人员",
        ),
        User(
            username="gridworker",
            role=Role.GRID_WORKER,
            grid=grid,
            is_staff=True,
            first_name=f"{grid.name}网格员",
        ),
        User(
            username="gridworker2",
            role=Role.GRID_WORKER,
            grid=other_grid,
            is_staff=True,
            first_name=f"{other_grid.name}网格员",
        ),
        User(
            username="department",
            role=Role.DEPARTMENT,
            department=departments[0],
            is_staff=True,
            first_name=departments[0].name,
        ),
    ]
    # One grid worker for every grid, and a community secretary who leads its grids.
    staff = []
    communities = list(Region.objects.filter(level=Level.COMMUNITY).order_by("code"))
    for c in communities:
        staff.append(
            User(
                username=f"c{c.code}",
                role=Role.COMMUNITY_STAFF,
                region=c,
                first_name=f"{c.name}书记",
            )
        )
    grids = list(Grid.objects.order_by("code"))
    for g in grids:
        staff.append(
            User(username=f"g{g.code}", role=Role.GRID_WORKER, grid=g, first_name=f"{g.name}网格员")
        )
    for user in (*named, *staff):
        user.password = password
    users = User.objects.bulk_create([*named, *staff])
    leaders = {u.region_id: u for u in users if u.role == Role.COMMUNITY_STAFF and u.region_id}
    workers = {u.grid_id: u for u in staff if u.role == Role.GRID_WORKER}
    for g in grids:
        g.leader = leaders.get(g.community_id)
    Grid.objects.bulk_update(grids, ["leader"], batch_size=1000)
    Grid.workers.through.objects.bulk_create(
        [Grid.workers.through(grid_id=g.pk, user_id=workers[g.pk].pk) for g in grids]
    )
    return len(users)
