"""The needs app's models and their rules (issue #20): database constraints, who sees which
providers and dispatches, the provider role, photos' privacy, the services list's services
(双报到 registration, confirmation, offers), and boundary changes re-keying open needs."""

from __future__ import annotations

import pytest
from boundary_apply_helpers import approve, at, item, strip
from django.db import IntegrityError, transaction

from boundaries.services import changesets
from boundaries.services.apply import apply
from grids import keyed
from grids.models import Role, User
from needs.media import may_see_photo
from needs.models import (
    Dispatch,
    Need,
    NeedSource,
    Provider,
    ProviderKind,
    ProviderStatus,
    ServiceOffer,
)
from needs.services import dispatch, providers, review
from tests.needs_fixtures import add_provider, centre_of, photo, refused

pytestmark = pytest.mark.django_db


def integrity_error(fn) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


# --- constraints -------------------------------------------------------------------------------


def test_a_provider_account_has_no_jurisdiction(tree, make_user):
    assert make_user("p1", Role.PROVIDER).role == "provider"
    integrity_error(lambda: make_user("p2", Role.PROVIDER, region=tree.communities[(1, 1)]))
    integrity_error(lambda: make_user("p3", Role.PROVIDER, grid=tree.grids[(1, 1, 1)]))


def test_one_open_dispatch_per_need(needs_people, volunteer, accepted_need):
    dispatch.send(accepted_need, volunteer, None, needs_people.community, accepted_need.version)
    integrity_error(lambda: Dispatch.objects.create(need=accepted_need, provider=volunteer))
    Dispatch.objects.filter(need=accepted_need).update(status="declined")
    Dispatch.objects.create(need=accepted_need, provider=volunteer)


def test_satisfaction_and_confirmed_location_constraints(raise_need, tree, kinds):
    need = raise_need()
    integrity_error(lambda: Need.objects.filter(pk=need.pk).update(satisfaction=6))
    integrity_error(lambda: Need.objects.filter(pk=need.pk).update(merged_into=need.pk))
    integrity_error(
        lambda: Provider.objects.create(
            kind=ProviderKind.VOLUNTEER,
            name="无位置",
            community=tree.communities[(1, 1)],
            status=ProviderStatus.CONFIRMED,
        )
    )


# --- who sees what -----------------------------------------------------------------------------


def test_providers_visible_to(tree, needs_people, volunteer):
    p = needs_people
    pending = add_provider(
        tree.communities[(1, 1)], None, location=None, status=ProviderStatus.PENDING, name="待"
    )
    elsewhere = add_provider(
        tree.communities[(2, 2)], p.other_provider, location=centre_of(tree.grids[(2, 2, 1)])
    )
    seen = {name: set(Provider.objects.visible_to(u)) for name, u in vars(p).items()}
    assert seen["admin"] == seen["district"] == {volunteer, pending, elsewhere}
    assert seen["street"] == seen["community"] == {volunteer, pending}
    assert seen["worker"] == {volunteer}  # confirmed ones of its community
    assert seen["other_community"] == {elsewhere}
    assert seen["provider"] == {volunteer} and seen["other_provider"] == {elsewhere}
    assert seen["department"] == set()


def test_dispatches_visible_to(needs_people, volunteer, accepted_need):
    p = needs_people
    d = dispatch.send(accepted_need, volunteer, None, p.community, accepted_need.version)
    for user in (p.admin, p.community, p.street, p.district, p.worker, p.provider):
        assert list(Dispatch.objects.visible_to(user)) == [d], user
    for user in (p.other_provider, p.other_worker, p.other_community, p.department):
        assert not Dispatch.objects.visible_to(user).exists(), user


def test_photos_are_as_private_as_the_need(raise_need, needs_people, volunteer):
    p = needs_people
    need = raise_need(photos=[photo()])
    name = need.photos.get().image.name
    assert name.startswith(f"needs/{need.pk}/") and name.endswith(".jpg")
    assert may_see_photo(p.worker, name) and may_see_photo(p.community, name)
    assert not may_see_photo(p.other_worker, name)
    assert not may_see_photo(p.department, name)
    assert not may_see_photo(p.provider, name)
    need = review.accept(need, p.community, need.version)
    dispatch.send(need, volunteer, None, p.community, need.version)
    assert may_see_photo(p.provider, name)


