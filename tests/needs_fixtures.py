"""Fixtures of the needs app (issue #20), on the `tree` and `users` of conftest: the 15
service kinds (a transactional test's flush empties what the migration seeded), a confirmed
volunteer serving community 500118001001 with one elderly-care offer and its account, and a
`raise_need` helper. A plugin of conftest (pytest_plugins); test modules import only the plain
helpers (add_provider, centre_of, need_in, photo, provider_in, refused,
send_dispatch)."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from grids.models import Role
from needs.catalogue import seed
from needs.models import (
    Need,
    NeedSource,
    Provider,
    ProviderKind,
    ProviderStatus,
    ServiceKind,
    ServiceOffer,
)
from needs.services import intake, review
from needs.services.errors import Refused

__all__ = [
    "add_provider",
    "centre_of",
    "need_in",
    "photo",
    "provider_in",
    "refused",
    "send_dispatch",
]


def centre_of(grid) -> Point:
    """A point surely inside the grid (conftest's helper, here for the modules that import
    this one's helpers)."""
    return grid.boundary_on().point_on_surface


def need_in(grid, kind, **fields) -> Need:
    """A need written straight to the table (no service steps), keyed to `grid`, its
    community and a point inside it: for indicators and layers that count rows."""
    return Need.objects.create(
        kind=kind, grid=grid, community=grid.community, location=centre_of(grid), **fields
    )


def provider_in(grid, kind, name: str, **fields) -> Provider:
    """A provider written straight to the table, living in `grid` (its community, a point
    inside it), with no offers or account: for indicators and layers that count rows."""
    return Provider.objects.create(
        kind=kind,
        name=name,
        community=grid.community,
        location=centre_of(grid),
        grid=grid,
        **fields,
    )


def send_dispatch(client, need, provider, version: int | None = None):
    """派单 through the API: `client` dispatches `need` (at its version unless given) to
    `provider`; the response as it came."""
    return client.post(
        f"/api/needs/{need.pk}/dispatch/",
        {"provider": provider.pk, "version": need.version if version is None else version},
        format="json",
    )


def photo(name="p.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def refused(code: str):
    """`with refused("code"):` — the block raises Refused with that code."""

    class Match:
        def __enter__(self):
            self.ctx = pytest.raises(Refused)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            swallowed = self.ctx.__exit__(*exc)
            assert self.info.value.code == code, self.info.value
            return swallowed

    return Match()


@pytest.fixture
def kinds(db):
    seed(ServiceKind)
    return {k.code: k for k in ServiceKind.objects.all()}


@pytest.fixture
def needs_people(users, make_user, tree):
    """conftest's users plus the staff of another community and two provider accounts."""
    return SimpleNamespace(
        **vars(users),
        other_community=make_user(
            "other_community", Role.COMMUNITY_STAFF, region=tree.communities[(2, 2)]
        ),
        provider=make_user("provider", Role.PROVIDER),
        other_provider=make_user("other_provider", Role.PROVIDER),
    )


def add_provider(
    community,
    user=None,
    *,
    location: Point | None,
    kind_code="elderly",
    status=ProviderStatus.CONFIRMED,
    capacity=1,
    radius_m=None,
    name="张志愿",
    provider_kind=ProviderKind.VOLUNTEER,
    area=None,
) -> Provider:
    provider = Provider.objects.create(
        kind=provider_kind,
        name=name,
        phone="13800000000",
        community=community,
        location=location,
        status=status,
    )
    if user is not None:
        provider.users.add(user)
    offer = ServiceOffer.objects.create(
        provider=provider,
        kind=ServiceKind.objects.get(code=kind_code),
        capacity=capacity,
        radius_m=radius_m,
    )
    offer.area.set(area or [community])
    return provider


@pytest.fixture
def volunteer(tree, needs_people, kinds):
    """A confirmed volunteer at the centre of grid 500118001001002, serving community
    500118001001 with elderly care (capacity 1); needs_people.provider acts for it."""
    return add_provider(
        tree.communities[(1, 1)],
        needs_people.provider,
        location=centre_of(tree.grids[(1, 1, 2)]),
    )


@pytest.fixture
def raise_need(tree, needs_people, kinds):
    """raise_need(**fields): a need raised by the grid worker of 500118001001001 at the
    centre of its grid (fields override: kind code, location, user, source ...)."""

    def make(
        user=None, *, source=NeedSource.GRID_WORKER, photos=(), grid=None, submitter="", **fields
    ):
        data = {
            "kind": "elderly",
            "title": "帮独居老人买菜",
            "description": "每周两次",
            "contact_name": "王大妈",
            "contact_phone": "13912345678",
            "location": centre_of(tree.grids[(1, 1, 1)]),
        } | fields
        raiser = user if user is not None or source == NeedSource.PUBLIC else needs_people.worker
        return intake.raise_need(
            raiser, data, photos, source=source, grid=grid, submitter=submitter
        )

    return make


@pytest.fixture
def accepted_need(raise_need, needs_people):
    need = raise_need()
    return review.accept(need, needs_people.community, need.version)
