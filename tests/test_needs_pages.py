"""The community's needs pages (#20): the board, one need, the services list and the QR
posters, rendered per role from the scoped querysets. Another community's needs are absent;
providers go to their inbox; departments are refused."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from grids.models import AuditLog, Role
from needs.catalogue import seed
from needs.models import Need, NeedStatus, ServiceKind
from needs.services import dispatch, intake, providers, review
from needs.services.public import intake_key
from tests.conftest import centre_of


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def raise_need(user, grid, title, kind="elderly", **data):
    return intake.raise_need(
        user,
        {"kind": kind, "title": title, "location": centre_of(grid), **data},
        source="grid_worker" if user.role == Role.GRID_WORKER else "staff",
    )


@pytest.fixture
def loop(tree, users, make_user):
    """In community (1,1): a submitted need with a contact, an accepted one with a confirmed
    volunteer nearby, and one dispatched to it; in community (2,2): another community's need."""
    seed(ServiceKind)  # a transactional test's flush may have emptied what the migration seeded
    grid = tree.grids[(1, 1, 1)]
    mine = raise_need(
        users.worker, grid, "独居老人助餐", contact_name="王秀英", contact_phone="13812345678"
    )
    accepted = raise_need(users.community, grid, "楼道灯坏了", kind="plumbing", accept=True)
    sent = raise_need(users.community, grid, "帮忙代购药品", kind="errands", accept=True)
    helper = providers.create(
        users.community,
        {
            "kind": "volunteer",
            "name": "李建国",
            "phone": "13900001111",
            "community": tree.communities[(1, 1)].pk,
            "location": Point(centre_of(grid).x + 0.003, centre_of(grid).y, srid=4326),
            "offers": [
                {"kind": "plumbing", "capacity": 2, "availability": "周末全天"},
                {"kind": "errands", "capacity": 1},
            ],
        },
    )
    account = make_user("helper", Role.PROVIDER)
    helper.users.add(account)
    d = dispatch.send(sent, helper, helper.offers.get(kind__code="errands"), users.community, 2)
    theirs = raise_need(users.other_worker, tree.grids[(2, 2, 2)], "别处的微心愿")
    return SimpleNamespace(
        mine=mine,
        accepted=accepted,
        sent=Need.objects.get(pk=sent.pk),
        dispatch=d,
        theirs=theirs,
        helper=helper,
        account=account,
    )


def titles(response) -> set[str]:
    return {need.title for column in response.context["columns"] for need in column["cards"]}


@pytest.mark.parametrize("path", ["/needs/", "/needs/1/", "/needs/services/", "/needs/posters/"])
def test_anonymous_users_are_sent_to_log_in(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    "who,expected",
    [
        ("community", {"独居老人助餐", "楼道灯坏了", "帮忙代购药品"}),
        ("street", {"独居老人助餐", "楼道灯坏了", "帮忙代购药品"}),
        ("district", {"独居老人助餐", "楼道灯坏了", "帮忙代购药品", "别处的微心愿"}),
        ("admin", {"独居老人助餐", "楼道灯坏了", "帮忙代购药品", "别处的微心愿"}),
        ("worker", {"独居老人助餐", "楼道灯坏了", "帮忙代购药品"}),
        ("other_worker", {"别处的微心愿"}),
    ],
)
def test_the_board_shows_what_the_role_sees(users, loop, who, expected):
    response = client_for(getattr(users, who)).get("/needs/")
    assert response.status_code == 200
    assert titles(response) == expected
    html = response.content.decode()
    if "别处的微心愿" not in expected:
        assert "别处的微心愿" not in html


def test_the_board_has_columns_with_counts_in_chinese(users, loop):
    response = client_for(users.community).get("/needs/")
    html = response.content.decode()
    columns = {c["status"]: c for c in response.context["columns"]}
    assert [c["label"] for c in response.context["columns"]] == [
        "待审核",
        "待派单",
        "已派单",
        "服务中",
        "待确认",
        "已完成",
    ]
    assert (columns["submitted"]["count"], columns["accepted"]["count"]) == (1, 1)
    assert columns["dispatched"]["count"] == 1
    assert "需求清单" in html and "助老助餐" in html
    assert response.context["figures"]["open"] == 3


