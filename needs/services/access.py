"""Who may take which step on a need or a provider (the contract's roles): reviewers are the
community staff, street and district centres over the need's community, and administrators;
grid workers raise and confirm in their grid; a provider's users act on its dispatches."""

from __future__ import annotations

from grids import scoping
from grids.models import Grid, Region, Role

REVIEWER_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.STREET_CENTRE, Role.DISTRICT_CENTRE})


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def covers(region: Region | None, community: Region) -> bool:
    """Whether `community` is the region itself or lies under it."""
    if region is None:
        return False
    if region.level == "community":
        return region.pk == community.pk
    if region.level == "street":
        return community.parent_id == region.pk
    if region.level == "district":
        return community.parent is not None and community.parent.parent_id == region.pk
    return False


def is_reviewer(user, community: Region) -> bool:
    """Review, dispatch, withdraw, confirm providers, edit the services list."""
    if not _active(user):
        return False
    if scoping.sees_everything(user):
        return True
    return user.role in REVIEWER_ROLES and covers(user.region, community)


def may_raise(user, grid: Grid) -> bool:
    if not _active(user):
        return False
    if user.role == Role.GRID_WORKER:
        return user.grid_id == grid.pk
    return is_reviewer(user, grid.community)


def may_confirm(user, need) -> bool:
    """The grid worker of the need's grid, or a reviewer."""
    if not _active(user):
        return False
    if user.role == Role.GRID_WORKER:
        return user.grid_id == need.grid_id
    return is_reviewer(user, need.community)


def acts_for_provider(user, provider) -> bool:
    """One of the provider's own accounts."""
    if not _active(user) or user.role != Role.PROVIDER:
        return False
    return provider.users.filter(pk=user.pk).exists()
