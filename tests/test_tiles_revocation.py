"""Signed tile URLs that must stop working before they expire (review 1, H2 H3 M1 M9): the
fast path serves cached tiles without a session, so the record of who is revoked is in the
database, a user moved out of a jurisdiction loses that jurisdiction's URLs, and no signature
text makes it fail with a 500."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from grids.scoping import jurisdiction_key
from maps import fastpath
from maps.models import RevokedHolder
from maps.tiles import scope_key
from tests.test_map_style import client_of, tile_path, tilejson, wsgi_get
from tests.test_tiles import tile_of


def street_tile(user) -> str:
    """A grids tile URL of the user's, built and cached (so the fast path can serve it)."""
    client = client_of(user)
    path = tile_path(tilejson(client, "layers=grids")["tiles"][0], *tile_of(105.93, 29.33, 12))
    assert client.get(path).status_code == 200
    assert wsgi_get(path)[0] == "200 OK"
    return path


@pytest.mark.parametrize("sig", ["%C3%A9", "%ED%A0%80", "%FF%FE", "\xe9"])
def test_a_non_ascii_signature_is_refused_not_a_500(users, homes, sig):
    path = street_tile(users.street)
    head, _, _ = path.partition("&sig=")
    forged = f"{head}&sig={sig}"
    # Through the fast path (no session, before Django) and through Django itself.
    status, headers, body = wsgi_get(forged)
    assert status.startswith("403") and b"bad_signature" in body
    response = client_of(users.street).get(forged)
    assert response.status_code == 403
    assert response.json()["errors"][0] == {
        "code": "bad_signature",
        "message": response.json()["errors"][0]["message"],
        "field": "sig",
    }


def test_a_revocation_outlives_the_cache(users, homes, django_capture_on_commit_callbacks):
    path = street_tile(users.street)
    with django_capture_on_commit_callbacks(execute=True):
        users.street.is_active = False
        users.street.save()
    assert RevokedHolder.objects.filter(name=str(users.street.pk)).exists()
    # The cache evicts (allkeys-lru) or restarts empty; another process reads afresh.
    cache.clear()
    fastpath.REVOKED.forget()
    status, _, body = wsgi_get(path)
    assert status.startswith("403") and b"revoked" in body
    # A second revocation after the eviction keeps the first (no read-modify-write of one key).
    fastpath.revoke("k999")
    cache.clear()
    fastpath.REVOKED.forget()
    assert fastpath.revoked(f"{users.street.pk}") and fastpath.revoked("1.k999")
    with django_capture_on_commit_callbacks(execute=True):
        users.street.is_active = True
        users.street.save()
    assert wsgi_get(path)[0] == "200 OK"


def test_a_rolled_back_deactivation_revokes_nothing(users, homes):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        users.street.is_active = False
        users.street.save()
        raise RuntimeError("rolled back")
    assert not RevokedHolder.objects.exists()


def test_a_user_moved_elsewhere_loses_the_old_scopes_cached_tiles(
    users, homes, tree, django_capture_on_commit_callbacks
):
    street = users.street
    old_path = street_tile(street)
    old_scope = scope_key(street)
    with django_capture_on_commit_callbacks(execute=True):
        street.region = tree.streets[2]
        street.save()
    # The old URL still carries a valid signature, but names the scope the user left.
    status, _, body = wsgi_get(old_path)
    assert status.startswith("403") and b"revoked" in body
    assert RevokedHolder.objects.filter(name=f"{street.pk}@{old_scope}").exists()
    # The new scope's URLs work, from the fast path too.
    new_path = street_tile(street)
    assert new_path != old_path
    # Other users of the old scope are not touched.
    other = type(street).objects.create_user(
        "street-b", role="street_centre", region=tree.streets[1]
    )
    assert wsgi_get(street_tile(other))[0] == "200 OK"
    # Moved back: the old scope is theirs again.
    with django_capture_on_commit_callbacks(execute=True):
        street.region = tree.streets[1]
        street.save()
    assert wsgi_get(old_path)[0] == "200 OK"
    assert not RevokedHolder.objects.filter(name=f"{street.pk}@{old_scope}").exists()


def test_a_login_save_reads_nothing_more(users, django_assert_num_queries):
    # update_last_login saves only last_login: no scope can change, so no read of the old row.
    with django_assert_num_queries(1):
        users.street.save(update_fields=["last_login"])


def test_tiles_and_figures_share_one_jurisdiction_key_in_todays_format(users, tree):
    """Signed URLs and cached tiles hold this key: its format must stay as it was."""
    admin = users.admin
    admin.is_superuser = True
    assert scope_key(admin) == "all"
    assert scope_key(users.street) == f"street_centre.{tree.streets[1].pk}.."
    assert scope_key(users.worker) == f"grid_worker..{tree.grids[(1, 1, 1)].pk}."
    dept = users.department
    assert scope_key(dept) == f"department...{dept.department_id}"
    for user in vars(users).values():
        assert scope_key(user) == jurisdiction_key(user)
