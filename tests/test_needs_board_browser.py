"""The community's needs board in a real browser (#20, Debian's Chromium through Playwright):
community staff accept a submitted need, merge its duplicate into it, dispatch it to the top
candidate and watch it move across the board; a second tab left open on the old state gets
the 409 told in Chinese and reloads the current state. Screenshots of the board (1440×900,
1920×1080, 390×844) and of the need's page (1440×900, 1920×1080) go to test-artifacts/."""

from __future__ import annotations

import re

import pytest
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point

from grids.models import Role
from needs.catalogue import seed
from needs.models import Need, NeedStatus, Provider, ServiceKind
from needs.services import intake, providers
from tests.browser_support import (  # noqa: F401
    ARTIFACTS,
    browser,
    needs_chromium,
    open_page,
    outside_requests,
    screenshot,
)
from tests.conftest import centre_of
from tests.test_words_browser import INTERFACE, english_words

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]


def raise_need(user, grid, title, kind="elderly", dx=0.0, **data):
    centre = centre_of(grid)
    return intake.raise_need(
        user,
        {
            "kind": kind,
            "title": title,
            "location": Point(centre.x + dx, centre.y, srid=4326),
            **data,
        },
        source="grid_worker" if user.role == Role.GRID_WORKER else "staff",
    )


@pytest.fixture
def scene(tree, users, make_user):
    """Community (1,1): a need for meals raised twice (the second a duplicate), a few others
    in every state of the loop so the board is not empty; two volunteers who serve meals
    (the nearer is the top candidate) and one full provider."""
    seed(ServiceKind)
    grid = tree.grids[(1, 1, 1)]
    need = raise_need(
        users.worker,
        grid,
        "独居老人每日午餐",
        description="王奶奶独居，行动不便，希望每天有人送午餐。",
        address="幸福路12号3单元",
        contact_name="王秀英",
        contact_phone="13812345678",
    )
    duplicate = raise_need(users.worker, grid, "王奶奶吃饭困难", dx=0.0002)
    for title, kind, urgency in [
        ("孩子暑假作业辅导", "tutoring", "normal"),
        ("楼道灯不亮", "plumbing", "urgent"),
        ("想了解医保报销政策", "policy", "normal"),
    ]:
        raise_need(users.community, tree.grids[(1, 1, 2)], title, kind=kind, urgency=urgency)
    later = raise_need(users.community, grid, "帮忙代缴水电费", kind="errands", accept=True)
    Need.objects.filter(pk=later.pk).update(overdue=True)
    centre = centre_of(grid)
    near, far = (
        providers.create(
            users.community,
            {
                "kind": kind,
                "name": name,
                "phone": phone,
                "organisation": organisation,
                "community": tree.communities[(1, 1)].pk,
                "location": Point(centre.x + dx, centre.y + 0.001, srid=4326),
                "offers": [{"kind": "elderly", "capacity": 2, "availability": availability}],
            },
        )
        for kind, name, phone, organisation, dx, availability in [
            ("volunteer", "李建国", "13900001111", "", 0.002, "工作日中午"),
            ("co_building", "幸福路社区食堂", "02388886666", "永川区餐饮协会", 0.02, "每天"),
        ]
    )
    account = make_user("helper", Role.PROVIDER)
    near.users.add(account)
    return {"need": need, "duplicate": duplicate, "near": near, "far": far, "grid": grid}


def status_of(page) -> str:
    return page.get_attribute(".nd-page", "data-status")


