"""The 一表通 pages (#5): the reports hub, the ledger, completeness, burden, bringing a form
in and the indicator catalogue; each for the roles that use it, and scoped."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from reports.models import (
    Indicator,
    LedgerEntry,
    ReportTemplate,
    Source,
    TemplateColumn,
    ValidationRule,
)
from reports.periods import Period
from reports.services import ledger
from reports.services.indicators import ensure_groups, sync_derived

PAGES = [
    "/reports/",
    "/reports/ledger/",
    "/reports/completeness/",
    "/reports/burden/",
    "/reports/forms/import/",
    "/reports/indicators/",
]


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def this_month() -> Period:
    return Period.containing(timezone.localdate(), "month")


def collected(code, name, group, value_type="integer", **kwargs) -> Indicator:
    return Indicator.objects.create(
        code=code,
        name=name,
        group=group,
        value_type=value_type,
        aggregation=kwargs.pop("aggregation", "sum"),
        source=Source.COLLECTED,
        level=kwargs.pop("level", "grid"),
        period_type=kwargs.pop("period_type", "month"),
        **kwargs,
    )


def template(owner, code, title, indicators, **kwargs) -> ReportTemplate:
    t = ReportTemplate.objects.create(
        owner=owner,
        code=code,
        title=title,
        row_level=kwargs.pop("row_level", "grid"),
        period_type=kwargs.pop("period_type", "month"),
        due_day=kwargs.pop("due_day", 5),
        **kwargs,
    )
    TemplateColumn.objects.bulk_create(
        TemplateColumn(template=t, order=i, indicator=ind, heading=ind.name)
        for i, ind in enumerate(indicators, 1)
    )
    return t


@pytest.fixture
def forms(users):
    """A small catalogue: six collected items of every value type, a rule, a derived item,
    and two civil-affairs templates sharing items."""
    groups = ensure_groups()
    sync_derived()
    pop = groups["population"]
    residents = collected("T_RESIDENTS", "常住人口", pop, unit="人", min_value=Decimal(0))
    elderly = collected("T_ELDERLY", "60岁以上老人数", pop, unit="人")
    subsidy = collected("T_SUBSIDY", "是否发放补贴", pop, "boolean", aggregation="count")
    state = collected(
        "T_STATE", "走访情况", groups["governance"], "choice", choices=["已走访", "未走访"]
    )
    rate = collected("T_RATE", "入户率", groups["governance"], "percentage", aggregation="mean")
    note = collected("T_NOTE", "备注", groups["governance"], "text", aggregation="latest")
    ValidationRule.objects.create(
        code="elderly-le-residents",
        left=elderly,
        operator="<=",
        right=residents,
        message="老人数不能超过常住人口",
    )
    households = Indicator.objects.derived().first()
    civil = users.department.department
    monthly = template(
        civil,
        "civil-monthly",
        "民政基础数据月报表",
        [residents, elderly, subsidy, state, rate, note, households],
    )
    elderly_form = template(civil, "civil-elderly", "老年人情况统计表", [residents, elderly])
    return {
        "monthly": monthly,
        "elderly": elderly_form,
        "residents": residents,
        "elderly_ind": elderly,
        "households": households,
    }


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_users_are_sent_to_log_in(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_nav_links_to_reports(users):
    body = client_for(users.worker).get("/incidents/").content.decode()
    assert 'href="/reports/"' in body


# ---- the hub -------------------------------------------------------------------------------


def test_the_hub_groups_templates_and_offers_generation_above_the_grid(users, forms):
    response = client_for(users.district).get("/reports/?template=civil-elderly")
    assert response.status_code == 200
    body = response.content.decode()
    assert "民政基础数据月报表" in body and "老年人情况统计表" in body
    assert 'id="generate-panel"' in body
    assert response.context["selected"] == "civil-elderly"
    (department, rows), *_ = response.context["departments"]
    assert department == "民政局"
    monthly = next(t for t in rows if t.code == "civil-monthly")
    assert (monthly.column_count, monthly.derived_count) == (7, 1)
    # The district and its streets to generate for; the period defaults to the last month.
    assert [r.code for r in response.context["regions"]] == ["500118", "500118001", "500118002"]
    config = response.context["config"]
    assert config["templates"]["civil-monthly"]["default_period"] == this_month().previous().key


def test_a_street_generates_for_itself_and_its_communities(users, forms):
    response = client_for(users.street).get("/reports/")
    assert [r.code for r in response.context["regions"]] == [
        "500118001",
        "500118001001",
        "500118001002",
    ]


def test_a_grid_worker_gets_the_ledger_instead_of_the_generate_panel(users, forms):
    response = client_for(users.worker).get("/reports/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="generate-panel"' not in body
    assert "hub.js" not in body
    assert f"/reports/ledger/?unit={users.worker.grid.code}" in body
    assert response.context["regions"] == []


def test_the_hub_costs_the_same_for_many_templates(users, forms, django_assert_max_num_queries):
    client = client_for(users.district)
    client.get("/reports/")
    residents = forms["residents"]
    for n in range(15):
        template(users.department.department, f"extra-{n}", f"附加报表{n}", [residents])
    # session, user, unread count, templates, the streets: none per template.
    with django_assert_max_num_queries(6):
        response = client.get("/reports/")
    assert response.context["template_count"] == 17


# ---- the ledger ------------------------------------------------------------------------------


def test_a_grid_worker_opens_their_own_ledger(users, forms, tree):
    period = this_month()
    response = client_for(users.worker).get(f"/reports/ledger/?period={period.key}")
    assert response.status_code == 200
    assert response.context["unit"] == tree.grids[(1, 1, 1)]
    assert response.context["editable"]
    body = response.content.decode()
    # The right input per value type.
    assert 'type="number" id="v-T_RESIDENTS"' in body and 'step="1"' in body and 'min="0"' in body
    assert 'id="v-T_RATE"' in body and 'max="100"' in body
    assert '<select id="v-T_SUBSIDY"' in body
    assert '<select id="v-T_STATE"' in body and "已走访" in body
    assert 'type="text" id="v-T_NOTE"' in body
    # Entered once, needed by two forms (titles on hover).
    needed = re.findall(r'class="needed" title="([^"]*)"', body)
    assert {"民政基础数据月报表", "老年人情况统计表"} in [set(t.split("、")) for t in needed]
    # The derived item is shown to check, not to type.
    assert 'id="v-' + forms["households"].code + '"' not in body
    assert forms["households"].name in body
    assert len(response.context["missing"]) == 6


def test_the_ledger_shows_last_periods_values_to_reuse(users, forms, tree):
    period = this_month()
    grid = tree.grids[(1, 1, 1)]
    LedgerEntry.objects.create(
        indicator=forms["residents"],
        grid=grid,
        period_type="month",
        period_start=period.previous().start,
        number=Decimal("120.0000"),
    )
    response = client_for(users.worker).get(f"/reports/ledger/?period={period.key}")
    body = response.content.decode()
    assert 'data-previous="120"' in body
    assert 'id="use-previous"' in body


def test_the_community_opens_its_grids_ledgers_not_anothers(users, forms, tree):
    period = this_month()
    community = client_for(users.community)
    mine = community.get(f"/reports/ledger/?unit={tree.grids[(1, 1, 2)].code}&period={period.key}")
    assert mine.status_code == 200 and mine.context["editable"]
    # Default unit: the community itself.
    assert community.get("/reports/ledger/").context["unit"] == tree.communities[(1, 1)]
    for other in (tree.grids[(2, 2, 2)].code, tree.grids[(1, 2, 1)].code, "500118001002"):
        assert community.get(f"/reports/ledger/?unit={other}").status_code == 404


def test_a_grid_worker_cannot_open_another_grids_ledger(users, forms, tree):
    worker = client_for(users.worker)
    assert worker.get(f"/reports/ledger/?unit={tree.grids[(1, 1, 2)].code}").status_code == 404
    assert worker.get(f"/reports/ledger/?unit=grid:{tree.grids[(2, 2, 2)].pk}").status_code == 404
    own = worker.get(f"/reports/ledger/?unit=grid:{tree.grids[(1, 1, 1)].pk}")
    assert own.status_code == 200  # the reminders' links


def test_a_street_reads_a_grids_ledger_and_may_reopen_it_when_locked(users, forms, tree):
    grid = tree.grids[(1, 1, 1)]
    old = this_month().shifted(-3)
    street = client_for(users.street)
    response = street.get(f"/reports/ledger/?unit={grid.code}&period={old.key}")
    assert response.status_code == 200
    assert ledger.is_locked(grid, old)
    assert not response.context["editable"]
    assert response.context["may_reopen"]
    body = response.content.decode()
    assert 'id="locked-banner"' in body and 'id="reopen-form"' in body
    assert 'id="save"' not in body
    # The grid worker sees the lock too, without the reopen form.
    worker = client_for(users.worker).get(f"/reports/ledger/?period={old.key}")
    assert 'id="locked-banner"' in worker.content.decode()
    assert not worker.context["may_reopen"]


def test_above_the_community_the_ledger_page_asks_which_unit(users, forms):
    response = client_for(users.district).get("/reports/ledger/")
    assert response.status_code == 200
    assert "reports/ledger_choose.html" in [t.name for t in response.templates]


def test_a_bad_period_is_a_bad_request(users, forms):
    # A period the page cannot show is the address's fault (400), as in the API.
    assert client_for(users.worker).get("/reports/ledger/?period=2026-13").status_code == 400


def test_the_ledger_costs_the_same_for_many_items(
    users, forms, tree, django_assert_max_num_queries
):
    period = this_month()
    client = client_for(users.worker)
    url = f"/reports/ledger/?period={period.key}"
    client.get(url)
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    base = len(few.captured_queries)
    groups = ensure_groups()
    extra = [collected(f"T_EXTRA_{n}", f"附加项{n}", groups["estates"]) for n in range(20)]
    template(users.department.department, "civil-extra", "附加表", extra)
    with django_assert_max_num_queries(base):
        response = client.get(url)
    assert response.context["items_count"] == 26


# ---- completeness and burden -------------------------------------------------------------------


def test_completeness_per_template_and_per_unit(users, forms, tree):
    period = this_month().previous()
    grid = tree.grids[(1, 1, 1)]
    from reports.models import LedgerSubmission

    LedgerSubmission.objects.create(
        grid=grid, period_type="month", period_start=period.start, submitted_at=timezone.now()
    )
    response = client_for(users.street).get(f"/reports/completeness/?period={period.key}")
    assert response.status_code == 200
    codes = [row["template"].code for row in response.context["templates"]]
    assert set(codes) == {"civil-monthly", "civil-elderly"}
    units = {row["unit"].code: row["status"] for row in response.context["units"]}
    assert len(units) == 4  # the street's four grids
    assert units[grid.code] in ("on_time", "late")
    body = response.content.decode()
    assert f"/reports/ledger/?unit={grid.code}&amp;period={period.key}" in body
    # One template's units.
    picked = client_for(users.street).get(
        f"/reports/completeness/?period={period.key}&template=civil-elderly"
    )
    assert picked.context["chosen"].code == "civil-elderly"
    assert picked.context["summary"]["expected"] == 4


def test_completeness_and_burden_are_scoped(users, forms):
    street = client_for(users.street)
    for path in ("/reports/completeness/", "/reports/burden/"):
        assert street.get(f"{path}?region=500118002").status_code == 404
        assert street.get(f"{path}?region=500118001001").status_code == 200
        assert client_for(users.district).get(f"{path}?region=500118002").status_code == 200
        worker = client_for(users.worker).get(path)
        assert worker.status_code == 302 and worker["Location"] == "/reports/ledger/"


def test_the_burden_page_shows_before_and_now(users, forms):
    month = this_month().previous()
    response = client_for(users.district).get(f"/reports/burden/?month={month.key}")
    assert response.status_code == 200
    figures = response.context["figures"]
    # Before: 8 grids × (7 + 2) cells; now: 6 collected items once per grid.
    assert (figures["before"], figures["now"]) == (72, 48)
    assert response.context["reduction_pct"] == pytest.approx(33.3)
    body = response.content.decode()
    assert 'id="reduction"' in body and "60岁以上老人数" in body
    assert len(response.context["year"]["months"]) == 12
    assert client_for(users.district).get("/reports/burden/?month=2026-Q1").status_code == 404


# ---- bringing a form in ------------------------------------------------------------------------


def test_the_import_page_is_for_departments_and_the_district(users, forms):
    department = client_for(users.department).get("/reports/forms/import/")
    assert department.status_code == 200
    assert not department.context["choose_department"]
    assert 'name="department"' not in department.content.decode()
    district = client_for(users.district).get("/reports/forms/import/")
    assert district.status_code == 200
    assert 'name="department"' in district.content.decode()
    assert [d.code for d in district.context["departments"]] == ["civil-affairs"]
    for who in ("worker", "community", "street"):
        assert client_for(getattr(users, who)).get("/reports/forms/import/").status_code == 403


# ---- the catalogue -----------------------------------------------------------------------------


def test_the_indicator_catalogue_filters(users, forms):
    client = client_for(users.worker)
    response = client.get("/reports/indicators/")
    assert response.status_code == 200
    rows = {i.code: i for i in response.context["indicators"]}
    assert rows["T_RESIDENTS"].template_count == 2
    assert rows["T_NOTE"].template_count == 1
    assert forms["households"].code in rows
    only = client.get("/reports/indicators/?source=collected&q=老人")
    assert [i.code for i in only.context["indicators"]] == ["T_ELDERLY"]
    grouped = client.get("/reports/indicators/?group=governance&source=collected")
    assert {i.code for i in grouped.context["indicators"]} == {"T_STATE", "T_RATE", "T_NOTE"}
