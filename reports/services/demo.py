"""The demo district's 一表通: the catalogue (reports.catalogue) as indicators, rules and
department templates, and a year of ledger values for every grid and community.

Values are plausible for each unit: stocks drift slowly from month to month, flows follow
the unit's size and the season (森林防火 in winter and spring, sowing in spring), and every
collected value checked by an error rule against a derived figure stays under that figure
as it was at the start of the year (households only grow in the demo, so it holds for every
later period). About 92 % of grids submit each month, most before the due date, some late;
the last month is still being chased. Entries, their first revisions and submissions are
written with COPY. The same seed and `now` always give the same data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from grids.models import Department, Region
from grids.problems import Problem, ProblemsError
from grids.services import demo as grids_demo
from grids.services.imports import NullProgress, Progress
from grids.services.stats import grid_figures
from reports import catalogue
from reports.models import (
    Indicator,
    IndicatorGroup,
    LedgerEntry,
    ReportTemplate,
    Source,
    TemplateColumn,
    ValidationRule,
)
from reports.periods import MONTHS, Period
from reports.services import ledger
from reports.services.indicators import ensure_groups, sync_defined, sync_derived
from reports.services.values import tree_under

SEED = 5_2026
MONTHS_BACK = 12
SUBMIT_P = 0.92  # of the units, each closed period
LAST_SUBMIT_P = 0.72  # the month just ended: reminders are still going out
LATE_P = 0.12  # of the submissions
STARTED_P = 0.5  # a value a unit that has not submitted has entered all the same
CURRENT_P = 0.85  # a value of the running quarter or year already entered
MU_PER_KM2 = 1500  # 亩

LEVEL_NAMES = {"grid": "网格名称", "community": "社区（村）", "street": "街道（镇）"}
PARENT_NAMES = {"grid": "所属社区（村）", "community": "所属街道（镇）"}
FOOTER = ["填报单位：{unit}", "负责人：", "填报人：", "联系电话：", "填报日期：{date}"]


@dataclass
class ReportDemoResult:
    collected_indicators: int
    rules: int
    templates: int
    departments: int
    ledger_entries: int
    submissions: int
    late_submissions: int


# ---------------------------------------------------------------------------- catalogue


def install_catalogue(district: Region) -> tuple[dict[str, Indicator], list[ReportTemplate]]:
    """The catalogue's groups, indicators, rules, departments and templates (templates
    replaced, indicators and rules updated in place)."""
    ensure_groups()
    for code, name, order in catalogue.EXTRA_GROUPS:
        IndicatorGroup.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    sync_derived()
    # The catalogue's templates ask for items defined as data (流动人口, 企业数…).
    sync_defined()
    groups = {g.code: g for g in IndicatorGroup.objects.all()}
    indicators = {i.code: i for i in Indicator.objects.all()}
    for spec in catalogue.INDICATORS:
        existing = indicators.get(spec.code)
        if existing is not None and existing.source == Source.DERIVED:
            # Defined as data since (issue #17: floating population, left-behind children,
            # clinics…): the platform computes it, so nobody types it any more.
            continue
        indicator, _ = Indicator.objects.update_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "unit": spec.unit,
                "aliases": list(spec.aliases),
                "group": groups[spec.group],
                "value_type": spec.value_type,
                "min_value": spec.min_value,
                "max_value": spec.max_value,
                "aggregation": spec.aggregation,
                "weight": indicators[spec.weight] if spec.weight else None,
                "time_aggregation": spec.time_aggregation,
                "level": spec.level,
                "period_type": spec.period_type,
                "source": Source.COLLECTED,
                "derivation": "",
                "description": spec.description,
                "retired_on": None,
            },
        )
        indicators[spec.code] = indicator
    for rule in catalogue.RULES:
        ValidationRule.objects.update_or_create(
            code=rule.code,
            defaults={
                "left": indicators[rule.left],
                "operator": rule.operator,
                "right": indicators[rule.right] if rule.right else None,
                "factor": rule.factor,
                "constant": rule.constant,
                "severity": rule.severity,
                "message": rule.message,
            },
        )
    departments = {}
    for code, name in catalogue.DEPARTMENTS:
        departments[code], _ = Department.objects.get_or_create(
            code=code, defaults={"name": name, "district": district}
        )
    ReportTemplate.objects.filter(code__in=[t.code for t in catalogue.TEMPLATES]).delete()
    templates, columns = [], []
    for spec in catalogue.TEMPLATES:
        template = ReportTemplate.objects.create(
            owner=departments[spec.owner],
            code=spec.code,
            title=spec.title,
            row_level=spec.row_level,
            period_type=spec.period_type,
            due_day=spec.due_day,
            layout=layout(spec, indicators),
        )
        templates.append(template)
        columns += [
            TemplateColumn(template=template, order=n, indicator=indicators[code], heading=heading)
            for n, (code, heading) in enumerate(spec.columns, 1)
        ]
    TemplateColumn.objects.bulk_create(columns)
    return indicators, templates


def layout(spec: catalogue.Template, indicators: dict[str, Indicator]) -> dict:
    """The department's Excel layout (reports.services.generate.to_xlsx): key columns, then
    the columns with their units, under a second header row of group headings if any."""
    keys = [("序号", "index"), (LEVEL_NAMES[spec.row_level], "name")]
    if spec.parent_column and spec.row_level in PARENT_NAMES:
        keys.append((PARENT_NAMES[spec.row_level], "parent"))
    rows = 2 if spec.groups else 1
    header = [
        {"text": text, "row": 0, "col": col, "rowspan": rows, "colspan": 1}
        for col, (text, _) in enumerate(keys)
    ]
    grouped = {}
    for heading, first, count in spec.groups:
        header.append(
            {"text": heading, "row": 0, "col": len(keys) + first, "rowspan": 1, "colspan": count}
        )
        grouped.update({i: True for i in range(first, first + count)})
    placement = {}
    for i, (code, heading) in enumerate(spec.columns):
        unit = indicators[code].unit
        text = f"{heading}（{unit}）" if unit and unit not in heading else heading
        col = len(keys) + i
        if i in grouped:
            header.append({"text": text, "row": 1, "col": col, "rowspan": 1, "colspan": 1})
        else:
            header.append({"text": text, "row": 0, "col": col, "rowspan": rows, "colspan": 1})
        placement[str(i + 1)] = col
    return {
        "title": f"{spec.title}（{{period}}）",
        "header": header,
        "header_rows": rows,
        "key_columns": [{"col": col, "kind": kind} for col, (_, kind) in enumerate(keys)],
        "columns": placement,
        "width": len(keys) + len(spec.columns),
        "footer": FOOTER,
    }


# ------------------------------------------------------------------------------- values


def last_months(today: dt.date, n: int = MONTHS_BACK) -> list[Period]:
    current = Period.containing(today, "month")
    return [current.shifted(-k) for k in range(n, 0, -1)]


def periods_of(months: list[Period], kind: str) -> list[Period]:
    return sorted({Period.containing(m.start, kind) for m in months})


@dataclass
class Units:
    """The units of one level, with what their values are drawn from."""

    ids: np.ndarray
    urban: np.ndarray
    nominal: np.ndarray  # households at the full demo's scale
    households: np.ndarray  # derived figures on the first month's last day: bounds
    residents: np.ndarray
    elderly: np.ndarray
    children: np.ndarray
    area: np.ndarray  # km²

    @property
    def n(self) -> int:
        return len(self.ids)


def _units(district: Region, on: dt.date, months: list[Period]) -> tuple[Units, Units, dict]:
    tree = tree_under(district, on)
    grids = tree.under("grid")
    communities = tree.under("community")
    names = {c.pk: c.name for c in communities}
    urban_community = {c.pk: c.name.endswith("社区") for c in communities}
    grid_ids = [g.pk for g in grids]
    figures = grid_figures(months[0].last_day, grid_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT grid_id, ST_Area(geom::geography) / 1e6 FROM grids_gridboundary "
            "WHERE valid_to IS NULL AND grid_id = ANY(%s)",
            [grid_ids],
        )
        area = dict(cursor.fetchall())

    def fig(attr):
        return np.array(
            [getattr(figures.get(pk), attr, 0) if pk in figures else 0 for pk in grid_ids]
        )

    def tag(name):
        return np.array([figures[pk].tags.get(name, 0) if pk in figures else 0 for pk in grid_ids])

    households = fig("households")
    up = 1_000_000 / max(households.sum(), 1)
    g = Units(
        ids=np.array(grid_ids),
        urban=np.array([urban_community.get(u.parent, False) for u in grids]),
        nominal=households * up,
        households=households,
        residents=fig("residents"),
        elderly=tag("elderly"),
        children=tag("child"),
        area=np.array([area.get(pk, 0.0) for pk in grid_ids]),
    )
    index = {pk: i for i, pk in enumerate(grid_ids)}
    members = {c.pk: [index[u.pk] for u in grids if u.parent == c.pk] for c in communities}

    def total(values, pk):
        return values[members[pk]].sum() if members[pk] else 0

    c = Units(
        ids=np.array([u.pk for u in communities]),
        urban=np.array([urban_community[u.pk] for u in communities]),
        nominal=np.array([total(g.nominal, u.pk) for u in communities]),
        households=np.array([total(g.households, u.pk) for u in communities]),
        residents=np.array([total(g.residents, u.pk) for u in communities]),
        elderly=np.array([total(g.elderly, u.pk) for u in communities]),
        children=np.array([total(g.children, u.pk) for u in communities]),
        area=np.array([total(g.area, u.pk) for u in communities]),
    )
    return g, c, names


class Draw:
    """Values of every collected indicator for one level's units and each of its periods:
    {code: [array per period]} (NaN: no value)."""

    def __init__(self, rng, units: Units, periods: dict[str, list[Period]]):
        self.rng = rng
        self.u = units
        self.periods = periods

    def uniform(self, low, high, urban=None):
        """A per-unit uniform draw; (low, high) for rural units if urban gives urban's."""
        lo = np.full(self.u.n, float(low))
        hi = np.full(self.u.n, float(high))
        if urban is not None:
            lo[self.u.urban], hi[self.u.urban] = urban
        return self.rng.uniform(lo, hi)

    def walk(self, base, kind, up=0.3, down=0.2, cap=None):
        """A stock that drifts: base plus the running sum of arrivals and departures."""
        t = len(self.periods[kind])
        steps = self.rng.poisson(up, (t, self.u.n)) - self.rng.poisson(down, (t, self.u.n))
        values = np.maximum(np.round(base)[None, :] + np.cumsum(steps, 0), 0)
        if cap is not None:
            values = np.minimum(values, np.floor(cap)[None, :])
        return list(values)

    def share(self, bound, low, high, kind, growth=0.0, urban=None):
        """A stock that is a share of a derived figure, never above it."""
        t = len(self.periods[kind])
        base = self.uniform(low, high, urban)
        rows = []
        for k in range(t):
            jitter = self.rng.uniform(0.99, 1.01, self.u.n)
            rows.append(np.minimum(np.round(bound * base * (1 + growth * k) * jitter), bound))
        return rows

    def constant(self, values, kind):
        return [np.asarray(values, dtype=float)] * len(self.periods[kind])

    def flow(self, rate, kind, season=None):
        """Counts per period: Poisson with a per-unit rate, times a seasonal factor by month."""
        rows = []
        for p in self.periods[kind]:
            factor = season[p.start.month - 1] if season else 1.0
            rows.append(self.rng.poisson(np.maximum(rate, 0) * factor).astype(float))
        return rows


