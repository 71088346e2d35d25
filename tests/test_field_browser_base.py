"""一标三实 and the ledger in the field app (issue #18), in Debian's Chromium at 390×844 with
the network cut and restored through Playwright: a household edited without signal is
"saved on the phone", then sent once when the signal returns; a resident with a wrong ID
number check digit is refused on the phone with the reason (nothing queued), and saved once
corrected; a unit with a wrong credit code check character and a building with 0 floors are
refused on the phone, then sent; a broken ledger rule is shown by its indicator and blocks
saving until fixed; a household and a resident in it made offline arrive together. That the
phone's checks give the server's answer value by value: test_field_browser_rules.py."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point

from field.models import OutboxReceipt
from grids.models import Building, Resident, ResidentTagKind, Unit, UnitType
from grids.services import households
from grids.services.imports.people import check_digit
from reports.models import (
    Indicator,
    IndicatorGroup,
    LedgerEntry,
    ReportTemplate,
    TemplateColumn,
    ValidationRule,
)
from tests.browser_support import ARTIFACTS, browser, needs_chromium  # noqa: F401
from tests.conftest import centre_of

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-test-password"
PHONE = {"width": 390, "height": 844}


def id_number(body: str) -> str:
    """An ID number with the check digit the server computes (the phone must agree)."""
    return body + check_digit(body)


@pytest.fixture
def place(tree):
    """A building and a household in it, in the worker's grid (1, 1, 1)."""
    grid = tree.grids[(1, 1, 1)]
    point = centre_of(grid)
    building = Building.objects.create(
        code="500118-BASE-1",
        name="3栋",
        location=point,
        grid=grid,
        floors=6,
        address="中山路5号3栋",
    )
    household, _created = households.create_household(
        address="中山路5号3栋2单元301", location=Point(point.x, point.y, srid=4326)
    )
    household.building = building
    household.save(update_fields=["building"])
    return household


