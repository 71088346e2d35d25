"""The admin is scoped by the same rule as the API, and boundary edits go through versions."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from shapely.geometry import box

from grids.models import AuditLog, GridBoundary, Role
from grids.services.households import add_residents
from tests.conftest import Y0, Y1

RESIDENT = {
    "name": "张三丰",
    "id_number": "500118199001011234",
    "phone": "13812345678",
    "birth_date": "1990-01-01",
    "sex": "M",
}


@pytest.fixture
def admin_client():
    def login(user) -> Client:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        client = Client()
        client.force_login(user)
        return client

    return login


def test_household_changelist_is_scoped(users, homes, admin_client):
    page = admin_client(users.worker).get("/admin/grids/household/").content.decode()
    assert "地址(1, 1, 1)" in page
    assert "地址(2, 2, 2)" not in page
    page = admin_client(users.street).get("/admin/grids/household/").content.decode()
    assert "地址(1, 2, 2)" in page
    assert "地址(2, 1, 1)" not in page


def test_object_outside_jurisdiction_is_not_shown(users, homes, admin_client):
    client = admin_client(users.worker)
    other = homes[(2, 2, 2)]
    response = client.get(f"/admin/grids/household/{other.pk}/change/")
    assert response.status_code == 302  # the admin's "does not exist" redirect, never the page
    assert response.url == "/admin/"


def test_grid_worker_cannot_edit_grids(users, tree, admin_client):
    grid = tree.grids[(1, 1, 1)]
    client = admin_client(users.worker)
    page = client.get(f"/admin/grids/grid/{grid.pk}/change/").content.decode()
    assert 'name="boundary"' not in page  # read-only map, no editable field
    assert "boundary_map" in page
    before = GridBoundary.objects.count()
    response = client.post(f"/admin/grids/grid/{grid.pk}/change/", {"name": "x"})
    assert response.status_code == 403
    assert GridBoundary.objects.count() == before


def _grid_form(grid, geom) -> dict:
    return {
        "code": grid.code,
        "name": grid.name,
        "community": grid.community_id,
        "theme": grid.theme,
        "colour": grid.colour,
        "valid_from": grid.valid_from.isoformat(),
        "boundary": geom,
        "change_reason": "test",
    }


def test_admin_boundary_edit_opens_a_new_version(users, tree, admin_client):
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    client = admin_client(users.admin)
    # Shrinking a grid inside its community is allowed (it leaves a gap, not an overlap).
    x0, _, x1, _ = west.boundary_on().extent
    smaller = box(x0, Y0, (x0 + x1) / 2, (Y0 + Y1) / 2).__geo_interface__
    response = client.post(
        f"/admin/grids/grid/{west.pk}/change/", _grid_form(west, json.dumps(smaller))
    )
    errors = response.context["adminform"].form.errors if response.status_code == 200 else None
    assert response.status_code == 302, errors
    versions = GridBoundary.objects.filter(grid=west).order_by("valid_from", "pk")
    assert versions.count() == 2
    assert versions[0].valid_to is not None and versions[1].valid_to is None
    # Growing it over the neighbour is refused with a form error; nothing is written.
    ex0, _, ex1, _ = east.boundary_on().extent
    overlapping = box(x0, Y0, (ex0 + ex1) / 2, (Y0 + Y1) / 2).__geo_interface__
    response = client.post(
        f"/admin/grids/grid/{west.pk}/change/", _grid_form(west, json.dumps(overlapping))
    )
    assert response.status_code == 200
    assert "overlap" in response.content.decode()
    assert GridBoundary.objects.filter(grid=west).count() == 2


def test_residents_inline_masked_for_district_centre(users, homes, admin_client):
    home = homes[(1, 1, 1)]
    add_residents(home, [RESIDENT])
    page = admin_client(users.district).get(f"/admin/grids/household/{home.pk}/change/")
    text = page.content.decode()
    assert "5001**********1234" in text
    assert "500118199001011234" not in text
    assert not AuditLog.objects.filter(action="read_personal").exists()


def test_unmasked_admin_view_is_audited(users, homes, admin_client):
    home = homes[(1, 1, 1)]
    (resident,) = add_residents(home, [RESIDENT])
    assert users.worker.role == Role.GRID_WORKER
    text = admin_client(users.worker).get(f"/admin/grids/household/{home.pk}/change/")
    assert "500118199001011234" in text.content.decode()
    entry = AuditLog.objects.get(action="read_personal")
    assert entry.user == users.worker
    assert entry.object_ids == [resident.pk]
    assert entry.channel == "admin"


def test_incidents_in_the_admin_are_scoped_and_read_only(users, incident, admin_client):
    page = admin_client(users.street).get("/admin/incidents/incident/")
    assert page.status_code == 200 and "校车太挤" in page.content.decode()
    assert (
        "校车太挤"
        not in admin_client(users.department).get("/admin/incidents/incident/").content.decode()
    )
    detail = admin_client(users.street).get(f"/admin/incidents/incident/{incident.pk}/change/")
    assert detail.status_code == 200 and "report" in detail.content.decode()
    assert (
        admin_client(users.street)
        .post(f"/admin/incidents/incident/{incident.pk}/change/", {"title": "改"})
        .status_code
        == 403
    )
