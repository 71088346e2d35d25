"""Who receives an event: the visible_to rules of incidents and sensors, as a predicate
built once per connection from the user and checked per event against the keys the event
row carries (no query per event and user).

Mirrors `Incident.objects.visible_to` and `sensors.models.sensor_q`; tests/test_live_scope.py
checks each role against those querysets. Change them together.
"""

from __future__ import annotations

from dataclasses import dataclass

from grids import scoping

TREE_LEVELS = {"community": "community_id", "street": "street_id", "district": "district_id"}


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    grid: int | None = None  # a grid worker's grid
    level: str | None = None  # a tree role's region level: community | street | district
    region: int | None = None
    department: int | None = None
    department_district: int | None = None
    district_centre: bool = False

    def sees(self, event) -> bool:
        """`event` is a live.models.Event or anything with the same attributes."""
        if self.everything:
            return True
        if self.grid is not None:
            return event.grid_id == self.grid
        if self.department is not None:
            if self.department in event.departments:
                return True
            # A department sees the devices in the grids of its district (grid_q through
            # jurisdiction_region); incidents only through its own involvement.
            return (
                event.rule == "sensor"
                and event.grid_id is not None
                and self.department_district is not None
                and event.district_id == self.department_district
            )
        if self.level is not None:
            if event.rule == "sensor" and event.grid_id is None:
                # A device in no grid carries only its district: the district centre of that
                # district sees it (sensor_q's grid__isnull rule), no other tree role, even
                # one whose region is a district.
                return self.district_centre and event.district_id == self.region
            return getattr(event, TREE_LEVELS[self.level]) == self.region
        return False


NOBODY = Scope()


def scope_of(user) -> Scope:
    if not (user.is_authenticated and user.is_active):
        return NOBODY
    if scoping.sees_everything(user):
        return Scope(everything=True)
    role = getattr(user, "role", "")
    if role == "grid_worker":
        return Scope(grid=user.grid_id) if user.grid_id else NOBODY
    if role == "department":
        if not user.department_id:
            return NOBODY
        return Scope(
            department=user.department_id,
            department_district=user.department.district_id,
        )
    if role in scoping.TREE_ROLES and user.region_id:
        region = user.region
        if region.level not in TREE_LEVELS:
            return NOBODY
        return Scope(
            level=region.level,
            region=region.pk,
            district_centre=role == "district_centre",
        )
    return NOBODY