# Forest fire season in Chongqing: winter and spring, and the summer heat.
FIRE_SEASON = [1.6, 1.7, 1.6, 1.4, 0.8, 0.7, 1.2, 1.3, 0.8, 0.8, 1.0, 1.4]
WINTER = [1.3, 1.2, 1.1, 1.0, 0.9, 0.9, 1.0, 1.0, 0.9, 1.0, 1.1, 1.3]
SOWING = {1: 0.35, 4: 0.9, 7: 0.5, 10: 0.4}  # share of the farmland sown, by quarter start


def grid_values(rng, g: Units, periods) -> dict[str, list[np.ndarray]]:
    d = Draw(rng, g, periods)
    u, nh = g.urban, g.nominal
    nr = nh * 2.75
    r0, h0, e0 = g.residents, g.households, g.elderly
    mu = g.area * MU_PER_KM2
    v: dict[str, list[np.ndarray]] = {}
    farmland = mu * d.uniform(0.25, 0.45, urban=(0.0, 0.05))
    forest = mu * d.uniform(0.2, 0.45, urban=(0.0, 0.08))
    v["AREA_FARMLAND"] = [
        np.round(farmland * (1 - 0.004 * k), 2) for k in range(len(periods["year"]))
    ]
    v["AREA_FOREST"] = [np.round(forest * (1 + 0.002 * k), 2) for k in range(len(periods["year"]))]
    estates = np.where(u, np.maximum(rng.poisson(nh / 300), 1), rng.poisson(0.6, g.n)).astype(float)
    v["EST_ESTATES"] = d.constant(estates, "quarter")
    managed = rng.binomial(estates.astype(int), d.uniform(0.1, 0.5, urban=(0.6, 1.0)))
    v["EST_MANAGED"] = [
        np.minimum(managed + k * rng.binomial(1, 0.05, g.n), estates).astype(float)
        for k in range(len(periods["quarter"]))
    ]
    v["EST_OLD"] = d.constant(rng.binomial(estates.astype(int), np.where(u, 0.3, 0.1)), "quarter")
    buildings = np.where(
        u,
        np.round(estates * d.uniform(6, 14)) + rng.poisson(3, g.n),
        np.round(nh * d.uniform(0.25, 0.4)),
    )
    v["EST_ELEVATORS"] = d.constant(
        np.where(u, np.round(buildings * d.uniform(0.5, 1.8)), rng.poisson(0.5, g.n)), "year"
    )
    v["EST_RENTALS"] = d.walk(nh * d.uniform(0.01, 0.04, urban=(0.06, 0.15)), "quarter", 2, 1.5)
    v["ORG_BUILDING_LEADERS"] = d.walk(
        np.where(u, buildings * d.uniform(0.5, 1.0), nh / 80 * d.uniform(0.5, 1.5)),
        "quarter",
        0.5,
        0.3,
    )
    v["ORG_VOLUNTEERS"] = d.walk(nr * d.uniform(0.02, 0.05), "quarter", 3, 1)
    v["POP_BIRTHS"] = d.flow(r0 * 6.0 / 1000 / 12, "month")
    v["POP_DEATHS"] = d.flow(r0 * 8.0 / 1000 / 12, "month", WINTER)
    v["POP_CHILDBEARING"] = [
        np.minimum(x, np.floor(r0 * 0.5)) for x in d.share(r0, 0.17, 0.23, "quarter")
    ]
    v["POP_INSURED"] = d.share(r0, 0.93, 0.985, "month", growth=0.0008)
    v["POP_FAMILY_DOCTOR"] = d.share(r0, 0.30, 0.50, "month", growth=0.01)
    v["POP_OLD_AGE_ALLOWANCE"] = d.share(e0, 0.12, 0.22, "month")
    v["POP_ELDERLY_HEALTH"] = d.share(e0, 0.55, 0.8, "quarter", growth=0.02)
    hazards = d.flow(1 + nh / 500, "month", WINTER)
    v["SAFE_FIRE_HAZARDS"] = hazards
    v["SAFE_FIRE_FIXED"] = [
        rng.binomial(h.astype(int), d.uniform(0.75, 1.0)).astype(float) for h in hazards
    ]
    v["SAFE_INSPECTIONS"] = d.flow(2 + nh / 600, "month")
    v["SAFE_GAS_USERS"] = d.share(h0, 0.2, 0.6, "quarter", urban=(0.85, 1.0))
    v["SAFE_GAS_CHECKED"] = [
        np.round(np.minimum(d.uniform(55, 97) + 0.5 * k + rng.normal(0, 2, g.n), 100), 1)
        for k in range(len(periods["month"]))
    ]
    v["SAFE_FOREST_PATROLS"] = d.flow(np.where(u, 0.5, 10.0), "month", FIRE_SEASON)
    v["SAFE_RANGERS"] = d.constant(np.where(u, 0, 1 + rng.poisson(forest / 1500)), "year")
    v["GOV_SANITATION"] = d.flow(np.where(u, 4.0, 2.0), "month")
    v["AGR_SOWN"] = [
        np.round(farmland * SOWING[p.start.month] * d.uniform(0.8, 1.1), 2)
        for p in periods["quarter"]
    ]
    v["TRANS_RURAL_ROADS"] = d.constant(
        np.round(g.area * d.uniform(1.2, 2.5, urban=(0.1, 0.5)), 2), "year"
    )
    return v


