"""Accounts and sessions (issue #15, section 4): login throttling on every login door, API
tokens that expire and can be revoked, session lifetime, the production profile."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from grids.models import ApiToken
from grids.services import tokens

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.GRIDLINE_LOGIN_ADDRESS_LIMIT = 10
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    return settings


def page_login(password: str, username: str = "worker", address: str = "10.0.0.1", path=None):
    client = Client(REMOTE_ADDR=address)
    return client, client.post(
        path or "/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def token_login(password: str, username: str = "worker", address: str = "10.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/auth/token/", {"username": username, "password": password}, format="json"
    )


def assert_api_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status
    assert [e["code"] for e in body["errors"]] == [code]
    return body["errors"][0]


# ---------------------------------------------------------------- login throttling


def test_thirty_wrong_passwords_lock_the_login_page(users, limits):
    """The reproduction: 30 wrong passwords, then the right one, on /login/."""
    statuses = [page_login("wrong")[1].status_code for _ in range(30)]
    assert statuses[:4] == [200] * 4  # the form again, with its error
    assert set(statuses[4:]) == {429}
    client, response = page_login("pw-worker")
    assert response.status_code == 429
    page = response.content.decode()
    assert "登录失败次数过多" in page and "管理员" in page
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in client.session

    # An administrator unlocks the account; the right password then works.
    call_command("axes_reset_username", "worker")
    client, response = page_login("pw-worker")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(users.worker.pk)


def test_token_endpoint_locks_with_a_json_429(users, limits):
    for _ in range(4):
        assert_api_error(token_login("wrong"), 400, "authorization")
    response = token_login("wrong")
    error = assert_api_error(response, 429, "locked_out")
    assert "登录失败次数过多" in error["message"]
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    # The right password is refused too while the lock lasts, and issues no token.
    assert_api_error(token_login("pw-worker"), 429, "locked_out")
    assert not ApiToken.objects.exists()


def test_admin_login_is_throttled(users, limits):
    for _ in range(4):
        assert page_login("wrong", path="/admin/login/")[1].status_code == 200
    assert page_login("wrong", path="/admin/login/")[1].status_code == 429
    # One count for every door: the account is locked on the other ones too.
    assert token_login("pw-worker").status_code == 429


def test_an_account_locks_from_any_address(users, limits):
    for n in range(5):
        page_login("wrong", address=f"10.0.1.{n}")
    assert page_login("pw-worker", address="10.0.2.1")[1].status_code == 429
    # Other accounts are not affected.
    assert page_login("pw-street", username="street", address="10.0.2.1")[1].status_code == 302


def test_an_address_locks_for_every_account(users, limits):
    """One address guessing over many accounts (password spraying) locks at the address limit,
    which is higher than an account's (an office shares one NAT address)."""
    for n in range(9):
        assert page_login("wrong", username=f"nobody{n}")[1].status_code == 200
    assert page_login("wrong", username="nobody9")[1].status_code == 429
    assert page_login("pw-worker")[1].status_code == 429
    # From another address the account is fine.
    assert page_login("pw-worker", address="10.9.9.9")[1].status_code == 302


def test_lock_ends_after_the_cool_off(users, limits):
    for _ in range(5):
        page_login("wrong")
    assert page_login("pw-worker")[1].status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert page_login("pw-worker")[1].status_code == 302