def test_the_board_filters_by_kind_grid_and_overdue(users, loop, tree):
    c = client_for(users.community)
    assert titles(c.get("/needs/?kind=plumbing")) == {"楼道灯坏了"}
    assert titles(c.get(f"/needs/?grid={tree.grids[(1, 1, 2)].pk}")) == set()
    assert titles(c.get(f"/needs/?grid={tree.grids[(1, 1, 1)].pk}")) == {
        "独居老人助餐",
        "楼道灯坏了",
        "帮忙代购药品",
    }
    Need.objects.filter(pk=loop.accepted.pk).update(overdue=True)
    assert titles(c.get("/needs/?overdue=1")) == {"楼道灯坏了"}
    assert titles(c.get("/needs/?q=代购")) == {"帮忙代购药品"}
    # Junk filters are ignored, never a 500.
    for junk in ("kind=nope", "grid=abc", "grid=²", "community=99999999999", "overdue=x"):
        assert c.get(f"/needs/?{junk}").status_code == 200


def test_the_board_costs_the_same_queries_for_more_needs(users, loop, tree):
    c = client_for(users.community)
    c.get("/needs/")  # warm: session, user, catalogue caches
    with CaptureQueriesContext(connection) as before:
        c.get("/needs/")
    for i in range(12):
        raise_need(users.worker, tree.grids[(1, 1, 1)], f"新需求{i}", kind="tutoring")
    with CaptureQueriesContext(connection) as after:
        response = c.get("/needs/")
    assert len(titles(response)) == 15
    assert len(after) == len(before) <= 12


def test_a_column_shows_the_most_pressing_first_and_counts_the_rest(users, loop, tree):
    grid = tree.grids[(1, 1, 1)]
    for i in range(32):
        raise_need(users.worker, grid, f"排队{i:02d}", kind="tutoring")
    urgent = raise_need(users.worker, grid, "紧急送医", kind="health", urgency="urgent")
    response = client_for(users.community).get("/needs/")
    submitted = response.context["columns"][0]
    assert submitted["count"] == 34
    assert len(submitted["cards"]) == 30 and submitted["more"] == 4
    assert submitted["cards"][0].pk == urgent.pk
    assert submitted["cards"][1].title == "独居老人助餐"  # then the longest waiting
    assert "还有 4 条" in response.content.decode()


@pytest.mark.parametrize("path", ["/needs/", "/needs/services/", "/needs/posters/"])
def test_departments_are_refused_and_providers_go_to_their_inbox(users, loop, path):
    assert client_for(users.department).get(path).status_code == 403
    response = client_for(loop.account).get(path)
    assert response.status_code == 302 and response["Location"] == "/needs/inbox/"


def test_the_detail_page_of_another_community_is_not_found(users, loop):
    assert client_for(users.community).get(f"/needs/{loop.theirs.pk}/").status_code == 404
    assert client_for(users.other_worker).get(f"/needs/{loop.mine.pk}/").status_code == 404
    assert client_for(users.department).get(f"/needs/{loop.mine.pk}/").status_code == 403
    response = client_for(loop.account).get(f"/needs/{loop.sent.pk}/")
    assert response.status_code == 302


def test_review_steps_for_the_community_not_for_the_grid_worker(users, loop):
    html = client_for(users.community).get(f"/needs/{loop.mine.pk}/").content.decode()
    assert 'data-step="accept"' in html and 'data-step="decline"' in html
    assert "王秀英" in html and "13812345678" in html
    worker = client_for(users.worker).get(f"/needs/{loop.mine.pk}/").content.decode()
    assert 'data-step="accept"' not in worker and 'data-step="decline"' not in worker
    assert "暂无待你处理的环节" in worker


def test_contact_is_masked_for_the_district_and_unmasked_reads_are_audited(users, loop):
    html = client_for(users.district).get(f"/needs/{loop.mine.pk}/").content.decode()
    assert "王秀英" not in html and "13812345678" not in html
    assert "王**" in html and "138****5678" in html
    AuditLog.objects.all().delete()
    client_for(users.community).get(f"/needs/{loop.mine.pk}/")
    log = AuditLog.objects.get()
    assert (log.model, log.object_ids, log.channel) == ("need", [loop.mine.pk], "page")


def test_the_candidates_table_of_an_accepted_need(users, loop):
    response = client_for(users.community).get(f"/needs/{loop.accepted.pk}/")
    html = response.content.decode()
    (candidate,) = response.context["candidates"]
    assert candidate.eligible and candidate.provider.pk == loop.helper.pk
    # 0.003° of longitude at 29.3°N is about 290 m.
    assert re.search(r"2[89]\d 米", html)
    for word in ("服务方", "类型", "距离", "在办", "余量", "不可派原因", "派单", "志愿者"):
        assert word in html
    assert 'data-step="dispatch"' in html and f'data-provider="{loop.helper.pk}"' in html


