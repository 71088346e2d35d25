"""A year of incidents and three months of visit tasks for the demo district.

At full scale (1,000,000 households) the district moves 210,000 incidents a year, as the
seeds report for Yongchuan; a smaller demo gets proportionally fewer. Every incident is
reported near a household, keyed to its grid, community, street and district in one
set-based statement (the foundation's keying rule), and carries a timeline that the closed
loop (transitions.RULES) could have written: report, register, escalations, dispatch or
whistle (吹哨), acknowledge, feed back, rework, verify, close, assess, with an `overdue`
event wherever a step ran past its due time. Where the timeline passes `now` the incident
is still open at that step. Rows are written with COPY. The same seed and `now` always give
the same data.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import uuid
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from grids.services import demo as grids_demo
from grids.services.imports import NullProgress, Progress
from incidents import catalogue
from incidents.models import Category, WhistleClass

SEED = 4_2026
PER_MILLION_HOUSEHOLDS = 210_000  # incidents a year (seeds: 事件21万条)
TARGETS_PER_GRID = 20
TASK_MONTHS = 3
TARGET_TAGS = ["key_population", "living_alone"]
DEG_LAT_M = 111_320.0

# Category code -> (weight, demo department code or None). Weights: what grid patrols and
# the hotline report most (piled materials, street vending, refuse, parking, lights).
CATEGORIES = {
    "010101": (2.0, "urban-management"),
    "010102": (2.5, "urban-management"),
    "010201": (5.0, "urban-management"),
    "010301": (1.0, "urban-management"),
    "010401": (1.0, "urban-management"),
    "020101": (4.0, "transport"),
    "020201": (0.8, "public-security"),
    "020301": (6.0, "public-security"),
    "020401": (0.6, "transport"),
    "030101": (9.0, "urban-management"),
    "030201": (9.0, "urban-management"),
    "030301": (8.0, "urban-management"),
    "030401": (3.5, "urban-management"),
    "030501": (3.0, "public-security"),
    "030601": (2.0, "urban-management"),
    "040101": (2.5, "forestry"),
    "040201": (1.2, "forestry"),
    "050101": (5.0, "urban-management"),
    "050201": (1.0, "urban-management"),
    "060101": (3.0, "emergency"),
    "060201": (0.7, "public-security"),
    "060301": (0.8, "emergency"),
    "060401": (0.8, "emergency"),
    "060501": (2.5, "emergency"),
    "070101": (4.0, "civil-affairs"),
    "070201": (1.0, "civil-affairs"),
    "070301": (2.0, "civil-affairs"),
    "070401": (3.0, "civil-affairs"),
    "080101": (6.0, None),
    "080201": (2.0, "civil-affairs"),
}
HOTLINE_DEPARTMENTS = ["urban-management", "transport", "civil-affairs", "health"]
SOURCES = ["patrol", "hotline", "resident", "sensor", "inspection"]
SOURCE_P = [0.58, 0.18, 0.12, 0.07, 0.05]
PRIORITIES = ["normal", "urgent", "critical"]
PRIORITY_P = [0.86, 0.11, 0.03]
# The level an incident ends up being dispatched from: most are handled in the grid.
LEVELS = ["grid", "community", "street", "district"]
LEVEL_P = [0.55, 0.25, 0.16, 0.04]
WHISTLE_P = {"street": 0.2, "district": 0.25}  # of the incidents reaching that level: ~4 %
DISMISS_P = 0.02
REWORK_P = 0.05
OVERDUE_P = 0.025  # per step
# Some handling stalls (a dispute that drags on, a repair waiting for parts): reported
# back late, up to this many times the step's hours past its due time.
STALL_P = 0.08
STALL_SPAN = 15
DEPT_SCORE_P = 0.8
SATISFACTION_P = 0.6
WHISTLE_CLASS_P = {"emergency": 0.15, "important": 0.5, "general": 0.35}
PLACES = ["小区门口", "路口", "人行道", "菜市场旁", "学校附近", "公园", "楼栋下", "背街小巷"]
DESCRIPTIONS = {
    "01": "设施损坏,影响居民正常使用,请尽快维修。",
    "02": "影响车辆和行人通行,存在安全隐患。",
    "03": "影响市容环境,周边居民多次反映。",
    "04": "绿化受损,需园林部门处理。",
    "05": "影响市容,需清理或加固。",
    "06": "存在安全隐患,需立即排查处置。",
    "07": "当事人情绪激动,需及时调处化解。",
    "08": "12345热线转来,请核实办理并回复市民。",
}


@dataclass
class IncidentDemoResult:
    incidents: int
    events: int
    open: int
    overdue: int
    whistled: int
    tasks: int
    targets: int
    visits: int
    flagged_visits: int


def incident_count(scale) -> int:
    households = grids_demo.SCALES[scale] if isinstance(scale, str) else int(scale)
    return max(round(PER_MILLION_HOUSEHOLDS * households / 1_000_000), 1)


# ---------------------------------------------------------------------------------- SQL

POINT_TABLE = """
CREATE TEMP TABLE incident_point ON COMMIT DROP AS
SELECT row, household_id, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom
FROM incident_staging_point ORDER BY 3
"""
# The grid holding each point by the foundation's rule (the current governance grid whose
# boundary intersects it, smallest code first), as one join from the boundaries to the
# indexed points; a point the jitter moved out of every grid is put back on its household.
KEYED_TABLE = """
CREATE TEMP TABLE incident_keyed ON COMMIT DROP AS
SELECT p.row,
       COALESCE(k.grid_id, h.grid_id) AS grid_id,
       CASE WHEN k.grid_id IS NULL THEN h.location ELSE p.geom END AS location