def test_the_address_behind_a_proxy_is_the_one_the_proxy_saw(users, limits, settings):
    settings.GRIDLINE_TRUSTED_PROXIES = 1
    for n in range(10):
        # The client claims a new address each time; the proxy appends the real one.
        APIClient(REMOTE_ADDR="10.0.0.254").post(
            "/api/auth/token/",
            {"username": f"nobody{n}", "password": "x"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.7",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    response = APIClient(REMOTE_ADDR="10.0.0.254").post(
        "/api/auth/token/",
        {"username": "worker", "password": "pw-worker"},
        format="json",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )
    assert response.status_code == 429


# ---------------------------------------------------------------- API tokens


def obtain(username: str = "worker", **extra) -> dict:
    response = APIClient().post(
        "/api/auth/token/",
        {"username": username, "password": f"pw-{username}", **extra},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def as_token(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def refused(client: APIClient) -> bool:
    """The token is refused with the API's error (403, not 401: DRF answers with the status of
    the first authentication class, the session's, which sends no WWW-Authenticate)."""
    response = client.get("/api/me/")
    error = assert_api_error(response, response.status_code, "authentication_failed")
    return response.status_code in (401, 403) and "令牌" in error["message"]


def test_tokens_are_stored_hashed_and_expire(users, settings):
    settings.GRIDLINE_TOKEN_TTL_DAYS = 2
    issued = obtain(name="laptop")
    secret = issued["token"]
    assert issued["name"] == "laptop" and issued["kind"] == "api"
    token = ApiToken.objects.get(pk=issued["id"])
    assert secret not in {token.digest, token.prefix} and secret.startswith(token.prefix)
    assert token.digest == tokens.digest(secret)
    lifetime = token.expires_at - token.created_at
    assert lifetime == dt.timedelta(days=2)

    assert as_token(secret).get("/api/me/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    assert refused(as_token(secret))


def test_a_user_lists_and_revokes_their_own_tokens(users):
    laptop = obtain(name="laptop")
    script = obtain(name="script")
    other = obtain("street")
    client = as_token(laptop["token"])
    listed = client.get("/api/auth/tokens/").json()
    assert [t["name"] for t in listed] == ["script", "laptop"]
    assert all("token" not in t and "digest" not in t for t in listed)

    # Someone else's token is absent.
    assert_api_error(client.delete(f"/api/auth/tokens/{other['id']}/"), 404, "not_found")
    assert as_token(other["token"]).get("/api/me/").status_code == 200

    assert client.delete(f"/api/auth/tokens/{script['id']}/").status_code == 204
    assert refused(as_token(script["token"]))
    assert [t["name"] for t in client.get("/api/auth/tokens/").json()] == ["laptop"]
    assert ApiToken.objects.get(pk=script["id"]).revoked_at is not None  # kept, revoked


def test_api_logout_revokes_the_token_used(users):
    used, kept = obtain(), obtain()
    assert as_token(used["token"]).post("/api/auth/logout/").status_code == 204
    assert refused(as_token(used["token"]))
    assert as_token(kept["token"]).get("/api/me/").status_code == 200


def test_a_password_change_revokes_every_token(users):
    first, second = obtain(), obtain()
    other = obtain("street")
    users.worker.set_password("a-new-long-password")
    users.worker.save()
    for issued in (first, second):
        assert refused(as_token(issued["token"]))
    assert as_token(other["token"]).get("/api/me/").status_code == 200
    # An ordinary save (a renamed user) revokes nothing.
    fresh = obtain("street")
    users.street.first_name = "新名字"
    users.street.save()
    assert as_token(fresh["token"]).get("/api/me/").status_code == 200


def test_a_deactivated_users_tokens_stop_working(users):
    issued = obtain()
    users.worker.is_active = False
    users.worker.save()
    assert refused(as_token(issued["token"]))


def test_an_administrator_revokes_anyones_tokens(users):
    worker, street = obtain(), obtain("street")
    admin = users.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/grids/apitoken/")
    assert page.status_code == 200
    assert worker["prefix"] in page.content.decode()
    response = client.post(
        "/admin/grids/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [worker["id"], street["id"]]},
    )
    assert response.status_code == 302
    assert refused(as_token(worker["token"]))
    assert refused(as_token(street["token"]))


# ---------------------------------------------------------------- sessions and production


def test_sessions_end_with_the_browser_and_after_eight_hours(users):
    client, response = page_login("pw-worker")
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert not cookie["max-age"] and not cookie["expires"]  # a browser-session cookie
    assert client.session.get_expire_at_browser_close()
    assert client.session.get_expiry_age() == 8 * 3600


def test_production_profile_redirects_to_tls_and_sends_hsts(users, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    response = Client().get("/login/")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    assert client.get("/login/")["Strict-Transport-Security"].startswith("max-age=31536000")
    response = client.post("/login/", {"username": "worker", "password": "pw-worker"})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"]


def test_check_deploy_is_clean_in_the_production_profile():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GRIDLINE_", "PYTEST_"))
    }
    env |= {
        "GRIDLINE_PRODUCTION": "1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "gridline.example.gov.cn",
        "DATABASE_URL": os.environ.get("DATABASE_URL", ""),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output.upper(), output


def test_the_test_clients_login_is_not_throttled_nor_broken(users, limits):
    """authenticate() without a request (Django's test client, a shell) has no address to
    count: it is passed on to the password check instead of raising."""
    client = Client()
    assert client.login(username="worker", password="pw-worker")
    assert not Client().login(username="worker", password="wrong")


def test_static_authtoken_keys_are_carried_over_hashed(users):
    """Migration grids/0008: rest_framework.authtoken's clear keys become hashed, expiring
    tokens, and their table goes."""
    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("grids.migrations.0008_api_tokens")
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamptz NOT NULL, user_id bigint NOT NULL)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [key, users.worker.pk])
    with connection.schema_editor() as editor:
        migration.carry_over_static_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    token = ApiToken.objects.get(user=users.worker)
    assert token.digest == tokens.digest(key) and key not in (token.prefix, token.name)
    assert token.expires_at > timezone.now()
    assert as_token(key).get("/api/me/").json()["username"] == "worker"