@pytest.fixture
def phone(browser, live_server, users):  # noqa: F811
    """The worker's phone, logged in and synced once: (context, page)."""
    worker = users.worker
    worker.set_password(PASSWORD)
    worker.save(update_fields=["password"])
    grid_point = centre_of(worker.grid)
    context = browser.new_context(
        viewport=PHONE,
        geolocation={"longitude": grid_point.x, "latitude": grid_point.y, "accuracy": 8},
        permissions=["geolocation"],
        # The shell offline is CORE's test; here the page stays loaded while the network is cut.
        service_workers="block",
        locale="zh-CN",
    )
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    # A loaded machine (2 shared cores) can take long for the first load of the modules.
    page.goto(f"{live_server.url}/field/#/login", timeout=90000)
    page.wait_for_selector("form.login input[name=username]", timeout=60000)
    page.fill("input[name=username]", worker.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_function("() => window.fieldApp && window.fieldApp.lastSync", timeout=60000)
    yield context, page
    context.close()


def real_errors(page) -> list[str]:
    """Console errors but the requests the cut network refused (tiles, the sync's tries)."""
    return [e for e in page.errors if "ERR_INTERNET_DISCONNECTED" not in e]


def go(page, path: str, selector: str):
    page.evaluate("path => window.fieldApp.go(path)", path)
    try:
        page.wait_for_selector(selector, timeout=30000)
    except Exception:
        shot(page, "field-base-failed")
        raise AssertionError(f"{selector} not shown at {path}: {page.errors}") from None


def shot(page, name: str):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def outbox_states(page, kind: str) -> list[str]:
    return page.evaluate("kind => window.fieldApp.outbox.items({kind}).map(i => i.state)", kind)


def test_household_edited_offline_is_kept_then_sent_once(place, phone):
    context, page = phone
    go(page, "/basedata", ".bd-list[data-set=households] a.bd-item")
    assert place.address in page.inner_text(".bd-list")
    shot(page, "field-base-list")

    go(page, f"/households/{place.pk}", ".bd-household")
    assert "3栋" in page.inner_text(".bd-household")
    shot(page, "field-base-household")

    context.set_offline(True)
    go(page, f"/households/{place.pk}/edit", "#household-form")
    page.fill("#household-form [name=address]", "中山路5号3栋2单元302")
    page.click("#household-form .bd-save")
    page.wait_for_selector(f".bd-household[data-id='{place.pk}'] .badge[data-state=saved]")
    assert "中山路5号3栋2单元302" in page.inner_text(".bd-household h2")
    assert outbox_states(page, "household.update") == ["saved"]
    place.refresh_from_db()
    assert place.address == "中山路5号3栋2单元301"  # nothing left the phone

    context.set_offline(False)  # the app syncs on `online`
    page.wait_for_function(
        "() => window.fieldApp.outbox.items({kind: 'household.update'})[0].state === 'sent'",
        timeout=30000,
    )
    go(page, f"/households/{place.pk}", ".bd-household .badge[data-state=sent]")
    place.refresh_from_db()
    assert place.address == "中山路5号3栋2单元302"
    assert OutboxReceipt.objects.filter(kind="household.update", target_id=place.pk).count() == 1
    assert real_errors(page) == []


def test_a_wrong_id_number_is_refused_on_the_phone(place, phone):
    context, page = phone
    # The lists, opened once with a signal, keep the catalogues the forms need offline.
    go(
        page,
        "/basedata",
        f"[data-catalogues='{ResidentTagKind.objects.count()},{UnitType.objects.count()}']",
    )
    context.set_offline(True)
    go(page, f"/residents/new?household={place.pk}", "#resident-form")
    good = id_number("11010519491231002")
    wrong = good[:17] + ("1" if good[17] != "1" else "2")
    page.fill("#resident-form [name=name]", "张三")
    page.fill("#resident-form [name=id_number]", wrong)
    page.click("#resident-form [name=phone]")  # leaving the field checks it at once
    slot = "[data-error-for=id_number]"
    page.wait_for_selector(f"{slot}:not([hidden])")
    assert "校验码" in page.inner_text(slot)
    page.fill("#resident-form [name=phone]", "12345")
    page.select_option("#resident-form [name=relation]", "head")
    page.click("#resident-form .bd-save")
    page.wait_for_selector("[data-error-for=phone]:not([hidden])")
    assert "校验码" in page.inner_text(slot)
    assert "手机号" in page.inner_text("[data-error-for=phone]")
    shot(page, "field-base-resident-refused")
    assert outbox_states(page, "resident.create") == []

    # Corrected: the birth date and sex come from the ID number, then it is saved.
    page.fill("#resident-form [name=id_number]", good)
    page.click("#resident-form [name=phone]")
    page.wait_for_function(
        "() => document.querySelector('#resident-form [name=birth_date]').value === '1949-12-31'"
    )
    assert page.input_value("#resident-form [name=sex]") == "F"
    page.fill("#resident-form [name=phone]", "13812345678")
    page.click("#resident-form .bd-tag-toggle[data-code=disabled]")
    page.select_option("#resident-form [name=level-disabled]", "二级")
    page.locator("#resident-form .bd-tagpicker").scroll_into_view_if_needed()
    shot(page, "field-base-resident-tags")
    page.click("#resident-form .bd-save")
    page.wait_for_selector(".bd-household .bd-list .badge[data-state=saved]")
    assert "张三" in page.inner_text(".bd-household")
    shot(page, "field-base-household-residents")
    assert outbox_states(page, "resident.create") == ["saved"]

    context.set_offline(False)
    page.wait_for_function(
        "() => window.fieldApp.outbox.items({kind: 'resident.create'})[0].state === 'sent'",
        timeout=30000,
    )
    resident = Resident.objects.get(household=place)
    assert (resident.tags, resident.tag_levels) == (["disabled"], {"disabled": "二级"})
    assert (resident.id_number, str(resident.birth_date), resident.sex) == (
        good,
        "1949-12-31",
        "F",
    )
    assert real_errors(page) == []


def test_a_household_and_its_resident_made_offline_arrive_together(place, phone):
    context, page = phone
    go(page, "/basedata", "[data-catalogues]")
    context.set_offline(True)
    go(page, "/households/new", "#household-form")
    page.fill("#household-form [name=address]", "中山路7号1栋1单元101")
    page.click("#household-form .bd-button >> text=我的位置")
    page.select_option("#household-form [name=building_id]", str(place.building_id))
    page.click("#household-form .bd-save")
    page.wait_for_selector(".bd-household[data-id^='new:'] .badge[data-state=saved]")
    page.click(".bd-household a.bd-button >> text=新增居民")
    page.wait_for_selector("#resident-form")
    page.fill("#resident-form [name=name]", "李四")
    page.fill("#resident-form [name=id_number]", id_number("50011819900101123"))
    page.click("#resident-form [name=phone]")
    page.wait_for_function(
        "() => document.querySelector('#resident-form [name=sex]').value === 'M'"
    )
    page.click("#resident-form .bd-save")
    page.wait_for_selector(".bd-household .bd-list .badge[data-state=saved]")
    assert "李四" in page.inner_text(".bd-household")

    context.set_offline(False)
    page.wait_for_function(
        "() => window.fieldApp.outbox.items().length === 2"
        " && window.fieldApp.outbox.items().every(i => i.state === 'sent')",
        timeout=30000,
    )
    resident = Resident.objects.get(name="李四")
    assert resident.household.address == "中山路7号1栋1单元101"
    assert resident.household.building_id == place.building_id
    assert resident.household.grid == place.grid
    assert real_errors(page) == []


def test_a_unit_and_a_building_checked_on_the_phone(place, phone):
    context, page = phone
    building = place.building
    go(page, "/basedata?tab=units", f"[data-catalogues$=',{UnitType.objects.count()}']")
    context.set_offline(True)

    go(page, "/units/new", "#unit-form")
    page.fill("#unit-form [name=name]", "老王面馆")
    page.select_option("#unit-form [name=type]", "restaurant")
    page.fill("#unit-form [name=credit_code]", "91350100M000100Y44")  # a wrong check character
    page.fill("#unit-form [name=employees]", "3")
    page.click("#unit-form .bd-button >> text=我的位置")
    page.click("#unit-form .bd-save")
    page.wait_for_selector("[data-error-for=credit_code]:not([hidden])")
    assert "统一社会信用代码" in page.inner_text("[data-error-for=credit_code]")
    assert outbox_states(page, "unit.create") == []
    page.fill("#unit-form [name=credit_code]", "91350100m000100y43")  # typed in lower case
    page.click("#unit-form .bd-save")
    page.wait_for_selector(".bd-page .badge[data-state=saved]")
    assert outbox_states(page, "unit.create") == ["saved"]

    go(page, f"/buildings/{building.pk}", "#building-form")
    page.fill("#building-form [name=floors]", "0")
    page.click("#building-form .bd-save")
    page.wait_for_selector("[data-error-for=floors]:not([hidden])")
    page.fill("#building-form [name=floors]", "7")
    page.click("#building-form .bd-save")
    page.wait_for_selector("#building-form")
    page.wait_for_selector(".bd-page .badge[data-state=saved]")
    shot(page, "field-base-building")
    assert outbox_states(page, "building.update") == ["saved"]

    context.set_offline(False)
    page.wait_for_function(
        "() => window.fieldApp.outbox.items().every(i => i.state === 'sent')", timeout=30000
    )
    unit = Unit.objects.get(name="老王面馆")
    assert (unit.type.code, unit.credit_code, unit.employees, unit.grid) == (
        "restaurant",
        "91350100M000100Y43",
        3,
        place.grid,
    )
    building.refresh_from_db()
    assert building.floors == 7
    assert real_errors(page) == []


@pytest.fixture
def ledger_sheet(users, tree):
    """Two items the worker's grid types monthly and the rules between them, as data."""
    group = IndicatorGroup.objects.order_by("order").first()
    elderly = Indicator.objects.create(
        code="BASE_ALONE_ELDERLY",
        name="独居老人数",
        unit="人",
        group=group,
        value_type="integer",
        min_value=Decimal(0),
        source="collected",
        level="grid",
        period_type="month",
        aggregation="sum",
        time_aggregation="latest",
    )
    visited = Indicator.objects.create(
        code="BASE_ALONE_VISITED",
        name="独居老人走访人数",
        unit="人",
        group=group,
        value_type="integer",
        min_value=Decimal(0),
        source="collected",
        level="grid",
        period_type="month",
        aggregation="sum",
        time_aggregation="sum",
    )
    # Due late and long open, so last month's sheet (what the phone fills) is not locked.
    template = ReportTemplate.objects.create(
        owner=users.department.department,
        code="base-alone-elderly",
        title="独居老人关爱情况表",
        period_type="month",
        due_day=28,
        grace_days=60,
    )
    for order, indicator in enumerate([elderly, visited], 1):
        TemplateColumn.objects.create(template=template, order=order, indicator=indicator)
    ValidationRule.objects.create(
        code="base-visited-le-alone",
        left=visited,
        operator="<=",
        right=elderly,
        message="走访人数不能超过独居老人数",
    )
    return elderly, visited


def test_a_broken_ledger_rule_blocks_saving_on_the_phone(ledger_sheet, phone):
    context, page = phone
    elderly, visited = ledger_sheet
    go(page, "/ledger", "#ledger-form")
    assert "独居老人数" in page.inner_text("#ledger-form")

    context.set_offline(True)
    page.fill(f"[name={elderly.code}]", "12")
    page.fill(f"[name={visited.code}]", "15")
    slot = f"[data-error-for={visited.code}]"
    page.wait_for_selector(f"{slot}:not([hidden])")
    assert "走访人数不能超过独居老人数" in page.inner_text(slot)
    assert "独居老人走访人数" in page.inner_text(slot)  # named by its indicator
    assert page.is_disabled(".lg-bar .bd-save")
    shot(page, "field-base-ledger-rule")
    # The form's own submit (Enter on the keyboard) is refused as well.
    page.press(f"[name={visited.code}]", "Enter")
    assert outbox_states(page, "ledger.save") == []

    page.fill(f"[name={visited.code}]", "abc")
    page.wait_for_function(f"() => document.querySelector('{slot}').textContent.includes('abc')")
    page.fill(f"[name={visited.code}]", "9")
    page.wait_for_selector(f"{slot}[hidden]", state="attached")
    assert page.is_enabled(".lg-bar .bd-save")
    page.click(".lg-bar .bd-save")
    page.wait_for_selector(".lg-page .badge[data-state=saved]")
    assert outbox_states(page, "ledger.save") == ["saved"]
    assert not LedgerEntry.objects.exists()

    context.set_offline(False)
    page.wait_for_function(
        "() => window.fieldApp.outbox.items({kind: 'ledger.save'})[0].state === 'sent'",
        timeout=30000,
    )
    values = {e.indicator.code: e.number for e in LedgerEntry.objects.select_related("indicator")}
    assert values == {elderly.code: Decimal("12.0000"), visited.code: Decimal("9.0000")}
    go(page, "/ledger", "#ledger-form")
    assert page.input_value(f"[name={visited.code}]") == "9"
    assert real_errors(page) == []
