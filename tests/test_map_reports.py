"""一表通 on the command-centre map: the reports API the map uses (an indicator's values per
grid, a grid's trend, the ledger's completeness) and, in a real browser, the grids coloured
by an indicator and by completeness, with the trend chart in a grid's panel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone

from reports.models import (
    Indicator,
    LedgerEntry,
    LedgerSubmission,
    ReportTemplate,
    TemplateColumn,
)
from reports.periods import Period
from reports.services.indicators import ensure_groups, sync_derived

# The browser and a logged-in page come from the map's browser tests.
from tests.browser_support import ARTIFACTS, CHROMIUM, browser  # noqa: F401
from tests.test_map_browser import click_at, go_to, inside, open_map  # noqa: F401

CODE = "POP_FLOATING_T"


def tz_datetime(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10)))


@pytest.fixture
def ledger(tree, users):
    """A collected indicator in a monthly template of the district; 12 months of values for
    every grid except one missing the last month; last month submitted on time by one grid,
    late by another and not at all by the other six."""
    groups = ensure_groups()
    sync_derived()
    indicator = Indicator.objects.create(
        code=CODE,
        name="流动人口",
        unit="人",
        group=groups["population"],
        value_type="integer",
        aggregation="sum",
        source="collected",
    )
    template = ReportTemplate.objects.create(
        owner=users.department.department,
        code="civil-monthly",
        title="民政月报",
        row_level="grid",
        period_type="month",
        due_day=5,
    )
    TemplateColumn.objects.create(template=template, order=1, indicator=indicator)
    last = Period.containing(timezone.localdate(), "month").previous()
    periods = [last.shifted(-i) for i in range(11, -1, -1)]
    grids = [tree.grids[k] for k in sorted(tree.grids)]
    missing_last = tree.grids[(2, 2, 2)]
    values = {}
    for n, grid in enumerate(grids):
        for i, period in enumerate(periods):
            if grid == missing_last and period == last:
                continue
            value = 10 * (n + 1) + i
            values[(grid.code, period.key)] = value
            LedgerEntry.objects.create(
                indicator=indicator,
                grid=grid,
                period_type="month",
                period_start=period.start,
                number=Decimal(value),
            )
    due = last.due_on(template.due_day)
    on_time, late = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    for grid, day in ((on_time, due - dt.timedelta(days=2)), (late, due + dt.timedelta(days=3))):
        LedgerSubmission.objects.create(
            grid=grid, period_type="month", period_start=last.start, submitted_at=tz_datetime(day)
        )
    return SimpleNamespace(
        indicator=indicator,
        last=last,
        periods=periods,
        values=values,
        grids=grids,
        missing_last=missing_last,
        on_time=on_time,
        late=late,
    )


def test_values_trend_and_completeness_for_the_map(api, users, tree, ledger):
    client = api(users.district)
    base = f"/api/reports/indicators/{CODE}"

    listed = client.get("/api/reports/indicators/?active=1").json()
    mine = next(i for i in listed if i["code"] == CODE)
    assert (mine["group"], mine["value_type"], mine["period_type"]) == (
        "population",
        "integer",
        "month",
    )

    # One period's value per grid of the user's jurisdiction (no region given).
    data = client.get(f"{base}/values/", {"period": ledger.last.key, "level": "grid"}).json()
    assert (data["indicator"], data["unit"], data["period"]) == (CODE, "人", ledger.last.key)
    got = {r["code"]: r["value"] for r in data["values"] if r["value"] is not None}
    assert got == {
        g.code: ledger.values[(g.code, ledger.last.key)]
        for g in ledger.grids
        if g != ledger.missing_last
    }
    assert {r["id"] for r in data["values"]} <= {g.pk for g in ledger.grids}
    # The default period is the last complete one.
    assert client.get(f"{base}/values/").json()["period"] == ledger.last.key
    # A street sees its own grids only.
    street = api(users.street).get(f"{base}/values/", {"period": ledger.last.key}).json()
    assert {r["code"][:9] for r in street["values"]} == {tree.streets[1].code}

    # A grid's trend over the last 12 months, oldest first.
    grid = ledger.grids[0]
    trend = client.get(f"{base}/trend/", {"unit": grid.code, "periods": 12}).json()
    assert [p["period"] for p in trend["points"]] == [p.key for p in ledger.periods]
    assert [p["value"] for p in trend["points"]] == [
        ledger.values[(grid.code, p.key)] for p in ledger.periods
    ]
    # The map asks for the trend ending at the period it shows.
    earlier = ledger.last.shifted(-3)
    trend = client.get(
        f"{base}/trend/", {"unit": grid.code, "periods": 12, "end": earlier.key}
    ).json()
    assert trend["points"][-1]["period"] == earlier.key
    assert len(trend["points"]) == 12

    # The ledger's completeness per grid: on time, late, missing.
    done = client.get(
        "/api/reports/completeness/", {"period": ledger.last.key, "level": "grid"}
    ).json()
    status = {u["id"]: u["status"] for u in done["units"]}
    assert status[ledger.on_time.pk] == "on_time"
    assert status[ledger.late.pk] == "late"
    assert sorted(status.values()).count("missing") == 6
    assert (done["expected"], done["submitted"], done["on_time"]) == (8, 2, 1)
    assert (done["reporting_rate"], done["on_time_rate"]) == (0.25, 0.125)
    assert [t["template"] for t in done["templates"]] == ["civil-monthly"]


def rgb(colour: str) -> str:
    """#rrggbb as the browser's computed style writes it."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
