"""一表通 through the pages, in a real browser (Debian's Chromium driven by Playwright): a
department brings its Excel form in (title, two-row merged header, one item nobody collects
yet), confirms the mapping; a grid worker enters the new item in the ledger (a broken rule
first), saves and submits; the community generates the department's report and downloads it
as .xlsx in the department's own layout."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from reports.models import (
    FormImport,
    Indicator,
    LedgerEntry,
    LedgerSubmission,
    ReportRun,
    ReportTemplate,
    ValidationRule,
)
from reports.periods import Period
from reports.services.indicators import sync_derived
from tests.browser_support import ARTIFACTS, CHROMIUM, browser  # noqa: F401
from tests.test_incident_browser import log_in  # noqa: F401

pytestmark = [
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TITLE = "永川区老年人服务情况统计表（2026年10月）"
NEW_HEADING = "养老服务补贴发放人数（人）"


def department_form() -> bytes:
    """A department's form as departments make them: a title across the width, a two-row
    header with 人口情况 merged over three items, units in the headings, two sample rows and
    a footer."""
    wb = Workbook()
    ws = wb.active
    ws.title = "统计表"
    ws["A1"] = TITLE
    ws.merge_cells("A1:F1")
    ws["A2"], ws["B2"], ws["C2"], ws["F2"] = "序号", "网格名称", "人口情况", NEW_HEADING
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:B3")
    ws.merge_cells("C2:E2")
    ws.merge_cells("F2:F3")
    ws["C3"], ws["D3"], ws["E3"] = "户数（户）", "常住人口（人）", "60岁以上老人数（人）"
    ws.append([1, "示例社区第1网格", 320, 815, 166, 12])
    ws.append([2, "示例社区第2网格", 298, 760, 140, 9])
    ws.append(["合计", "", 618, 1575, 306, 21])
    ws.append(["填报人：", "", "审核人：", "", "填报日期："])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_a_form_brought_in_filled_and_generated_in_the_browser(
    log_in,  # noqa: F811
    live_server,
    users,
    tree,
    tmp_path,
):
    sync_derived()
    grid = tree.grids[(1, 1, 1)]
    period = Period.containing(timezone.localdate(), "month")  # open whatever the date

    # ---- the department brings its form in --------------------------------------------------
    path = tmp_path / "老年人服务情况统计表.xlsx"
    path.write_bytes(department_form())
    department = log_in(users.department, "/reports/forms/import/")
    department.wait_for_selector(".import-page[data-ready='1']")
    # Not an Excel file: a clear message, nothing stored.
    bad = tmp_path / "notes.xlsx"
    bad.write_text("not a workbook")
    department.set_input_files("#upload-form [name=file]", str(bad))
    department.click("#upload-button")
    department.wait_for_selector("#flash.error")
    assert "Excel" in department.inner_text("#flash") or "xlsx" in department.inner_text("#flash")
    assert FormImport.objects.count() == 0

    department.set_input_files("#upload-form [name=file]", str(path))
    department.click("#upload-button")
    department.wait_for_selector(".import-page[data-proposed]")
    form = FormImport.objects.get()
    by_heading = {p["text"]: p for p in form.proposals}
    assert by_heading["户数（户）"]["choice"] == {"indicator": "POP_HOUSEHOLDS"}
    # Read as residents aged 60 or more on the period's last day (issue #17), the seeded
    # definition, rather than the elderly tag someone sets by hand.
    assert by_heading["60岁以上老人数（人）"]["choice"] == {"indicator": "POP_AGE_60"}
    new = by_heading[NEW_HEADING]
    assert "new" in new["choice"]
    row = f"#mapping-rows tr[data-column='{new['column']}']"
    assert department.input_value(f"{row} select[data-decision]") == "new"
    assert department.is_visible(f"{row} .new-spec")
    # The header as read, merged cells and all.
    assert "人口情况" in department.inner_text("#header-preview")
    assert department.input_value("#confirm-form [name=period_type]") == "month"
    assert department.input_value("#confirm-form [name=row_level]") == "grid"
    department.fill(f"{row} [data-key=code]", "ELDERLY_SUBSIDY")
    department.fill(f"{row} [data-key=name]", "养老服务补贴发放人数")
    department.fill("#confirm-form [name=code]", "civil-elderly-services")
    department.click("#confirm-button")
    department.wait_for_url(f"{live_server.url}/reports/?template=civil-elderly-services")
    assert "flash ok" in department.get_attribute("#flash", "class")
    template = ReportTemplate.objects.get(code="civil-elderly-services")
    assert template.title == "永川区老年人服务情况统计表"
    assert [c.indicator.code for c in template.columns.order_by("order")] == [
        "POP_HOUSEHOLDS",
        "POP_RESIDENTS",
        "POP_AGE_60",
        "ELDERLY_SUBSIDY",
    ]
    subsidy = Indicator.objects.get(code="ELDERLY_SUBSIDY")
    assert (subsidy.source, subsidy.level, subsidy.period_type) == ("collected", "grid", "month")
    # A rule on the new item, as data.
    ValidationRule.objects.create(
        code="subsidy-cap",
        left=subsidy,
        operator="<=",
        constant=Decimal(500),
        message="补贴发放人数超过上限",
    )

    # ---- the grid worker fills it once in the ledger ------------------------------------------
    worker = log_in(users.worker, f"/reports/ledger/?period={period.key}")
    worker.wait_for_selector(".ledger-page[data-ready='1']")
    assert worker.is_visible("#missing")
    field = "#v-ELDERLY_SUBSIDY"
    assert worker.get_attribute(field, "type") == "number"
    needed = "tr[data-code='ELDERLY_SUBSIDY'] .needed"
    assert worker.get_attribute(needed, "title") == "永川区老年人服务情况统计表"
    # The derived items are there to check, not to type.
    assert "60周岁及以上人口" in worker.inner_text(".derived-section")
    worker.fill(field, "800")
    worker.click("#save")
    worker.wait_for_selector("tr[data-code='ELDERLY_SUBSIDY'].has-error")
    assert "补贴发放人数超过上限" in worker.inner_text("[data-error-for='ELDERLY_SUBSIDY']")
    assert not LedgerEntry.objects.exists()
    worker.fill(field, "36")
    worker.click("#save")
    worker.wait_for_selector(".ledger-page[data-saved='1']")
    assert "flash ok" in worker.get_attribute("#flash", "class")
    entry = LedgerEntry.objects.get()
    assert (entry.grid, entry.number, entry.version) == (grid, Decimal("36.0000"), 1)
    worker.click("#submit-ledger")
    worker.wait_for_selector("#submitted-banner")
    assert LedgerSubmission.objects.filter(grid=grid, period_start=period.start).exists()
    worker.click("#history summary")
    worker.wait_for_selector("#history[data-loaded]")
    assert "36" in worker.inner_text("#history-rows")

    # ---- the community generates the department's report and downloads it -------------------
    community = log_in(users.community, "/reports/?template=civil-elderly-services")
    community.wait_for_selector("body[data-ready='1']")
    community.select_option("#generate-form [name=period]", period.key)
    community.click("#generate-button")
    community.wait_for_selector("body[data-generated='civil-elderly-services']")
    preview = community.inner_text("#preview")
    assert grid.name in preview and "36" in preview
    with community.expect_download() as download:
        community.click("#download-xlsx")
    saved = tmp_path / "report.xlsx"
    download.value.save_as(saved)
    ws = load_workbook(saved).active
    assert ws["A1"].value == f"永川区老年人服务情况统计表（{period.label}）"
    merged = {str(r) for r in ws.merged_cells.ranges}
    headings = {
        cell.value: cell.coordinate for row in ws.iter_rows(max_row=6) for cell in row if cell.value
    }
    assert "人口情况" in headings and NEW_HEADING in headings
    population = headings["人口情况"]
    assert any(r.startswith(f"{population}:") for r in merged)  # merged over its three items
    values = {row[1]: row for row in ws.iter_rows(values_only=True) if row and row[1] == grid.name}
    assert 36 in values[grid.name]
    assert ReportRun.objects.filter(template=template, format="xlsx").exists()

    ARTIFACTS.mkdir(exist_ok=True)
    community.screenshot(path=str(ARTIFACTS / "report-generated.png"), full_page=True)
    worker.screenshot(path=str(ARTIFACTS / "report-ledger.png"), full_page=True)
    for page in (department, worker, community):
        assert [e for e in page.errors if "400" not in e and "Bad Request" not in e] == []