def community_values(rng, c: Units, periods) -> dict[str, list[np.ndarray]]:
    d = Draw(rng, c, periods)
    years = len(periods["year"])
    committee = rng.integers(5, 10, c.n).astype(float)
    assets = d.uniform(200, 2500, urban=(50, 1200))
    return {
        "LEAD_SECRETARY_CHAIR": d.constant(rng.random(c.n) < 0.88, "year"),
        "LEAD_COMMITTEE": d.constant(committee, "year"),
        "LEAD_CROSS": d.constant(rng.integers(2, committee.astype(int) + 1), "year"),
        "ECO_INCOME": [
            np.round(
                d.uniform(3, 25, urban=(1, 15)) / 4 * (1.4 if p.start.month == 10 else 0.87), 2
            )
            for p in periods["quarter"]
        ],
        "ECO_ASSETS": [np.round(assets * (1 + 0.04 * k), 2) for k in range(years)],
    }


# ------------------------------------------------------------------------------ writing

ENTRY_COLUMNS = (
    "grid_id",
    "region_id",
    "period_type",
    "period_start",
    "indicator_id",
    "number",
    "text",
    "version",
    "updated_by_id",
    "updated_at",
)
SUBMISSION_COLUMNS = (
    "grid_id",
    "region_id",
    "period_type",
    "period_start",
    "submitted_at",
    "submitted_by_id",
    "client_key",
)
REVISIONS = """
INSERT INTO reports_ledgerrevision
    (entry_id, version, number, text, previous_number, previous_text, by_id, at, client_key)
SELECT id, 1, number, text, NULL, '', updated_by_id, updated_at, ''
FROM reports_ledgerentry WHERE id > %s
"""