FROM incident_point p
JOIN grids_household h ON h.id = p.household_id
LEFT JOIN (
    SELECT DISTINCT ON (q.row) q.row, g.id AS grid_id
    FROM grids_gridboundary b
    JOIN grids_grid g ON g.id = b.grid_id
    JOIN incident_point q ON ST_Intersects(b.geom, q.geom)
    WHERE b.valid_to IS NULL AND g.valid_to IS NULL AND g.theme = 'governance'
    ORDER BY q.row, g.code
) k ON k.row = p.row
"""
KEYS = """
SELECT k.row, k.grid_id, g.community_id, c.parent_id, s.parent_id
FROM incident_keyed k
JOIN grids_grid g ON g.id = k.grid_id
JOIN grids_region c ON c.id = g.community_id
LEFT JOIN grids_region s ON s.id = c.parent_id
ORDER BY k.row
"""
INCIDENT_COLUMNS = (
    "id",
    "row",
    "client_key",
    "title",
    "description",
    "category_id",
    "priority",
    "source",
    "status",
    "level",
    "department_id",
    "dispatcher_level",
    "handler_level",
    "whistle_class_id",
    "reporter_id",
    "version",
    "rework_count",
    "due_at",
    "step_overdue",
    "overdue_count",
    "department_score",
    "satisfaction",
    "reported_at",
    "closed_at",
)
INCIDENT_STAGING = """
CREATE TEMP TABLE incident_staging (
    id bigint, row integer, client_key uuid, title text, description text,
    category_id bigint, priority text, source text, status text, level text,
    department_id bigint, dispatcher_level text, handler_level text, whistle_class_id bigint,
    reporter_id bigint, version integer, rework_count integer, due_at timestamptz,
    step_overdue boolean, overdue_count integer, department_score smallint,
    satisfaction smallint, reported_at timestamptz, closed_at timestamptz
) ON COMMIT DROP
"""
_KEYED_COLUMNS = [c for c in INCIDENT_COLUMNS if c != "row"]
INCIDENT_INSERT = f"""
INSERT INTO incidents_incident ({", ".join(_KEYED_COLUMNS)},
    location, grid_id, community_id, street_id, district_id)
SELECT {", ".join("s." + c for c in _KEYED_COLUMNS)},
       k.location, k.grid_id, g.community_id, c.parent_id, st.parent_id
