"""The /field/devices/ page in Chromium (issue #18): Chinese, readable at 1440×900 and
390×844 without sideways scrolling, and a revoke asks first and then takes effect."""

from __future__ import annotations

import re

import pytest

from field.services import devices
from tests.browser_support import browser, needs_chromium, open_page, screenshot  # noqa: F401

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

ENGLISH = re.compile(r"[A-Za-z]{3,}")


@pytest.mark.parametrize("size", ["desk", "phone"])
def test_devices_page_in_a_browser(browser, live_server, users, make_user, tree, size):  # noqa: F811
    # Names as people have them (a bare username would be Latin letters on a Chinese page).
    users.worker.first_name, users.worker.last_name = "三", "张"
    users.worker.save()
    devices.register(users.worker, "张三的手机")
    colleague = make_user("colleague", "grid_worker", grid=tree.grids[(1, 1, 2)])
    colleague.first_name, colleague.last_name = "四", "李"
    colleague.save()
    device, _ = devices.register(colleague, "李四的手机")
    devices.revoke(device, users.community)
    page = open_page(browser, live_server.url, users.community, path="/field/devices/", size=size)
    page.wait_for_selector("#devices")
    assert page.errors == []
    body = page.inner_text("main")
    assert "外勤设备" in body and "张三的手机" in body and "等待手机清除数据" in body
    assert ENGLISH.findall(body) == []
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]
    screenshot(page, f"field-devices-{size}")

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("tr:has-text('张三的手机') button")
    assert users.worker.field_devices.get().revoked_at is None  # dismissed: nothing happens
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("tr:has-text('张三的手机') button")
    page.wait_for_selector(".flash")
    assert "已注销" in page.inner_text(".flash")
    assert users.worker.field_devices.get().revoked_at is not None
    screenshot(page, f"field-devices-{size}-revoked")
    page.close()
