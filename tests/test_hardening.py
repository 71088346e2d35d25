"""Findings of a review, held by tests: masks that cannot be undone, scoped admin choices,
keys that reveal nothing, imports that name every bad value."""

from __future__ import annotations

import pandas as pd
from django.test import Client

from grids.models import Grid
from grids.services.households import add_residents, create_household
from grids.services.imports import load_households
from tests.conftest import centre_of

RESIDENT = {
    "name": "李四",
    "id_number": "500118195603071234",
    "phone": "13812345678",
    "birth_date": "1956-03-07",
    "sex": "M",
}


def test_masked_roles_see_the_birth_year_only(users, homes, api):
    add_residents(homes[(1, 1, 1)], [RESIDENT])
    masked = api(users.district).get("/api/residents/").json()[0]
    assert masked["birth_date"] == "1956-**-**"
    assert masked["id_number"] == "5001**********1234"
    plain = api(users.worker).get("/api/residents/").json()[0]
    assert plain["birth_date"] == "1956-03-07"


def test_admin_choices_are_scoped(users, tree):
    users.community.is_staff = True
    users.community.save()
    client = Client()
    client.force_login(users.community)
    foreign = tree.communities[(2, 2)]
    before = Grid.objects.count()
    response = client.post(
        "/admin/grids/grid/add/",
        {
            "code": f"{foreign.code}009",
            "name": "越界网格",
            "community": foreign.pk,
            "theme": "governance",
            "colour": "blue",
            "valid_from": "2024-01-01",
            "boundary": '{"type": "Polygon", "coordinates": [[[105.96, 29.36], [105.97, 29.36], '
            "[105.97, 29.37], [105.96, 29.37], [105.96, 29.36]]]}",
        },
    )
    assert response.status_code == 200
    assert "community" in response.context["adminform"].form.errors
    assert Grid.objects.count() == before


def test_a_key_of_another_jurisdiction_is_a_conflict_not_a_leak(users, tree, api):
    create_household(
        address="别处户", location=centre_of(tree.grids[(2, 2, 2)]), client_key="phone-1"
    )
    point = centre_of(tree.grids[(1, 1, 1)])
    response = api(users.worker).post(
        "/api/households/",
        {"address": "本格户", "lon": point.x, "lat": point.y, "client_key": "phone-1"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "key_conflict"
    assert "别处户" not in response.content.decode()


def test_a_household_key_cannot_change(users, homes, api):
    home = homes[(1, 1, 1)]
    response = api(users.worker).patch(
        f"/api/households/{home.pk}/", {"client_key": "other"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "client_key"


def test_projected_coordinates_are_accepted_by_the_api(users, tree, api):
    from pyproj import Transformer

    point = centre_of(tree.grids[(1, 1, 1)])
    x, y = Transformer.from_crs(4326, 4545, always_xy=True).transform(point.x, point.y)
    response = api(users.worker).post(
        "/api/households/",
        {"address": "投影户", "lon": x, "lat": y, "crs": "EPSG:4545"},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_import_names_unreadable_dates_and_overlong_values(tree):
    point = centre_of(tree.grids[(1, 1, 1)])
    table = pd.DataFrame(
        {
            "row": [2, 3, 4],
            "address": ["甲", "乙" * 300, "丙"],
            "lon": [point.x] * 3,
            "lat": [point.y] * 3,
            "client_key": ["a", "b", "c" * 80],
            "registered_on": [pd.Timestamp("2099-01-01").date(), None, None],
        }
    )
    report = load_households(table, commit=True)
    problems = {(p.code, p.row, p.field) for p in report.errors}
    assert problems == {
        ("future_date", 2, "registered_on"),
        ("too_long", 3, "address"),
        ("too_long", 4, "client_key"),
    }
    assert report.written == 0