FROM incident_staging s
JOIN incident_keyed k ON k.row = s.row
JOIN grids_grid g ON g.id = k.grid_id
JOIN grids_region c ON c.id = g.community_id
LEFT JOIN grids_region st ON st.id = c.parent_id
ORDER BY s.id
"""
EVENT_COLUMNS = (
    "incident_id",
    "action",
    "from_status",
    "to_status",
    "level",
    "department_id",
    "actor_id",
    "at",
    "comment",
    "data",
)
TARGETS = """
WITH tagged AS (
    SELECT h.id, h.grid_id, ST_X(h.location) AS lon, ST_Y(h.location) AS lat,
           row_number() OVER (PARTITION BY h.grid_id ORDER BY h.id) AS n
    FROM grids_household h
    WHERE h.grid_id IS NOT NULL AND h.removed_on IS NULL
      AND EXISTS (SELECT 1 FROM grids_resident r
                  WHERE r.household_id = h.id AND r.tags && %s::varchar[])
)
SELECT id, grid_id, lon, lat FROM tagged WHERE n <= %s ORDER BY grid_id, id
"""
VISIT_STAGING = """
CREATE TEMP TABLE visit_staging (
    client_key uuid, household_id bigint, worker_id bigint, lon float8, lat float8,
    visited_at timestamptz, note text
) ON COMMIT DROP
"""
VISIT_INSERT = """
INSERT INTO incidents_visit
    (client_key, household_id, worker_id, location, distance_m, flagged, visited_at, note)
SELECT v.client_key, v.household_id, v.worker_id, p.geom,
       round(d.m::numeric, 1), d.m > %s, v.visited_at, v.note
FROM visit_staging v
JOIN grids_household h ON h.id = v.household_id
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326) AS geom) p
CROSS JOIN LATERAL (SELECT ST_Distance(h.location::geography, p.geom::geography) AS m) d
"""
TARGET_STAGING = """
CREATE TEMP TABLE target_staging (task_id bigint, household_id bigint, visit_key uuid)
ON COMMIT DROP
"""
TARGET_INSERT = """
INSERT INTO incidents_tasktarget (task_id, household_id, visit_id)
SELECT t.task_id, t.household_id, v.id
FROM target_staging t LEFT JOIN incidents_visit v ON v.client_key = t.visit_key
"""
TASKS_DONE = """
UPDATE incidents_task t SET done_at = d.last
FROM (
    SELECT tt.task_id, max(v.visited_at) AS last, bool_and(tt.visit_id IS NOT NULL) AS all_done
    FROM incidents_tasktarget tt LEFT JOIN incidents_visit v ON v.id = tt.visit_id
    WHERE tt.task_id = ANY(%s)
    GROUP BY tt.task_id
) d
WHERE d.task_id = t.id AND d.all_done
"""


def _reserve_ids(cursor, table: str, n: int) -> int:
    """The first of n consecutive ids taken from the table's sequence."""
    cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
        "GREATEST((SELECT last_value FROM pg_sequences WHERE schemaname = current_schema() "
        "AND sequencename = split_part(pg_get_serial_sequence(%s, 'id'), '.', 2)), "
        f"(SELECT COALESCE(max(id), 0) FROM {table}), 0) + %s)",
        [table, table, n],
    )
    (last,) = cursor.fetchone()
    return last - n + 1


# ------------------------------------------------------------------------------ people


@dataclass
class People:
    grid_worker: dict[int, int]
    community_staff: dict[int, int]
    street: tuple[int | None, int | None]  # (street region id, user id)
    district: int | None
    department: tuple[int | None, int | None]  # (department id, user id)
    departments: dict[str, int]


def _people(cursor) -> People:
    cursor.execute(
        "SELECT g.id, u.id FROM grids_grid g JOIN grids_user u ON u.username = 'g' || g.code"
    )
    grid_worker = dict(cursor.fetchall())
    cursor.execute(
        "SELECT r.id, u.id FROM grids_region r JOIN grids_user u ON u.username = 'c' || r.code"
    )
    community_staff = dict(cursor.fetchall())
    named = {}
    cursor.execute(
        "SELECT username, id, region_id, department_id FROM grids_user WHERE username = ANY(%s)",
        [["street", "district", "department"]],
    )
    for username, pk, region, department in cursor.fetchall():
        named[username] = (pk, region, department)
    cursor.execute(
        "SELECT d.code, d.id FROM grids_department d JOIN grids_region r ON r.id = d.district_id "
        "WHERE r.code = %s",
        [grids_demo.DISTRICT_CODE],
    )
    departments = dict(cursor.fetchall())
    street = named.get("street", (None, None, None))
    department = named.get("department", (None, None, None))
    return People(
        grid_worker=grid_worker,
        community_staff=community_staff,
        street=(street[1], street[0]),
        district=named.get("district", (None,))[0],
        department=(department[2], department[0]),
        departments=departments,
    )


