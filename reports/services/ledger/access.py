"""Who keeps and who may reopen a unit's ledger, and the refusals of the ledger."""

from __future__ import annotations

from django.db.models import Q

from grids import scoping
from grids.models import Grid, Region, Role, User
from grids.problems import Problem, ProblemsError
from reports.services.values import RANK


class LedgerRefused(ProblemsError):
    """A ledger change that may not be made: 403 not yours, 409 locked or stale."""

    def __init__(self, code: str, message: str, field: str | None = None, status: int = 400):
        super().__init__([Problem(code, message, field=field)])
        self.status_code = status


def level_of(unit: Grid | Region) -> str:
    return "grid" if isinstance(unit, Grid) else unit.level


def district_of(unit: Grid | Region) -> int | None:
    return scoping.district_above(unit.community if isinstance(unit, Grid) else unit)


def unit_kwargs(unit: Grid | Region) -> dict:
    return (
        {"grid": unit, "region": None} if isinstance(unit, Grid) else {"grid": None, "region": unit}
    )


# ---- who ----------------------------------------------------------------------------------


def may_enter(user, unit: Grid | Region) -> bool:
    """A grid's own workers and its community's staff keep a grid's ledger; a community's or
    street's own staff keep theirs."""
    if scoping.sees_everything(user):
        return True
    if isinstance(unit, Grid):
        if user.role == Role.GRID_WORKER:
            return user.grid_id == unit.pk
        return user.role == Role.COMMUNITY_STAFF and user.region_id == unit.community_id
    return user.role in (Role.COMMUNITY_STAFF, Role.STREET_CENTRE) and user.region_id == unit.pk


def may_reopen(user, unit: Grid | Region) -> bool:
    """Any level of the tree above the unit, within its jurisdiction."""
    if scoping.sees_everything(user):
        return True
    if user.role not in scoping.TREE_ROLES or user.region is None:
        return False
    if RANK[user.region.level] <= RANK[level_of(unit)]:
        return False
    return Region.objects.filter(
        scoping.region_under_q(user.region),
        pk=unit.community_id if isinstance(unit, Grid) else unit.pk,
    ).exists()


def responsible_users(unit: Grid | Region):
    """Who is reminded to fill a unit's ledger."""
    if isinstance(unit, Grid):
        return User.objects.filter(is_active=True).filter(
            Q(role=Role.GRID_WORKER, grid=unit) | Q(pk__in=unit.workers.values("pk"))
        )
    role = Role.COMMUNITY_STAFF if unit.level == "community" else Role.STREET_CENTRE
    return User.objects.filter(is_active=True, role=role, region=unit)