def test_a_full_candidate_says_why_it_cannot_take_the_need(users, loop, tree):
    second = raise_need(users.community, tree.grids[(1, 1, 1)], "再代购一次", kind="errands")
    review.accept(second, users.community, second.version)
    html = client_for(users.community).get(f"/needs/{second.pk}/").content.decode()
    assert "余量已满" in html
    assert 'data-step="dispatch"' not in html


def test_duplicates_are_offered_to_merge(users, loop, tree):
    again = raise_need(users.worker, tree.grids[(1, 1, 1)], "独居老人助餐（重复）")
    response = client_for(users.community).get(f"/needs/{again.pk}/")
    assert [n.pk for n in response.context["duplicates"]] == [loop.mine.pk]
    assert f'data-into="{loop.mine.pk}"' in response.content.decode()


def test_the_dispatched_need_shows_the_dispatch_and_the_timeline(users, loop):
    html = client_for(users.community).get(f"/needs/{loop.sent.pk}/").content.decode()
    assert "李建国" in html and "待接单" in html
    assert 'data-step="withdraw"' in html
    assert 'data-action="raised"' in html and 'data-action="dispatched"' in html


def test_the_grid_worker_confirms_a_reported_need(users, loop):
    d = dispatch.accept(loop.dispatch, loop.account, loop.dispatch.version)
    dispatch.report(d, loop.account, d.version, "已送药上门", "1.5")
    html = client_for(users.worker).get(f"/needs/{loop.sent.pk}/").content.decode()
    assert 'data-step="confirm"' in html and "非常满意" in html
    assert "已送药上门" in html


def test_the_services_list_per_role(users, loop, tree, make_user):
    pending = providers.register(
        {
            "kind": "party_member",
            "name": "赵红梅",
            "phone": "13700002222",
            "password": "a-long-password-1",
            "community": tree.communities[(1, 1)].pk,
            "offers": [{"kind": "legal"}],
        }
    )
    elsewhere = providers.create(
        users.admin,
        {
            "kind": "unit",
            "name": "别处物业公司",
            "community": tree.communities[(2, 2)].pk,
            "location": centre_of(tree.grids[(2, 2, 1)]),
        },
    )
    c = client_for(users.community)
    response = c.get("/needs/services/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "服务清单" in html and "李建国" in html and "周末全天" in html
    assert [p.pk for p in response.context["pending"]] == [pending.pk]
    assert "别处物业公司" not in html and elsewhere.pk
    # A district centre sees names of people masked and no personal phone.
    html = client_for(users.district).get("/needs/services/").content.decode()
    assert "李建国" not in html and "李**" in html and "13900001111" not in html
    # A grid worker reads its community's confirmed providers only.
    html = client_for(users.worker).get("/needs/services/").content.decode()
    assert "李建国" in html and "赵红梅" not in html


def test_posters_one_per_grid_with_both_codes(users, loop, tree):
    response = client_for(users.community).get("/needs/posters/")
    html = response.content.decode()
    assert response.status_code == 200
    sheets = response.context["sheets"]
    assert [s["grid"].pk for s in sheets] == [tree.grids[(1, 1, 1)].pk, tree.grids[(1, 1, 2)].pk]
    key = intake_key(tree.grids[(1, 1, 1)])
    assert f"http://testserver/needs/p/{key}/" in html
    assert f"http://testserver/needs/join/{key}/" in html
    assert html.count("<svg") >= 4 and "扫码提交微心愿" in html and "双报到" in html
    assert "社区11" in html and "网格111" in html
    # The street centre picks a community first; the other street's is not offered.
    street = client_for(users.street).get("/needs/posters/")
    assert street.context["sheets"] == []
    assert {r.pk for r in street.context["communities"]} == {
        tree.communities[(1, 1)].pk,
        tree.communities[(1, 2)].pk,
    }
    chosen = client_for(users.street).get(
        f"/needs/posters/?community={tree.communities[(1, 2)].pk}"
    )
    assert len(chosen.context["sheets"]) == 2
    other = client_for(users.street).get(f"/needs/posters/?community={tree.communities[(2, 2)].pk}")
    assert other.context["sheets"] == []
    assert client_for(users.worker).get("/needs/posters/").context["sheets"][0]["grid"].pk == (
        tree.grids[(1, 1, 1)].pk
    )


def test_closed_needs_say_so(users, loop):
    review.decline(loop.mine, users.community, loop.mine.version, "不属于社区服务范围")
    html = client_for(users.community).get(f"/needs/{loop.mine.pk}/").content.decode()
    assert "不予受理" in html and "不属于社区服务范围" in html
    assert "这条需求已办结" in html
    assert Need.objects.get(pk=loop.mine.pk).status == NeedStatus.DECLINED