# ---------------------------------------------------------------------------- timelines


class Timeline:
    """Plays one incident through the loop the way transitions._apply would, recording each
    event with the incident's state after it; `cut(now)` keeps what happened by then."""

    def __init__(self, incident: dict, category, whistle_hours, actors, draws, now_ts):
        self.i = incident
        self.category = category
        self.whistle_hours = whistle_hours
        self.actors = actors  # level -> user id or None
        self.draws = draws
        self.d = 0
        self.now = now_ts
        self.events: list[tuple] = []
        self.state = {
            "status": "reported",
            "level": "grid",
            "department_id": None,
            "dispatcher_level": "",
            "handler_level": "",
            "whistle_class_id": None,
            "version": 1,
            "rework_count": 0,
            "due_at": None,
            "step_overdue": False,
            "overdue_count": 0,
            "department_score": None,
            "satisfaction": None,
            "closed_at": None,
        }
        self.t = incident["reported_at"]

    def u(self) -> float:
        value = self.draws[self.d % len(self.draws)]
        self.d += 1
        return value

    def hours(self, step: str) -> float:
        whistle = self.state["whistle_class_id"]
        if whistle is not None and step in ("acknowledge", "feed_back"):
            return self.whistle_hours[whistle][0 if step == "acknowledge" else 1]
        return self.category.hours_for(step, self.i["priority"])

    def emit(self, action, to_status, actor, *, data=None, comment="", bump=True):
        s = self.state
        from_status = "" if action == "report" else s["status"]
        s["status"] = to_status
        if bump and action != "report":
            s["version"] += 1
            s["step_overdue"] = False
        self.events.append(
            (
                (action, from_status, to_status, s["level"], s["department_id"], actor, self.t),
                comment,
                data or {},
                dict(s),
            )
        )

    def set_due(self, step: str | None) -> None:
        self.state["due_at"] = None if step is None else self.t + self.hours(step) * 3600

    def wait(self, *, may_be_late: bool = True, share=(0.05, 0.85), stall: float = 0) -> None:
        """Time passes until the next step: mostly within the due time; sometimes late,
        and then the clock writes an `overdue` event at the due time."""
        due = self.state["due_at"]
        span = (due - self.t) if due is not None else 3600.0
        late = may_be_late and due is not None and (stall > 0 or self.u() < OVERDUE_P)
        if late:
            self.t = due
            self.state["step_overdue"] = True
            self.state["overdue_count"] += 1
            self.emit(
                "overdue",
                self.state["status"],
                None,
                data={"due_at": _iso(due), "status": self.state["status"]},
                bump=False,
            )
            self.t = due + span * (0.1 + self.u() * max(stall, 1))
        else:
            low, high = share
            self.t += span * (low + (high - low) * self.u())

    def actor(self, level: str):
        return self.actors.get(level)

    def play(self, route: dict) -> None:
        s, i = self.state, self.i
        escalates = self.category.escalate_when_overdue
        self.set_due("register")
        self.emit("report", "reported", i["reporter_id"], comment=i["description"])
        self.wait(may_be_late=not escalates)
        if route["dismiss"]:
            s["closed_at"], s["due_at"] = self.t, None
            self.emit("dismiss", "closed", self.actor("grid"), comment="不属于受理范围,不予立案")
            return
        self.set_due("dispatch")
        self.emit("register", "registered", self.actor("grid"))
        for up in LEVELS[1 : LEVELS.index(route["level"]) + 1]:
            self.wait(may_be_late=not escalates)
            from_level = s["level"]
            actor = self.actor(from_level)
            s["level"] = up
            self.set_due("dispatch")
            self.emit(
                "escalate",
                "registered",
                actor,
                data={"from_level": from_level, "to_level": up},
                comment="本级无法解决,上报上级",
            )
        self.wait(may_be_late=not escalates)
        level = s["level"]
        s["dispatcher_level"] = level
        if route["whistle"] is not None:
            s["level"] = s["handler_level"] = "department"
            s["department_id"], s["whistle_class_id"] = route["department_id"], route["whistle"]
            self.set_due("acknowledge")
            self.emit(
                "whistle",
                "dispatched",
                self.actor(level),
                data={"department": route["department_code"], "whistle_class": route["wcode"]},
            )
        elif route["department_id"] is not None:
            s["level"] = s["handler_level"] = "department"
            s["department_id"] = route["department_id"]
            self.set_due("acknowledge")
            self.emit(
                "dispatch",
                "dispatched",
                self.actor(level),
                data={"department": route["department_code"]},
            )
        else:
            s["handler_level"] = level
            self.set_due("acknowledge")
            self.emit("dispatch", "dispatched", self.actor(level))
        self.wait()
        self.set_due("feed_back")
        self.emit("acknowledge", "handling", self.actor(s["handler_level"]))
        reworks = 1 if route["rework"] else 0
        stall = STALL_SPAN if route["stall"] else 0
        while True:
            self.wait(share=(0.1, 0.8), stall=stall)
            stall = 0
            handler = self.actor(s["handler_level"])
            s["level"] = s["dispatcher_level"]
            self.set_due("verify")
            self.emit("feed_back", "fed_back", handler, comment="已处置完毕,现场已恢复")
            self.wait()
            if reworks:
                reworks -= 1
                s["level"] = s["handler_level"]
                s["rework_count"] += 1
                self.set_due("feed_back")
                self.emit(
                    "rework",
                    "handling",
                    self.actor(s["dispatcher_level"]),
                    comment="现场核查未达标,请返工",
                )
                continue
            break
        self.set_due("close")
        self.emit("verify", "verified", self.actor(s["dispatcher_level"]))
        self.wait()
        s["closed_at"], s["due_at"] = self.t, None
        self.emit("close", "closed", self.actor(s["dispatcher_level"]))
        dispatcher = self.actor(s["dispatcher_level"])
        if s["handler_level"] == "department" and dispatcher and route["dept_score"]:
            self.t += 3600 * (1 + 47 * self.u())
            s["department_score"] = route["dept_score"]
            self.emit(
                "assess", "assessed", dispatcher, data={"department_score": route["dept_score"]}
            )
        if i["reporter_id"] and route["satisfaction"]:
            self.t += 3600 * (1 + 71 * self.u())
            s["satisfaction"] = route["satisfaction"]
            self.emit(
                "assess", "assessed", i["reporter_id"], data={"satisfaction": route["satisfaction"]}
            )

    def cut(self) -> tuple[list[tuple], dict]:
        kept = [e for e in self.events if e[0][6] <= self.now]
        return kept, kept[-1][3]


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()