def test_needs_and_providers_are_keyed_kinds():
    found = {k.key: k for k in keyed.all_keyed()}
    assert found["needs"].table == "needs_need" and "submitted" in found["needs"].where
    assert found["providers"].table == "needs_provider"


def test_boundary_change_rekeys_open_needs(tree, needs_people, raise_need, kinds):
    p = needs_people
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    moving = at(105.93)  # east today, west once the west grid grows to 105.935
    opened = raise_need(p.community, source=NeedSource.STAFF, location=moving)
    closed = raise_need(p.community, source=NeedSource.STAFF, location=moving)
    review.decline(closed, p.community, closed.version, "不予受理")
    unit = add_provider(tree.communities[(1, 1)], None, location=moving, name="单位")
    assert opened.grid == east and unit.grid is None  # created directly: not keyed yet
    Provider.objects.filter(pk=unit.pk).update(grid=east)

    change_set = changesets.create(user=p.worker, region=tree.communities[(1, 1)], title="调整")
    item(change_set, "500118001001001", strip(105.90, 105.935))
    item(change_set, "500118001001002", strip(105.935, 105.95))
    summary = apply(approve(change_set), p.community)

    assert summary["moved"]["needs"] == 1 and summary["moved"]["providers"] == 1
    assert Need.objects.get(pk=opened.pk).grid == west
    assert Need.objects.get(pk=closed.pk).grid == east
    assert Provider.objects.get(pk=unit.pk).grid == west


# --- the services list -------------------------------------------------------------------------


def registration(tree, **over) -> dict:
    return {
        "kind": ProviderKind.PARTY_MEMBER,
        "name": "赵党员",
        "phone": "139 0000 1111",
        "password": "a-long-Passphrase-2026",
        "organisation": "区财政局党支部",
        "community": tree.communities[(1, 1)].pk,
        "offers": [{"kind": "legal", "description": "合同咨询", "availability": "周末"}],
    } | over


def test_register_confirm_and_dispatch(tree, needs_people, raise_need, kinds):
    p = needs_people
    provider = providers.register(registration(tree), submitter="b" * 64)
    account = User.objects.get(username="13900001111")
    assert account.role == Role.PROVIDER and account.check_password("a-long-Passphrase-2026")
    assert provider.status == ProviderStatus.PENDING and provider.submitter == "b" * 64
    assert list(provider.users.all()) == [account]
    offer = provider.offers.get()
    assert list(offer.area.all()) == [tree.communities[(1, 1)]]
    assert p.community.notifications.filter(kind="need.registered").exists()
    with refused("already_registered"):
        providers.register(registration(tree, name="又一次"))
    with refused("required"):
        providers.confirm(provider, p.community, provider.version)  # no location yet
    with refused("not_allowed"):
        providers.confirm(
            provider, p.other_community, provider.version, centre_of(tree.grids[(1, 1, 2)])
        )
    provider = providers.confirm(
        provider, p.community, provider.version, centre_of(tree.grids[(1, 1, 2)])
    )
    assert provider.status == ProviderStatus.CONFIRMED and provider.grid == tree.grids[(1, 1, 2)]
    need = review.accept(n := raise_need(kind="legal"), p.community, n.version)
    d = dispatch.send(need, provider, None, p.community, need.version)
    assert dispatch.accept(d, account, d.version).status == "accepted"


def test_registration_refusals(tree, kinds):
    with refused("weak_password"):
        providers.register(registration(tree, password="123"))
    with refused("invalid"):
        providers.register(registration(tree, phone="电话"))
    with refused("invalid"):
        providers.register(registration(tree, community=tree.streets[1].pk))
    with refused("invalid"):
        providers.register(registration(tree, offers=[{"kind": "nonsense"}]))
    assert not Provider.objects.exists() and not User.objects.filter(role="provider").exists()