def _refuse_existing(district: Region, indicator_ids: list[int]) -> None:
    """The ledger is append-only (its revisions cannot be deleted, a database trigger sees
    to it), so a district that has one is rebuilt with `manage.py demo --reset`, which
    truncates it."""
    units = Q(grid__code__startswith=district.code) | Q(region__code__startswith=district.code)
    if LedgerEntry.objects.filter(units, indicator__in=indicator_ids).exists():
        raise ProblemsError(
            [
                Problem(
                    "ledger_exists",
                    f"{district.name} already has a ledger; rebuild the demo with "
                    "`manage.py demo --reset`",
                )
            ]
        )


class Writer:
    """Decides who submitted what when, and streams the rows to COPY."""

    def __init__(self, rng, district: Region, now: dt.datetime, users: dict):
        self.rng = rng
        self.district = district
        self.now = now
        self.today = timezone.localdate(now)
        self.tz = timezone.get_current_timezone()
        self.users = users
        self.entries: list[str] = []
        self.submissions: list[tuple] = []
        self.late = 0

    def at(self, day: dt.date, hours: np.ndarray) -> list[dt.datetime]:
        base = dt.datetime.combine(day, dt.time(), self.tz)
        latest = self.now - dt.timedelta(minutes=5)
        return [min(base + dt.timedelta(hours=float(h)), latest) for h in hours]

    def period(self, level: str, ids: np.ndarray, period: Period, last: bool, values) -> None:
        """Entries and submissions of one level's units for one period: values is
        [(indicator, array over the units)]."""
        n = len(ids)
        closed = period.end <= Period.containing(self.today, "month").start
        due, _ = ledger.due_date(level, period, self.district.pk)
        if due < period.end:
            # A monthly form needing a quarterly or yearly item dates the longer period by its
            # first month (ReportTemplate.due_date); units file it after the period ends.
            due = period.due_on(due.day)
        if closed:
            submitted = self.rng.random(n) < (LAST_SUBMIT_P if last else SUBMIT_P)
            late = submitted & (self.rng.random(n) < LATE_P)
            # On time: from the period's end to 18:00 on the due day; late: up to a week after.
            span = ((due - period.end).days + 0.75) * 24
            hours = np.where(
                late,
                (due - period.end).days * 24 + self.rng.uniform(33, 24 * 8, n),
                self.rng.uniform(8, max(span, 9), n),
            )
            when = self.at(period.end, hours)
            late &= np.array([timezone.localtime(w).date() > due for w in when])
            self.late += int(late.sum())
            entered = [
                w - dt.timedelta(hours=float(h))
                for w, h in zip(when, self.rng.uniform(1, 72, n), strict=True)
            ]
            start = dt.datetime.combine(period.start, dt.time(9), self.tz)
            entered = [max(e, start) for e in entered]
        else:
            submitted = np.zeros(n, bool)
            start = dt.datetime.combine(period.start, dt.time(9), self.tz)
            span = max((self.now - start).total_seconds() / 3600, 1)
            entered = [start + dt.timedelta(hours=float(h)) for h in self.rng.uniform(0, span, n)]
            entered = [min(e, self.now - dt.timedelta(minutes=5)) for e in entered]
            when = entered
        grid = level == "grid"
        keep_p = STARTED_P if closed else CURRENT_P
        present = [np.where(submitted, True, self.rng.random(n) < keep_p) for _ in values]
        # COPY text rows: the unit's and period's fields, then the indicator's, then who/when.
        null = "\\N"
        head = [
            f"{pk if grid else null}\t{null if grid else pk}\t{period.type}\t{period.start}\t"
            for pk in ids.tolist()
        ]
        tail = [
            f"\t\t1\t{self.users.get(pk, null)}\t{at.isoformat()}\n"
            for pk, at in zip(ids.tolist(), entered, strict=True)
        ]
        for j, (indicator, array) in enumerate(values):
            array = np.asarray(array, dtype=float)
            keep = present[j] & ~np.isnan(array)
            if indicator.value_type in ("decimal", "percentage"):
                numbers = [f"{x:.2f}" for x in array.tolist()]
            else:
                numbers = [str(x) for x in np.round(np.nan_to_num(array)).astype(np.int64).tolist()]
            code = f"{indicator.pk}\t"
            self.entries += [head[i] + code + numbers[i] + tail[i] for i in np.flatnonzero(keep)]
        for i in np.flatnonzero(submitted):
            pk = int(ids[i])
            self.submissions.append(
                (
                    pk if grid else None,
                    None if grid else pk,
                    period.type,
                    period.start,
                    when[i],
                    self.users.get(pk),
                    "",
                )
            )

    def copy(self, cursor) -> None:
        cursor.execute("SELECT COALESCE(max(id), 0) FROM reports_ledgerentry")
        (first,) = cursor.fetchone()
        with cursor.copy(
            f"COPY reports_ledgerentry ({', '.join(ENTRY_COLUMNS)}) FROM STDIN"
        ) as copy:
            for i in range(0, len(self.entries), 20_000):
                copy.write("".join(self.entries[i : i + 20_000]))
        cursor.execute(REVISIONS, [first])
        with cursor.copy(
            f"COPY reports_ledgersubmission ({', '.join(SUBMISSION_COLUMNS)}) FROM STDIN"
        ) as copy:
            for row in self.submissions:
                copy.write_row(row)