def test_review_merge_dispatch_and_a_stale_tab(browser, live_server, users, scene):  # noqa: F811
    need, duplicate = scene["need"], scene["duplicate"]
    board = open_page(
        browser, live_server.url, users.community, path="/needs/", wait_for=".nb-page[data-ready]"
    )
    assert board.inner_text("[data-count=submitted]") == "5"
    card = f"#col-submitted li[data-need='{need.pk}']"
    assert "独居老人每日午餐" in board.inner_text(card)
    screenshot(board, "needs-board-desk")

    # Review: accept from the need's page.
    board.click(f"{card} a")
    board.wait_for_selector(".nd-page[data-ready]")
    assert status_of(board) == "submitted"
    assert "王秀英" in board.inner_text(".nd-fields")
    board.click("button[data-step=accept]")
    board.wait_for_selector(".nd-page[data-status=accepted][data-ready]")
    assert "flash ok" in board.get_attribute("#flash", "class")
    assert "已受理" in board.inner_text("#flash")

    # The duplicate's page offers to merge it into the accepted need.
    board.goto(f"{live_server.url}/needs/{duplicate.pk}/")
    board.wait_for_selector(".nd-page[data-ready]")
    board.once("dialog", lambda dialog: dialog.accept())
    board.click(f"button[data-step=merge][data-into='{need.pk}']")
    board.wait_for_selector(".nd-page[data-status=merged][data-ready]")
    assert Need.objects.get(pk=duplicate.pk).merged_into_id == need.pk

    # Back on the need: the candidates, nearest first; a second tab opened now goes stale.
    board.goto(f"{live_server.url}/needs/{need.pk}/")
    board.wait_for_selector("#candidates tr[data-provider]")
    rows = board.eval_on_selector_all(
        "#candidates tr[data-provider]", "rows => rows.map(r => r.dataset.provider)"
    )
    assert rows == [str(scene["near"].pk), str(scene["far"].pk)]
    first = board.inner_text("#candidates tr[data-provider]:first-child")
    assert "李建国" in first and "米" in first
    assert "公里" in board.inner_text("#candidates tr[data-provider]:nth-child(2)")
    stale = browser.new_page(viewport={"width": 1440, "height": 900})
    stale.context.add_cookies(board.context.cookies())
    stale.errors = []
    stale.on("pageerror", lambda e: stale.errors.append(str(e)))
    stale.goto(f"{live_server.url}/needs/{need.pk}/")
    stale.wait_for_selector("#candidates button[data-step=dispatch]")
    screenshot(board, "needs-detail-desk")
    board.set_viewport_size({"width": 1920, "height": 1080})
    screenshot(board, "needs-detail-wide")
    board.set_viewport_size({"width": 1440, "height": 900})

    # Dispatch to the top candidate.
    board.click("#candidates tr[data-provider]:first-child button[data-step=dispatch]")
    board.wait_for_selector(".nd-page[data-status=dispatched][data-ready]")
    assert "李建国" in board.inner_text("#dispatches")
    actions = board.eval_on_selector_all("#timeline li", "li => li.map(x => x.dataset.action)")
    assert actions == ["raised", "accepted", "merged", "dispatched"]
    assert Need.objects.get(pk=need.pk).status == NeedStatus.DISPATCHED

    # The stale tab tries to dispatch to the other candidate: told in Chinese, then the
    # current state.
    stale.click("#candidates tr[data-provider]:nth-child(2) button[data-step=dispatch]")
    stale.wait_for_selector(".nd-page[data-status=dispatched][data-ready]")
    told = stale.inner_text("#flash")
    assert "别人已先改动了这条需求" in told, told
    assert "flash error" in stale.get_attribute("#flash", "class")
    assert stale.query_selector("#candidates") is None
    assert Need.objects.get(pk=need.pk).dispatches.get().provider_id == scene["near"].pk

    # The board shows it moved on.
    board.goto(f"{live_server.url}/needs/")
    board.wait_for_selector(".nb-page[data-ready]")
    assert board.query_selector(f"#col-dispatched li[data-need='{need.pk}']")
    assert board.inner_text("[data-count=submitted]") == "3"
    assert "李建国" in board.inner_text(f"#col-dispatched li[data-need='{need.pk}']")

    # A need raised meanwhile (a grid worker's phone) appears without a reload.
    board.wait_for_selector("body[data-live=open]", timeout=15000)
    fresh = raise_need(users.worker, scene["grid"], "电动车充电需要指导", kind="safety")
    board.wait_for_selector(f"#col-submitted li[data-need='{fresh.pk}']", timeout=20000)
    assert board.inner_text("[data-count=submitted]") == "4"
    screenshot(board, "needs-board-desk-after")
    board.set_viewport_size({"width": 1920, "height": 1080})
    screenshot(board, "needs-board-wide")
    phone = open_page(
        browser,
        live_server.url,
        users.community,
        path="/needs/",
        size="phone",
        wait_for=".nb-page[data-ready]",
    )
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(phone, "needs-board-phone")
    for page in (board, stale, phone):
        assert page.errors == [], page.errors
    assert outside_requests(board) == [] and outside_requests(phone) == []
    assert Provider.objects.count() == 2


