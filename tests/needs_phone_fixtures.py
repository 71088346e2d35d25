"""Helpers of the needs phone tests (#20): a confirmed provider with an account and an offer,
and a need of grid (1, 1, 1) walked through the services to the state a test starts from."""

from __future__ import annotations

from types import SimpleNamespace

from grids.models import Role, User
from needs import catalogue
from needs.models import Dispatch, Need, ServiceKind
from needs.services import dispatch, intake, providers, review
from tests.conftest import centre_of

PASSWORD = "needs-phone-pw-1"


def seed_kinds() -> None:
    """The catalogue again after a transactional test's flush emptied the migration's seed."""
    catalogue.seed(ServiceKind)


def provider_with_account(tree, community_user, *, username="13800001111", kind="elderly"):
    """A confirmed volunteer of community (1, 1) at grid (1, 1, 1)'s centre, offering `kind`,
    with a provider account (`username`, PASSWORD)."""
    point = centre_of(tree.grids[(1, 1, 1)])
    provider = providers.create(
        community_user,
        {
            "kind": "volunteer",
            "name": "李志愿",
            "phone": username,
            "community": tree.communities[(1, 1)],
            "location": point,
            "offers": [{"kind": kind, "capacity": 5, "availability": "周末"}],
        },
    )
    user = User.objects.create_user(username=username, password=PASSWORD, role=Role.PROVIDER)
    provider.users.add(user)
    return SimpleNamespace(provider=provider, user=user, offer=provider.offers.get())


def need_at(tree, worker, *, title="独居老人需要送餐", kind="elderly", grid=(1, 1, 1)) -> Need:
    return intake.raise_need(
        worker,
        {
            "kind": kind,
            "title": title,
            "description": "每天中午一餐",
            "location": centre_of(tree.grids[grid]),
            "address": "测试路1号3单元502",
            "contact_name": "王大妈",
            "contact_phone": "13712345678",
        },
        source="grid_worker",
    )


def dispatched(need: Need, community_user, side) -> Dispatch:
    """The need accepted by the community and dispatched to `side`'s provider."""
    need = review.accept(need, community_user, need.version)
    return dispatch.send(need, side.provider, side.offer, community_user, need.version)


def reported(need: Need, community_user, side) -> Need:
    """Dispatched, taken and reported done by the provider: waiting for confirmation."""
    d = dispatched(need, community_user, side)
    d = dispatch.accept(d, side.user, d.version)
    dispatch.report(d, side.user, d.version, "送餐一周", "3.5")
    return Need.objects.get(pk=need.pk)