def _users(cursor, level: str) -> dict[int, int]:
    if level == "grid":
        cursor.execute(
            "SELECT g.id, u.id FROM grids_grid g JOIN grids_user u ON u.username = 'g' || g.code"
        )
    else:
        cursor.execute(
            "SELECT r.id, u.id FROM grids_region r JOIN grids_user u ON u.username = 'c' || r.code"
        )
    return dict(cursor.fetchall())


@transaction.atomic
def build(scale="small", progress: Progress | None = None, now: dt.datetime | None = None):
    """The catalogue (indicators and rules updated, templates replaced), then a year of
    ledger values and submissions for the demo district, once: a district that already has
    a ledger is refused. `scale` sized the district; the values follow its grids."""
    progress = progress or NullProgress()
    now = (now or timezone.now()).replace(microsecond=0)
    today = timezone.localdate(now)
    rng = np.random.default_rng(SEED)
    district = Region.objects.get(code=grids_demo.DISTRICT_CODE, level="district")
    progress.stage("一表通 catalogue", None)
    indicators, templates = install_catalogue(district)
    collected = [
        indicators[spec.code]
        for spec in catalogue.INDICATORS
        if indicators[spec.code].source == Source.COLLECTED
    ]
    _refuse_existing(district, [i.pk for i in collected])

    months = last_months(today)
    periods = {kind: periods_of(months, kind) for kind in MONTHS}
    g, c, _ = _units(district, today, months)
    draws = {
        "grid": (g, grid_values(rng, g, periods)),
        "community": (c, community_values(rng, c, periods)),
    }
    with connection.cursor() as cursor:
        users = {**_users(cursor, "grid"), **_users(cursor, "community")}
        writer = Writer(rng, district, now, users)
        work = [
            (level, kind, k, p)
            for level in ("grid", "community")
            for kind in MONTHS
            for k, p in enumerate(periods[kind])
        ]
        progress.stage("ledger", len(work))
        for level, kind, k, period in work:
            units, values = draws[level]
            due = [
                (i, values[i.code][k])
                for i in collected
                if i.level == level and i.period_type == kind and i.code in values
            ]
            if due:
                last = kind == "month" and period == months[-1]
                writer.period(level, units.ids, period, last, due)
            progress.advance(1)
        writer.copy(cursor)
    return ReportDemoResult(
        collected_indicators=len(collected),
        rules=len(catalogue.RULES),
        templates=len(templates),
        departments=len({t.owner_id for t in templates}),
        ledger_entries=len(writer.entries),
        submissions=len(writer.submissions),
        late_submissions=writer.late,
    )
