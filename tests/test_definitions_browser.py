"""Defining an indicator as data on the page, in a real browser: the subject's fields come
from the registry, the preview follows every edit, a wrong value is named on its row, and
the saved indicator opens again for editing."""

from __future__ import annotations

import datetime as dt

import pytest

from grids.models import Resident
from reports.models import Indicator
from reports.services.indicators import ensure_groups
from tests.browser_support import CHROMIUM, browser  # noqa: F401
from tests.conftest import centre_of
from tests.test_incident_browser import log_in  # noqa: F401

pytestmark = [
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_definition_written_previewed_and_saved_on_the_page(
    log_in,  # noqa: F811
    live_server,
    users,
    tree,
    add_household,
):
    ensure_groups()
    household = add_household(centre_of(tree.grids[(1, 1, 1)]), registered_on=dt.date(2020, 1, 1))
    for birth in (dt.date(1930, 5, 1), dt.date(1990, 5, 1)):
        Resident.objects.create(
            household=household, name="王五", id_number="3" * 18, birth_date=birth, sex="F"
        )
    page = log_in(users.district, "/reports/definitions/")
    page.wait_for_selector(".definition-page[data-ready='1']")
    # Every resident, then only those aged 80 and over.
    assert page.text_content("#preview-total").split(":")[-1].strip().startswith("2")
    page.click("#add-condition")
    page.select_option("[data-part=field][data-row='0']", "age")
    page.select_option("[data-part=op][data-row='0']", ">=")
    before = page.get_attribute("#definition-form", "data-previewed")
    page.fill("[data-part=value][data-row='0']", "80")
    page.dispatch_event("[data-part=value][data-row='0']", "change")
    page.wait_for_function(
        f"() => document.querySelector('#definition-form').dataset.previewed !== '{before}'"
    )
    page.wait_for_function(
        "() => document.querySelector('#preview-total').textContent.includes(': 1')"
    )
    assert "80" in page.text_content("#description")
    # A number the field cannot take: named on its row.
    page.fill("[data-part=value][data-row='0']", "80.5")
    page.dispatch_event("[data-part=value][data-row='0']", "change")
    page.wait_for_selector("tr.has-problem[data-row='0']")
    problem = page.locator("#problems li").first
    assert problem.get_attribute("data-field") == "definition.where.0.value"
    # People read the condition's place ("条件 1 · 数值"), not the JSON path.
    assert "definition." not in problem.text_content()
    page.fill("[data-part=value][data-row='0']", "80")
    page.dispatch_event("[data-part=value][data-row='0']", "change")
    page.wait_for_selector("#problems", state="hidden")
    page.fill("input[name=code]", "POP_OLD")
    page.fill("input[name=name]", "高龄老人数")
    page.fill("input[name=unit]", "人")
    page.fill("input[name=aliases]", "八十岁以上老人，高龄老人")
    page.click("#save-button")
    page.wait_for_url("**/reports/definitions/?code=POP_OLD")
    indicator = Indicator.objects.get(code="POP_OLD")
    assert indicator.definition["where"] == [{"field": "age", "op": ">=", "value": 80}]
    assert indicator.aliases == ["八十岁以上老人", "高龄老人"]
    page.wait_for_selector(".definition-page[data-ready='1']")
    assert page.input_value("[data-part=value][data-row='0']") == "80"
    # The browser logs the preview's 400 (the wrong value above); nothing else went wrong.
    assert [e for e in page.errors if "status of 400" not in e] == []