# ------------------------------------------------------------------------------- build


@transaction.atomic
def build(scale="small", progress: Progress | None = None, now: dt.datetime | None = None):
    """Write the demo's incidents with their timelines, and its visit tasks with visits."""
    progress = progress or NullProgress()
    now = (now or timezone.now()).replace(microsecond=0)
    rng = np.random.default_rng(SEED)
    n = incident_count(scale)
    with connection.cursor() as cursor:
        people = _people(cursor)
        _link_departments(people)
        incidents, events, stats = _incidents(cursor, rng, n, people, now, progress)
        tasks, targets, visits, flagged = _tasks(cursor, rng, people, now, progress)
    return IncidentDemoResult(
        incidents=incidents,
        events=events,
        open=stats["open"],
        overdue=stats["overdue"],
        whistled=stats["whistled"],
        tasks=tasks,
        targets=targets,
        visits=visits,
        flagged_visits=flagged,
    )


def _link_departments(people: People) -> None:
    for code, (_, department) in CATEGORIES.items():
        if department and department in people.departments:
            Category.objects.filter(code=code, department__isnull=True).update(
                department_id=people.departments[department]
            )


def _incidents(cursor, rng, n, people: People, now, progress):
    catalogue.seed(Category, WhistleClass)
    categories = {c.code: c for c in Category.objects.filter(code__in=list(CATEGORIES))}
    missing = set(CATEGORIES) - set(categories)
    if missing:
        raise RuntimeError(f"the catalogue has no categories {sorted(missing)}")
    whistles = {w.code: w for w in WhistleClass.objects.filter(code__in=list(WHISTLE_CLASS_P))}
    whistle_hours = {w.pk: (w.acknowledge_hours, w.report_back_hours) for w in whistles.values()}

    progress.stage("incidents: placing", n)
    cursor.execute(
        "SELECT id, ST_X(location), ST_Y(location) FROM grids_household "
        "WHERE grid_id IS NOT NULL AND removed_on IS NULL ORDER BY id"
    )
    households = np.array(cursor.fetchall(), dtype=float)
    if not len(households):
        raise RuntimeError("no households in grids: build the demo district first")
    pick = rng.integers(0, len(households), n)
    jitter = rng.normal(0, 25, (n, 2))  # metres
    lat = households[pick, 2] + jitter[:, 1] / DEG_LAT_M
    lon = households[pick, 1] + jitter[:, 0] / (DEG_LAT_M * np.cos(np.radians(lat)))
    cursor.execute("DROP TABLE IF EXISTS incident_staging_point, incident_point, incident_keyed")
    cursor.execute(
        "CREATE TEMP TABLE incident_staging_point (row integer, household_id bigint, "
        "lon float8, lat float8) ON COMMIT DROP"
    )
    with cursor.copy("COPY incident_staging_point FROM STDIN") as copy:
        for r in range(n):
            copy.write_row((r, int(households[pick[r], 0]), float(lon[r]), float(lat[r])))
    cursor.execute(POINT_TABLE)
    cursor.execute("CREATE INDEX ON incident_point USING gist (geom)")
    cursor.execute("ANALYZE incident_point")
    cursor.execute(KEYED_TABLE)
    cursor.execute(KEYS)
    keys = cursor.fetchall()
    if len(keys) != n:
        raise RuntimeError(f"{n - len(keys)} demo incidents could not be keyed to a grid")
    progress.advance(n)

    # The attributes drawn for every incident at once.
    codes = list(CATEGORIES)
    weights = np.array([CATEGORIES[c][0] for c in codes])
    category_of = rng.choice(len(codes), n, p=weights / weights.sum())
    source_of = rng.choice(len(SOURCES), n, p=SOURCE_P)
    priority_of = rng.choice(len(PRIORITIES), n, p=PRIORITY_P)
    level_of = rng.choice(len(LEVELS), n, p=LEVEL_P)
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0)
    start = (midnight - dt.timedelta(days=365)).timestamp()
    # Reported through the year, more by day (08-20 h local) than by night.
    day = rng.integers(0, 366, n)
    hour = np.where(rng.random(n) < 0.85, rng.uniform(8, 20, n), rng.uniform(0, 24, n))
    reported = start + day * 86400 + hour * 3600
    reported = np.minimum(reported, now.timestamp() - 60)
    order = np.argsort(reported, kind="stable")
    dismiss = rng.random(n) < DISMISS_P
    rework = rng.random(n) < REWORK_P
    stall = rng.random(n) < STALL_P
    whistle_u = rng.random(n)
    dept_u = rng.random(n)
    score = rng.choice([3, 4, 5], n, p=[0.1, 0.35, 0.55])
    score_on = rng.random(n) < DEPT_SCORE_P
    satisfaction = rng.choice([1, 2, 3, 4, 5], n, p=[0.02, 0.03, 0.1, 0.3, 0.55])
    satisfied_on = rng.random(n) < SATISFACTION_P
    wcodes = list(WHISTLE_CLASS_P)
    wclass = rng.choice(len(wcodes), n, p=list(WHISTLE_CLASS_P.values()))
    draws = rng.random((n, 24))
    key_bytes = rng.bytes(16 * n)
    place = rng.choice(PLACES, n)
    road = rng.choice(grids_demo.ROADS, n)
    hotline_dept = rng.choice(HOTLINE_DEPARTMENTS, n)

    first_id = _reserve_ids(cursor, "incidents_incident", n)
    now_ts = now.timestamp()
    incident_rows, event_rows = [], []
    stats = {"open": 0, "overdue": 0, "whistled": 0}
    progress.stage("incidents: timelines", n)
    for k, r in enumerate(order):
        row, grid_id, community_id, street_id, district_id = keys[r]
        code = codes[category_of[r]]
        category = categories[code]
        source = "hotline" if code.startswith("08") else SOURCES[source_of[r]]
        priority = PRIORITIES[priority_of[r]]
        if code.startswith("06") and priority == "normal" and draws[r, 23] < 0.3:
            priority = "urgent"
        actors = {
            "grid": people.grid_worker.get(grid_id),
            "community": people.community_staff.get(community_id),
            "street": people.street[1] if street_id == people.street[0] else None,
            "district": people.district,
        }
        if source in ("patrol", "resident", "inspection"):
            reporter = actors["grid"]
        elif source == "hotline":
            reporter = people.district
        else:
            reporter = None
        level = LEVELS[level_of[r]]
        if priority == "critical" and level == "grid":
            level = "community"
        department_code = CATEGORIES[code][1] or str(hotline_dept[r])
        department_id = people.departments.get(department_code)
        whistle = None
        to_department = False
        if level in WHISTLE_P and whistle_u[r] < WHISTLE_P[level] and department_id:
            wcode = "emergency" if priority == "critical" else wcodes[wclass[r]]
            whistle = whistles[wcode].pk if wcode in whistles else None
        else:
            wcode = None
            to_department = department_id is not None and dept_u[r] < {
                "grid": 0.0,
                "community": 0.3,
                "street": 0.75,
                "district": 0.85,
            }.get(level, 0)
        actors["department"] = (
            people.department[1] if department_id == people.department[0] else None
        )
        title = f"{road[r]}{place[r]}{category.name}"
        incident = {
            "reported_at": float(reported[r]),
            "priority": priority,
            "reporter_id": reporter,
            "description": f"{title}:{DESCRIPTIONS[code[:2]]}",
        }
        timeline = Timeline(incident, category, whistle_hours, actors, draws[r], now_ts)
        timeline.play(
            {
                "dismiss": bool(dismiss[r]),
                "level": level,
                "whistle": whistle,
                "wcode": wcode,
                "department_id": department_id if (whistle or to_department) else None,
                "department_code": department_code,
                "rework": bool(rework[r]),
                "stall": bool(stall[r]),
                "dept_score": int(score[r]) if score_on[r] else None,
                "satisfaction": int(satisfaction[r]) if satisfied_on[r] else None,
            }
        )
        kept, state = timeline.cut()
        pk = first_id + k
        for (action, from_s, to_s, lvl, dept, actor, at), comment, data, _ in kept:
            event_rows.append(
                (
                    pk,
                    action,
                    from_s,
                    to_s,
                    lvl,
                    dept,
                    actor,
                    _ts(at),
                    comment,
                    json.dumps(data, ensure_ascii=False),
                )
            )
        is_open = state["status"] not in ("closed", "assessed")
        stats["open"] += is_open
        stats["overdue"] += is_open and state["step_overdue"]
        stats["whistled"] += state["whistle_class_id"] is not None
        incident_rows.append(
            (
                pk,
                row,
                uuid.UUID(bytes=key_bytes[16 * r : 16 * r + 16], version=4),
                title,
                incident["description"],
                category.pk,
                priority,
                source,
                state["status"],
                state["level"],
                state["department_id"],
                state["dispatcher_level"],
                state["handler_level"],
                state["whistle_class_id"],
                reporter,
                state["version"],
                state["rework_count"],
                _ts(state["due_at"]) if is_open and state["due_at"] else None,
                bool(state["step_overdue"]) and is_open,
                state["overdue_count"],
                state["department_score"],
                state["satisfaction"],
                _ts(incident["reported_at"]),
                _ts(state["closed_at"]) if state["closed_at"] else None,
            )
        )
        if k % 10000 == 0:
            progress.advance(min(10000, n - k))

    progress.stage("incidents: writing", len(incident_rows) + len(event_rows))
    cursor.execute("DROP TABLE IF EXISTS incident_staging")
    cursor.execute(INCIDENT_STAGING)
    with cursor.copy(f"COPY incident_staging ({', '.join(INCIDENT_COLUMNS)}) FROM STDIN") as copy:
        for values in incident_rows:
            copy.write_row(values)
    cursor.execute(INCIDENT_INSERT)
    progress.advance(len(incident_rows))
    with cursor.copy(
        f"COPY incidents_incidentevent ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
    ) as copy:
        for values in event_rows:
            copy.write_row(values)
    progress.advance(len(event_rows))
    cursor.execute("DROP TABLE incident_staging, incident_staging_point, incident_point")
    cursor.execute("DROP TABLE incident_keyed")
    return len(incident_rows), len(event_rows), stats