@pytest.mark.django_db(transaction=True)
def test_map_colours_grids_by_an_indicator_and_by_completeness(
    open_map,  # noqa: F811
    users,
    tree,
    ledger,
):
    page = open_map(users.district)
    fetched = list(page.requests)
    # The default view fetches nothing of 一表通.
    assert not [u for u in fetched if "/api/reports/" in u]

    page.select_option("#figure", "indicator")
    page.wait_for_selector(f"#indicator option[value={CODE}]", state="attached", timeout=10000)
    page.select_option("#indicator", CODE)
    page.wait_for_selector(f".legend-caption[data-indicator={CODE}]", timeout=10000)
    page.wait_for_selector("body[data-map-ready='1']", timeout=20000)
    legend = page.locator(".legend").inner_text()
    assert "流动人口" in legend and "人" in legend and ledger.last.key in legend
    assert page.locator(".legend [data-no-value]").get_attribute("data-no-value") == "1"

    # Grids are styled by the indicator: the highest value in the top class, the grid with no
    # value in the light "no value" fill, on the map too (the grids' feature-state fill).
    state = page.evaluate(
        "() => { const s = window.gridlineMap.state; return {values: s.ind.values,"
        " fills: Object.fromEntries(Object.keys(s.figures).map((id) =>"
        " [id, window.gridlineMap.fillOf(Number(id))]))}; }"
    )
    top = ledger.grids[-2]  # the highest value of the last month
    assert state["values"][str(top.pk)] == ledger.values[(top.code, ledger.last.key)]
    assert str(ledger.missing_last.pk) not in state["values"]
    assert state["fills"][str(top.pk)] == "#08306b"
    assert state["fills"][str(ledger.missing_last.pk)] == "#e4e7eb"
    drawn = page.evaluate(
        "(ids) => ids.map((id) => window.gridlineMap.map.getFeatureState("
        "{source: 'gridline', sourceLayer: 'grids', id}).fill)",
        [top.pk, ledger.missing_last.pk],
    )
    assert "#08306b" in drawn and "#e4e7eb" in drawn

    # A grid's panel: its value and the trend over 12 months.
    grid = tree.grids[(1, 2, 2)]
    go_to(page, inside(grid), 14)
    click_at(page, inside(grid))
    page.wait_for_selector(f"#panel[data-grid='{grid.code}'] svg.trend-chart", timeout=10000)
    panel = page.locator("#panel-indicator")
    value = ledger.values[(grid.code, ledger.last.key)]
    assert panel.locator("[data-indicator-value]").inner_text() == str(value)
    chart = panel.locator("svg.trend-chart")
    assert chart.get_attribute("data-points") == "12"
    assert chart.locator("rect.bar[data-value]").count() == 12
    assert chart.locator("rect.bar").last.get_attribute("data-period") == ledger.last.key
    labels = chart.text_content()
    assert ledger.periods[0].key in labels and ledger.last.key in labels
    assert str(value) in labels  # the maximum is the last month's value
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-indicator.png"))

    # Ledger completeness: on time, late and missing, with the rates.
    page.select_option("#figure", "completeness")
    page.wait_for_selector(".legend-rates", timeout=10000)
    page.wait_for_selector("body[data-map-ready='1']", timeout=20000)
    rates = page.locator(".legend-rates")
    assert rates.get_attribute("data-reporting-rate") == "0.25"
    assert rates.get_attribute("data-on-time-rate") == "0.125"
    counts = {
        s: page.locator(f".legend [data-status={s}]").inner_text()
        for s in ("on_time", "late", "missing")
    }
    assert counts["on_time"].endswith("(1)") and counts["late"].endswith("(1)")
    assert counts["missing"].endswith("(6)")
    fills = page.evaluate(
        "(ids) => ids.map((id) => window.gridlineMap.fillOf(id))",
        [ledger.on_time.pk, ledger.late.pk, ledger.missing_last.pk],
    )
    # Missing is a muted purple: alarm red is kept for alarms and overdue steps.
    assert fills == ["#1a9850", "#f5a623", "#8e6c8a"]
    page.screenshot(path=str(ARTIFACTS / "map-completeness.png"))
    assert page.errors == []