def test_refuse_and_suspend(tree, needs_people, volunteer, accepted_need):
    p = needs_people
    pending = providers.register(registration(tree))
    with refused("required"):
        providers.refuse(pending, p.community, pending.version, "")
    assert providers.refuse(pending, p.community, pending.version, "不在本社区").status == "refused"
    volunteer = providers.suspend(volunteer, p.community, volunteer.version, "暂停")
    with refused("provider_not_confirmed"):
        dispatch.send(accepted_need, volunteer, None, p.community, accepted_need.version)
    with refused("wrong_status"):
        providers.suspend(volunteer, p.community, volunteer.version)


def test_community_keeps_offers(tree, needs_people, volunteer, kinds):
    p = needs_people
    created = providers.create(
        p.community,
        {
            "kind": ProviderKind.UNIT,
            "name": "永川超市",
            "community": tree.communities[(1, 1)].pk,
            "location": centre_of(tree.grids[(1, 1, 1)]),
        },
    )
    assert created.status == ProviderStatus.CONFIRMED and created.grid == tree.grids[(1, 1, 1)]
    with refused("not_allowed"):
        providers.create(p.worker, {"kind": "unit", "name": "x", "community": created.community_id})
    offer = providers.add_offer(created, p.community, {"kind": "goods", "capacity": 3})
    with refused("invalid"):
        providers.update_offer(offer, p.community, offer.version, {"capacity": 0})
    offer = providers.update_offer(
        offer,
        p.community,
        offer.version,
        {"radius_m": 2000, "area": [tree.communities[(1, 1)].pk, tree.communities[(1, 2)].pk]},
    )
    assert offer.radius_m == 2000 and offer.area.count() == 2 and offer.version == 2
    providers.remove_offer(offer, p.community, offer.version)
    assert not ServiceOffer.objects.filter(pk=offer.pk).exists()


def test_a_provider_sees_nothing_else(tree, needs_people, volunteer, accepted_need, homes):
    """Every scoped queryset of the platform gives a provider's account nothing, except its
    own dispatches, their needs and its provider (grids.scoping: an unknown role sees
    nothing)."""
    from django.apps import apps

    p = needs_people
    dispatch.send(accepted_need, volunteer, None, p.community, accepted_need.version)
    own = {"needs.Need", "needs.Dispatch", "needs.Provider", "notifications.Notification"}
    seen = {}
    for model in apps.get_models():
        if not hasattr(model.objects, "visible_to") or model._meta.label in own:
            continue
        seen[model._meta.label] = model.objects.visible_to(p.provider).count()
    assert "grids.Household" in seen and "incidents.Incident" in seen
    assert {label: n for label, n in seen.items() if n} == {}
    assert Need.objects.visible_to(p.provider).count() == 1
    assert Dispatch.objects.visible_to(p.provider).count() == 1


def test_admin_reads_needs_scoped_and_masked(client, needs_people, raise_need, volunteer):
    p = needs_people
    need = raise_need()
    for user in (p.district, p.community):
        user.is_staff = True
        user.save()
    client.force_login(p.district)  # no personal data for the district centre
    page = client.get(f"/admin/needs/need/{need.pk}/change/").content.decode()
    assert "王*" in page and "王大妈" not in page and "139****5678" in page
    assert client.get("/admin/needs/need/").status_code == 200
    assert client.get(f"/admin/needs/provider/{volunteer.pk}/change/").status_code == 200
    client.force_login(p.community)
    assert "王大妈" in client.get(f"/admin/needs/need/{need.pk}/change/").content.decode()


def test_a_provider_lands_on_its_inbox_and_reads_nothing_else(
    client, api, needs_people, volunteer, homes
):
    p = needs_people
    client.force_login(p.provider)
    landing = client.get("/")
    assert landing.status_code == 302 and landing["Location"] == "/needs/inbox/"
    for page in ("/overview/", "/incidents/", "/reports/", "/sensors/", "/screen/", "/field/"):
        assert client.get(page).status_code < 500, page
    reader = api(p.provider)
    for path in ("regions", "grids", "households", "residents", "units", "incidents", "tasks"):
        answer = reader.get(f"/api/{path}/")
        assert answer.status_code in (200, 403), path
        if answer.status_code == 200:
            body = answer.json()
            rows = body["results"] if isinstance(body, dict) and "results" in body else body
            rows = rows.get("features", rows) if isinstance(rows, dict) else rows
            assert rows == [], (path, body)
