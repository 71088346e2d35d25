"""Fixtures of the field app (issue #18), on the `tree` and `users` of conftest:
`field_worker` is the grid worker of grid 500118001001001 with a registered phone (a Device
and its device token), `field_client` an APIClient that sends that token as the phone does."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from field.services import devices


@pytest.fixture
def field_worker(users):
    """users.worker (grid 500118001001001) with a phone: .user, .device, .token (the
    secret, as the phone keeps it)."""
    device, secret = devices.register(users.worker, "测试手机", user_agent="pytest")
    return SimpleNamespace(user=users.worker, device=device, token=secret)


def token_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


@pytest.fixture
def field_client(field_worker):
    """The field worker's phone: every request carries `Authorization: Token gl_…`."""
    return token_client(field_worker.token)
