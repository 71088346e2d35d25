"""The one scoping rule (decision 4): a user's role and jurisdiction decide every queryset.

Every read path (API, admin, pages, exports, tiles) goes through the ``visible_to(user)``
methods of the QuerySets, which build their filters here. Objects outside the jurisdiction
are simply absent, so a fetch by id answers 404, never 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

if TYPE_CHECKING:
    from grids.models import Region

NOTHING = Q(pk__in=[])

# Roles whose work needs names, ID numbers and phones; everyone else sees them masked.
PERSONAL_DATA_ROLES = frozenset(
    {"grid_worker", "community_staff", "street_centre", "administrator"}
)
TREE_ROLES = frozenset({"community_staff", "street_centre", "district_centre"})


def sees_everything(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or getattr(user, "role", "") == "administrator")
    )


def jurisdiction_key(user) -> str:
    """A short key naming what the user sees: users with the same key see the same objects,
    so caches of scoped results (map tiles, the wall screen's figures) are shared under it.
    Every field a visible_to() rule reads is in it; a new scoping attribute goes here too."""
    if user.is_superuser:
        return "all"
    return f"{user.role}.{user.region_id or ''}.{user.grid_id or ''}.{user.department_id or ''}"


def sees_personal_data(user) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.role in PERSONAL_DATA_ROLES


def jurisdiction_region(user) -> Region | None:
    """The tree node a user works in; a department works across its district."""
    if user.role in TREE_ROLES:
        return user.region
    if user.role == "department" and user.department_id:
        return user.department.district
    return None


def user_district(user) -> int | None:
    """The id of the district a user works in, whatever their role."""
    if not (user.is_authenticated and user.is_active):
        return None
    if user.role == "department":
        return user.department.district_id if user.department_id else None
    if user.role == "grid_worker":
        return user.grid.community.parent.parent_id if user.grid_id else None
    return district_above(user.region)


def district_above(region: Region | None) -> int | None:
    """The id of the district a region is in (itself, if it is one)."""
    while region is not None and region.level != "district":
        region = region.parent
    return region.pk if region else None


def region_under_q(region: Region, prefix: str = "") -> Q:
    """The region itself and everything below it."""
    if region.level == "district":
        return (
            Q(**{f"{prefix}pk": region.pk})
            | Q(**{f"{prefix}parent": region.pk})
            | Q(**{f"{prefix}parent__parent": region.pk})
        )
    if region.level == "street":
        return Q(**{f"{prefix}pk": region.pk}) | Q(**{f"{prefix}parent": region.pk})
    return Q(**{f"{prefix}pk": region.pk})


def grid_under_q(region: Region, prefix: str = "") -> Q:
    path = {"district": "community__parent__parent", "street": "community__parent"}.get(
        region.level, "community"
    )
    return Q(**{f"{prefix}{path}": region.pk})


def region_q(user) -> Q:
    if not (user.is_authenticated and user.is_active):
        return NOTHING
    if sees_everything(user):
        return Q()
    region = jurisdiction_region(user)
    return region_under_q(region) if region else NOTHING


def grid_q(user, prefix: str = "") -> Q:
    if not (user.is_authenticated and user.is_active):
        return NOTHING
    if sees_everything(user):
        return Q()
    if user.role == "grid_worker":
        return Q(**{f"{prefix}pk": user.grid_id}) if user.grid_id else NOTHING
    region = jurisdiction_region(user)
    return grid_under_q(region, prefix) if region else NOTHING


def household_q(user, prefix: str = "") -> Q:
    """Households (and what hangs off them) a user may see.

    Departments see the tree and its statistics, not households. Households that fell in no
    grid are seen by the district centre, which clears them up, and by administrators.
    """
    if not (user.is_authenticated and user.is_active):
        return NOTHING
    if sees_everything(user):
        return Q()
    if user.role == "department":
        return NOTHING
    if user.role == "grid_worker":
        return Q(**{f"{prefix}grid": user.grid_id}) if user.grid_id else NOTHING
    region = jurisdiction_region(user)
    if region is None:
        return NOTHING
    q = grid_under_q(region, f"{prefix}grid__")
    if sees_unassigned(user):
        q |= Q(**{f"{prefix}grid__isnull": True})
    return q


def place_q(user, prefix: str = "") -> Q:
    """Buildings, units and standard addresses a user may see: the households' rule, except
    that a department sees its district's (places are what departments ask about; a unit's
    personal fields stay masked for it)."""
    if user.is_authenticated and user.is_active and user.role == "department":
        region = jurisdiction_region(user)
        return grid_under_q(region, f"{prefix}grid__") if region else NOTHING
    return household_q(user, prefix)


def address_q(user, prefix: str = "") -> Q:
    """Standard addresses: the places' rule, and those without a point (so in no grid) by the
    community their text names: a grid worker sees its grid's community's."""
    q = place_q(user, prefix)
    if not (user.is_authenticated and user.is_active) or sees_everything(user):
        return q
    unlocated = Q(**{f"{prefix}grid__isnull": True})
    if user.role == "grid_worker":
        if not user.grid_id:
            return q
        # The community by id, not a join to its grids: that would repeat every address.
        return q | (unlocated & Q(**{f"{prefix}community": user.grid.community_id}))
    region = jurisdiction_region(user)
    if region is None:
        return q
    return q | (unlocated & region_under_q(region, f"{prefix}community__"))


def sees_unassigned(user) -> bool:
    """Households in no grid belong to no jurisdiction below the district."""
    return sees_everything(user) or (user.is_authenticated and user.role == "district_centre")


def mask_name(value: str) -> str:
    return value[:1] + "*" * max(len(value) - 1, 1) if value else value


def mask_id_number(value: str) -> str:
    """5001**********1234: region prefix and last four kept, birth date hidden."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_birth_date(value) -> str:
    """The year only: with the full date beside a masked ID number, the hidden digits of the
    ID (which hold the birth date) could be rebuilt."""
    text = str(value or "")
    return f"{text[:4]}-**-**" if len(text) >= 4 else text


MASKS = {
    "name": mask_name,
    "id_number": mask_id_number,
    "phone": mask_phone,
    "birth_date": mask_birth_date,
}
