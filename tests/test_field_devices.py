"""The field app's devices (issue #18): a grid worker's phone logs in once and gets a device
token; community staff (and above, in their jurisdiction) list and revoke devices; a revoked
phone is told to wipe its data on every /api/field/ endpoint and confirms it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from field.models import Device
from grids.models import ApiToken
from tests.field_fixtures import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.GRIDLINE_LOGIN_ADDRESS_LIMIT = 10
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    return settings


def login(username="worker", password="pw-worker", name="张三的手机", address="10.0.0.9"):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/field/devices/",
        {"username": username, "password": password, "name": name},
        format="json",
        HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) Mobile",
    )


def error_codes(response) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


# ---------------------------------------------------------------- login


def test_a_grid_worker_logs_a_phone_in(users, tree):
    response = login()
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"].startswith("gl_")
    assert body["device"]["name"] == "张三的手机"
    me = body["me"]
    assert me["username"] == "worker" and me["role"] == "grid_worker"
    assert me["sees_personal_data"] is True
    grid = me["grid"]
    assert grid["code"] == "500118001001001"
    assert grid["community"] == "社区11" and grid["street"] == "街道1"
    assert grid["boundary"]["type"] == "MultiPolygon"
    w, s, e, n = grid["bbox"]
    assert (w, s) == pytest.approx((105.90, 29.30)) and (e, n) == pytest.approx((105.925, 29.35))

    device = Device.objects.get()
    assert device.user == users.worker and device.user_agent.startswith("Mozilla/5.0")
    token = device.token
    assert token.kind == ApiToken.Kind.DEVICE
    # GRIDLINE_DEVICE_TOKEN_DAYS (180 by default), not the API tokens' 30.
    assert token.expires_at - token.created_at == dt.timedelta(days=180)
    # The token is a token of the API like any other.
    assert token_client(body["token"]).get("/api/auth/tokens/").status_code == 200


def test_wrong_password_is_refused_and_issues_nothing(users, limits):
    response = login(password="wrong")
    assert response.status_code == 400
    assert error_codes(response) == ["authorization"]
    assert not Device.objects.exists() and not ApiToken.objects.exists()


def test_wrong_passwords_lock_the_device_login_as_the_token_endpoint(users, limits):
    for _ in range(4):
        assert login(password="wrong").status_code == 400
    response = login(password="wrong")
    assert response.status_code == 429
    assert error_codes(response) == ["locked_out"]
    assert int(response["Retry-After"]) > 0
    # Locked: the right password is refused too, and one count serves every door.
    assert login().status_code == 429
    token = APIClient(REMOTE_ADDR="10.0.0.9").post(
        "/api/auth/token/", {"username": "worker", "password": "pw-worker"}, format="json"
    )
    assert token.status_code == 429
    assert not Device.objects.exists()


@pytest.mark.parametrize("who", ["community", "street", "district", "department", "admin"])
def test_other_roles_are_sent_to_the_main_site(users, who):
    response = login(username=who, password=f"pw-{who}")
    assert response.status_code == 403
    assert error_codes(response) == ["field_app_grid_workers_only"]
    assert "网格员" in response.json()["errors"][0]["message"]
    assert not Device.objects.exists()


def test_a_login_needs_a_name(users):
    response = APIClient().post(
        "/api/field/devices/", {"username": "worker", "password": "pw-worker"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "name"


# ---------------------------------------------------------------- list and revoke


def test_devices_are_listed_in_the_jurisdiction(users, field_worker, api, make_user, tree):
    other = make_user("far_worker", "grid_worker", grid=tree.grids[(2, 2, 2)])
    from field.services import devices

    devices.register(other, "远处的手机")

    def names(user):
        response = api(user).get("/api/field/devices/")
        assert response.status_code == 200
        return sorted(row["name"] for row in response.json())

    assert names(users.community) == ["测试手机"]
    assert names(users.street) == ["测试手机"]
    assert names(users.district) == ["测试手机", "远处的手机"]
    assert names(users.admin) == ["测试手机", "远处的手机"]
    assert names(users.worker) == ["测试手机"]
    assert names(users.other_worker) == []
    assert names(users.department) == []
    row = api(users.community).get("/api/field/devices/").json()[0]
    assert row["user"]["username"] == "worker" and row["last_sync_at"] is None
    assert set(row) >= {"id", "user", "name", "created_at", "last_sync_at", "revoked_at"}


def test_community_staff_revoke_a_device(users, field_worker, field_client, api):
    device = field_worker.device
    response = api(users.community).post(f"/api/field/devices/{device.pk}/revoke/")
    assert response.status_code == 200, response.content
    assert response.json()["revoked_at"] is not None
    device.refresh_from_db()
    assert device.revoked_by == users.community and device.revoked_at is not None
    assert device.token.revoked_at is not None


def test_revoking_out_of_scope_is_not_found(users, field_worker, api):
    device = field_worker.device
    for user in (users.other_worker, users.department):
        response = api(user).post(f"/api/field/devices/{device.pk}/revoke/")
        assert response.status_code == 404
    # Staff of another community.
    from grids.models import User

    far = User.objects.create_user(
        "far_staff", password="x", role="community_staff", region=users.street.region
    )
    far.region = far.region.children.get(code="500118001002")
    far.save()
    assert api(far).post(f"/api/field/devices/{device.pk}/revoke/").status_code == 404
    device.refresh_from_db()
    assert device.revoked_at is None


def test_revoke_needs_csrf_in_a_session(users, field_worker):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(users.community)
    response = client.post(f"/api/field/devices/{field_worker.device.pk}/revoke/")
    assert response.status_code == 403
    field_worker.device.refresh_from_db()
    assert field_worker.device.revoked_at is None


# ---------------------------------------------------------------- a revoked phone wipes


def assert_wipe(response, code: str) -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["wipe"] is True
    assert [e["code"] for e in body["errors"]] == [code]


def test_a_revoked_device_is_told_to_wipe_and_confirms(users, field_worker, field_client, api):
    api(users.community).post(f"/api/field/devices/{field_worker.device.pk}/revoke/")
    for path in ("/api/field/sync/", "/api/field/devices/"):
        response = field_client.get(path)
        assert_wipe(response, "device_revoked")
        assert "注销" in response.json()["errors"][0]["message"]
    assert field_client.post("/api/field/devices/wiped/").status_code == 204
    field_worker.device.refresh_from_db()
    assert field_worker.device.wiped_at is not None
    # The main API refuses the token as well.
    assert field_client.get("/api/auth/tokens/").status_code in (401, 403)


def test_logout_a_new_password_or_a_deactivated_user_also_wipe(users, field_worker):
    client = token_client(field_worker.token)
    assert client.post("/api/auth/logout/").status_code == 204
    assert_wipe(client.get("/api/field/sync/"), "device_revoked")

    from field.services import devices

    for change in ("password", "inactive"):
        _, secret = devices.register(users.worker, "新手机")
        client = token_client(secret)
        assert client.get("/api/field/sync/").status_code == 200
        user = users.worker
        if change == "password":
            user.set_password("a-new-one")
        else:
            user.is_active = False
        user.save()
        assert_wipe(client.get("/api/field/sync/"), "device_revoked")
        user.is_active = True
        user.save()


def test_an_expired_device_wipes_but_no_or_an_unknown_token_keeps_the_phones_work(
    users, field_worker
):
    ApiToken.objects.filter(pk=field_worker.device.token_id).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert_wipe(token_client(field_worker.token).get("/api/field/sync/"), "not_authenticated")
    # A proxy that drops the header, or a database restored without the token, must not make
    # the phone delete reports it has not sent: it asks for a login instead.
    for response in (
        token_client("gl_nothing").get("/api/field/sync/"),
        APIClient().get("/api/field/sync/"),
    ):
        assert response.status_code == 401
        assert response.json()["wipe"] is False
        assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_a_working_phone_cannot_claim_to_be_wiped(field_worker, field_client):
    assert field_client.post("/api/field/devices/wiped/").status_code == 404
    assert APIClient().post("/api/field/devices/wiped/").status_code == 404
    field_worker.device.refresh_from_db()
    assert field_worker.device.wiped_at is None


def test_a_pull_slides_the_token_and_records_the_sync(field_worker, field_client):
    token = field_worker.device.token
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + dt.timedelta(days=1))
    assert field_client.get("/api/field/sync/").status_code == 200
    token.refresh_from_db()
    field_worker.device.refresh_from_db()
    assert token.expires_at > timezone.now() + dt.timedelta(days=179)
    assert field_worker.device.last_sync_at is not None


def test_a_worker_moved_to_another_role_or_out_of_the_grid_is_told_to_wipe(
    users, field_worker, field_client
):
    # The account stays active (common when someone leaves the job): the phone still must
    # not keep the grid's residents.
    assert field_client.get("/api/field/sync/").status_code == 200
    worker = users.worker
    worker.role, worker.grid, worker.region = "community_staff", None, users.community.region
    worker.save()
    assert_wipe(field_client.get("/api/field/sync/"), "device_revoked")
    assert field_client.post("/api/field/devices/wiped/").status_code == 204


def test_a_persons_api_token_does_not_slide_on_a_pull(users, field_worker):
    from grids.services import tokens

    token, secret = tokens.issue(users.worker, "脚本")
    expires = token.expires_at
    assert token_client(secret).get("/api/field/sync/").status_code == 200
    token.refresh_from_db()
    assert token.expires_at == expires


# ---------------------------------------------------------------- the /field/devices/ page


def test_the_devices_page_lists_and_revokes_with_csrf(users, field_worker, client):
    from django.test import Client

    client.force_login(users.community)
    page = client.get("/field/devices/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "外勤设备" in text and "测试手机" in text and "注销" in text
    assert "从未同步" in text  # not synced yet

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users.community)
    path = f"/field/devices/{field_worker.device.pk}/revoke/"
    assert strict.post(path).status_code == 403  # no CSRF token
    field_worker.device.refresh_from_db()
    assert field_worker.device.revoked_at is None

    response = client.post(path, follow=True)
    assert response.redirect_chain[-1][0] == "/field/devices/"
    text = response.content.decode()
    assert "已注销" in text and "等待手机清除数据" in text
    field_worker.device.refresh_from_db()
    assert field_worker.device.revoked_by == users.community
    assert client.get(path).status_code == 405


def test_the_devices_page_is_for_staff_in_scope(users, field_worker, client):
    client.force_login(users.worker)
    assert client.get("/field/devices/").status_code == 403
    client.force_login(users.department)
    assert client.get("/field/devices/").status_code == 403
    client.force_login(users.other_worker)
    assert client.post(f"/field/devices/{field_worker.device.pk}/revoke/").status_code == 403
    # Staff of another street see nothing of it and cannot revoke it.
    from grids.models import User

    far = User.objects.create_user(
        "far_street", password="x", role="street_centre", region=users.street.region.parent
    )
    far.region = far.region.children.exclude(pk=users.street.region_id).get()
    far.save()
    client.force_login(far)
    assert "测试手机" not in client.get("/field/devices/").content.decode()
    assert client.post(f"/field/devices/{field_worker.device.pk}/revoke/").status_code == 404


def test_the_admin_lists_devices_and_revokes_them(users, field_worker, client):
    users.admin.is_staff = True
    users.admin.save()
    client.force_login(users.admin)
    listing = client.get("/admin/field/device/")
    assert listing.status_code == 200 and "测试手机" in listing.content.decode()
    response = client.post(
        "/admin/field/device/",
        {"action": "revoke", "_selected_action": [field_worker.device.pk]},
        follow=True,
    )
    assert response.status_code == 200
    field_worker.device.refresh_from_db()
    assert field_worker.device.revoked_at is not None
    assert field_worker.device.token.revoked_at is not None