_UTC = dt.UTC


def _ts(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, _UTC)


def _month_start(day: dt.date, back: int) -> dt.date:
    month = day.month - back
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return dt.date(year, month, 1)


def _tasks(cursor, rng, people: People, now: dt.datetime, progress):
    """Monthly visit tasks per grid for the last months (the current one included): the
    grid's key-population and elderly-living-alone households, visited through the month."""
    from incidents.models import Task, TaskKind

    cursor.execute(TARGETS, [TARGET_TAGS, TARGETS_PER_GRID])
    found = cursor.fetchall()
    by_grid: dict[int, list[tuple]] = {}
    for household, grid, lon, lat in found:
        by_grid.setdefault(grid, []).append((household, lon, lat))
    local_today = timezone.localtime(now).date()
    tz = timezone.get_current_timezone()
    months = [_month_start(local_today, back) for back in range(TASK_MONTHS - 1, -1, -1)]
    progress.stage("tasks and visits", len(months) * len(by_grid))
    tasks = []
    for first in months:
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        created = dt.datetime.combine(first, dt.time(9), tz)
        for grid in sorted(by_grid):
            tasks.append(
                Task(
                    title=f"{first.year}年{first.month}月重点人群走访",
                    kind=TaskKind.VISIT,
                    grid_id=grid,
                    assignee_id=people.grid_worker.get(grid),
                    due_on=last,
                    created_by_id=None,
                    created_at=created,
                )
            )
    Task.objects.bulk_create(tasks, batch_size=2000)
    cursor.execute(VISIT_STAGING)
    cursor.execute(TARGET_STAGING)
    limit = settings.GRIDLINE_VISIT_DISTANCE_M
    visits = 0
    now_ts = now.timestamp()
    target_rows = []
    with cursor.copy("COPY visit_staging FROM STDIN") as vcopy:
        for task in tasks:
            first = task.created_at.timestamp()
            last = dt.datetime.combine(task.due_on, dt.time(18), tz).timestamp()
            current = last > now_ts
            span = (min(last, now_ts) - first) if current else (last - first)
            share = 0.93 if not current else min(0.93, max(span, 0) / (last - first))
            worker = task.assignee_id
            for household, lon, lat in by_grid[task.grid_id]:
                key = None
                if worker and span > 0 and rng.random() < share:
                    key = uuid.UUID(bytes=rng.bytes(16), version=4)
                    if rng.random() < 0.03:  # flagged: recorded far from the household
                        metres = rng.uniform(limit * 1.3, limit * 4)
                    else:
                        metres = abs(rng.normal(0, 15))
                    angle = rng.uniform(0, 2 * np.pi)
                    vlat = lat + metres * np.sin(angle) / DEG_LAT_M
                    vlon = lon + metres * np.cos(angle) / (DEG_LAT_M * np.cos(np.radians(lat)))
                    at = first + span * rng.uniform(0.02, 0.98)
                    vcopy.write_row(
                        (key, household, worker, float(vlon), float(vlat), _ts(at), "已入户走访")
                    )
                    visits += 1
                target_rows.append((task.pk, household, key))
            progress.advance(1)
    with cursor.copy("COPY target_staging FROM STDIN") as tcopy:
        for values in target_rows:
            tcopy.write_row(values)
    cursor.execute(VISIT_INSERT, [limit])
    cursor.execute(TARGET_INSERT)
    targets = cursor.rowcount
    cursor.execute(TASKS_DONE, [[t.pk for t in tasks]])
    cursor.execute("SELECT count(*) FILTER (WHERE flagged) FROM incidents_visit")
    (flagged,) = cursor.fetchone()
    cursor.execute("DROP TABLE visit_staging, target_staging")
    return len(tasks), targets, visits, flagged