def test_services_list_confirms_a_registration_on_the_map(
    browser,  # noqa: F811
    live_server,
    users,
    scene,
    tree,
):
    pending = providers.register(
        {
            "kind": "party_member",
            "name": "赵红梅",
            "phone": "13700002222",
            "password": "a-long-password-1",
            "organisation": "区财政局机关党支部",
            "community": tree.communities[(1, 1)].pk,
            "offers": [{"kind": "legal", "availability": "周六上午"}],
        }
    )
    page = open_page(
        browser,
        live_server.url,
        users.community,
        path="/needs/services/",
        wait_for=".ns-page[data-ready]",
    )
    # The community enters a unit it knows: listed to confirm, like a registration.
    page.click("#new-provider summary")
    page.select_option("form[data-new-provider] [name=kind]", "unit")
    page.fill("form[data-new-provider] [name=name]", "永川区便民维修店")
    page.fill("form[data-new-provider] [name=phone]", "02349001234")
    page.select_option("form[data-new-provider] [name=offer_kind]", "appliance")
    page.fill("form[data-new-provider] [name=availability]", "每天 9:00-18:00")
    page.click("form[data-new-provider] button[type=submit]")
    page.wait_for_selector("#flash.ok")
    entered = Provider.objects.get(name="永川区便民维修店")
    assert (entered.status, entered.community_id) == ("pending", tree.communities[(1, 1)].pk)
    assert entered.offers.get().kind.code == "appliance"
    assert page.query_selector(f".ns-pending-list li[data-provider='{entered.pk}']")
    page.wait_for_selector("body[data-services-map='1']", timeout=30000)
    row = f".ns-pending-list li[data-provider='{pending.pk}']"
    assert page.is_disabled(f"{row} button[data-confirm]")
    page.click(f"{row} button[data-pick]")
    centre = centre_of(scene["grid"])
    xy = page.evaluate(
        "([lon, lat]) => { const m = window.gridlineServices.view.map;"
        " m.jumpTo({ center: [lon, lat], zoom: 17 });"
        " const p = m.project([lon, lat]);"
        " const r = document.getElementById('services-map').getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        [centre.x, centre.y],
    )
    page.mouse.click(*xy)
    page.wait_for_selector(f"{row} button[data-confirm]:not([disabled])")
    screenshot(page, "needs-services-desk")
    page.click(f"{row} button[data-confirm]")
    page.wait_for_selector(row, state="detached")
    assert "登记已确认" in page.inner_text("#flash")
    pending.refresh_from_db()
    assert pending.status == "confirmed"
    metres = (
        Provider.objects.filter(pk=pending.pk)
        .annotate(d=Distance("location", centre, spheroid=True))
        .get()
        .d.m
    )
    assert metres < 5, metres
    assert pending.grid_id == scene["grid"].pk
    assert page.query_selector(f".ns-providers tr[data-provider='{pending.pk}']")
    page.screenshot(path=str(ARTIFACTS / "needs-services-desk-full.png"), full_page=True)
    assert page.errors == [] and outside_requests(page) == []


def test_posters_print_one_a4_page_per_grid(browser, live_server, users, scene):  # noqa: F811
    page = open_page(browser, live_server.url, users.community, path="/needs/posters/")
    assert page.eval_on_selector_all(".np-sheet", "s => s.length") == 2
    assert "扫码提交微心愿" in page.inner_text(".np-sheet")
    screenshot(page, "needs-posters-desk")
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(path=str(ARTIFACTS / "needs-posters.pdf"), prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 2  # one A4 page per grid
    # The first sheet as printed (A4 at 96 dpi: 794 × 1123 px), nothing of the site around it.
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})
    screenshot(page, "needs-poster-print")
    assert page.errors == [] and outside_requests(page) == []


def test_the_needs_pages_speak_chinese(browser, live_server, users, scene):  # noqa: F811
    """The words a person reads (tests/test_words_browser.py's rule) on every page of the
    board, the need's page in each kind of state, the services list and the posters."""
    accepted = Need.objects.filter(status=NeedStatus.ACCEPTED).first()
    page = open_page(browser, live_server.url, users.community, path="/needs/")
    paths = [
        "/needs/",
        "/needs/?kind=elderly&overdue=1",
        f"/needs/{scene['need'].pk}/",
        f"/needs/{accepted.pk}/",
        "/needs/services/",
        "/needs/posters/",
    ]
    usernames = frozenset(vars(users)[role].username for role in vars(users))
    problems = {}
    for path in paths:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        found = english_words(page.evaluate(INTERFACE), usernames)
        if found:
            problems[path] = found
    assert problems == {}
