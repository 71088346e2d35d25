"""Uploaded photos are served by the app with the scope of their incident (#15, item 5):
the reporter and the handler see them, anyone else gets the same 404, with caching headers
and the proxy hand-off as options."""

from __future__ import annotations

import io
import uuid

import pytest
from django.test import Client
from PIL import Image

from incidents.models import Incident, IncidentPhoto
from incidents.services.transitions import Step, take_step
from tests.conftest import centre_of


def image_file(name="photo.png") -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(data, "PNG")
    data.seek(0)
    data.name = name
    return data


def step(incident_id, user, action, **kwargs):
    version = Incident.objects.get(pk=incident_id).version
    return take_step(incident_id, Step(action=action, version=version, **kwargs), user=user)


@pytest.fixture
def photographed(tree, users, catalogue, api, settings, tmp_path):
    """An incident of grid 001001001 reported with a photo by its grid worker, escalated and
    dispatched to the department of `users.department`, which adds a photo of its own
    feedback. Returns (incident id, reporter's photo URL, the department's photo URL)."""
    settings.MEDIA_ROOT = tmp_path
    point = centre_of(tree.grids[(1, 1, 1)])
    made = api(users.worker).post(
        "/api/incidents/",
        {
            "title": "井盖缺失",
            "category": "T0101",
            "source": "patrol",
            "location": f'{{"type": "Point", "coordinates": [{point.x}, {point.y}]}}',
            "client_key": str(uuid.uuid4()),
            "photos": [image_file()],
        },
        format="multipart",
    )
    assert made.status_code == 201, made.json()
    incident_id = made.json()["id"]
    step(incident_id, users.worker, "escalate")
    step(incident_id, users.community, "dispatch", department="civil-affairs")
    added = api(users.department).post(
        f"/api/incidents/{incident_id}/photos/", {"photos": [image_file()]}, format="multipart"
    )
    assert added.status_code == 201, added.json()
    assert IncidentPhoto.objects.filter(incident=incident_id).count() == 2
    return incident_id, made.json()["photos"][0]["url"], added.json()[0]["url"]


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_reporter_and_the_handler_see_the_photos(photographed, users):
    _, reporter_url, handler_url = photographed
    assert reporter_url.startswith("/media/incidents/")
    for user in (users.worker, users.department, users.community, users.street, users.admin):
        for url in (reporter_url, handler_url):
            answer = browser(user).get(url)
            assert answer.status_code == 200, (user.username, url)
            body = b"".join(answer.streaming_content)
            assert Image.open(io.BytesIO(body)).size == (40, 30)
            assert answer["Content-Type"] == "image/png"
            # Shared office workstations: the browser asks again every time (decision in
            # grids/media.py); a positive GRIDLINE_MEDIA_MAX_AGE is tested below.
            assert answer["Cache-Control"] == "private, no-cache"
            assert answer["ETag"] and answer["Last-Modified"]


def test_out_of_scope_users_get_the_same_404_as_for_nothing(photographed, users, make_user, tree):
    _, reporter_url, handler_url = photographed
    other_street = make_user("street2", "street_centre", region=tree.streets[2])
    missing = reporter_url.rsplit("/", 1)[0] + "/" + uuid.uuid4().hex + ".png"
    for user in (users.other_worker, other_street):
        for url in (reporter_url, handler_url, missing):
            answer = browser(user).get(url)
            assert answer.status_code == 404, (user.username, url)
            assert b"incidents" not in answer.content


def test_anonymous_users_go_to_the_login_and_api_tokens_work(photographed, users):
    _, reporter_url, _ = photographed
    anonymous = browser().get(reporter_url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    # Apps fetch the photo URLs the API hands out with their API token.
    for user, expected in ((users.worker, 200), (users.other_worker, 404)):
        issued = Client().post(
            "/api/auth/token/", {"username": user.username, "password": "pw-" + user.username}
        )
        assert issued.status_code in (200, 201), issued.content
        token = issued.json()["token"]
        answer = Client(HTTP_AUTHORIZATION=f"Token {token}").get(reporter_url)
        assert answer.status_code == expected, user.username
    bad = Client(HTTP_AUTHORIZATION="Token not-a-token").get(reporter_url)
    assert bad.status_code == 401 and bad.json()["errors"][0]["code"] == "not_authenticated"


def test_paths_out_of_the_media_folder_are_refused(photographed, users, settings, tmp_path):
    _, reporter_url, _ = photographed
    folder = reporter_url.rsplit("/", 1)[0]
    # A file in MEDIA_ROOT that no record owns, and one beside MEDIA_ROOT.
    (tmp_path / "loose.txt").write_text("secret")
    (tmp_path.parent / "outside.txt").write_text("secret")
    client = browser(users.admin)
    for url in (
        "/media/loose.txt",
        "/media/incidents/../loose.txt",
        f"{folder}/../../loose.txt",
        "/media/../outside.txt",
        "/media/incidents/..%2f..%2foutside.txt",
        "/media//etc/passwd",
        "/media/%2Fetc%2Fpasswd",
        "/media/incidents/%00.png",
        "/media/incidents\\..\\loose.txt",
        f"{folder}/./x.png",
    ):
        answer = client.get(url)
        # A NUL byte is refused before any view (400, grids/limits.py); the rest are 404.
        assert answer.status_code == (400 if "%00" in url else 404), url
        assert b"secret" not in answer.content


def test_a_cached_copy_is_revalidated_with_304(photographed, users):
    _, reporter_url, _ = photographed
    client = browser(users.worker)
    first = client.get(reporter_url)
    etag, modified = first["ETag"], first["Last-Modified"]
    again = client.get(reporter_url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag
    assert again["Cache-Control"].startswith("private")
    since = client.get(reporter_url, HTTP_IF_MODIFIED_SINCE=modified)
    assert since.status_code == 304
    changed = client.get(reporter_url, HTTP_IF_NONE_MATCH='"something-else"')
    assert changed.status_code == 200
    # The scope check comes first: a validator does not tell an outsider the file exists.
    outsider = browser(users.other_worker).get(reporter_url, HTTP_IF_NONE_MATCH=etag)
    assert outsider.status_code == 404
    assert client.post(reporter_url).status_code == 405


@pytest.mark.parametrize("accel,header", [("nginx", "X-Accel-Redirect"), ("apache", "X-Sendfile")])
def test_a_proxy_in_front_sends_the_bytes(photographed, users, settings, accel, header):
    _, reporter_url, _ = photographed
    settings.GRIDLINE_MEDIA_ACCEL = accel
    answer = browser(users.worker).get(reporter_url)
    assert answer.status_code == 200 and answer.content == b""
    assert answer["Content-Type"] == "image/png"
    name = reporter_url.removeprefix("/media/")
    expected = f"/protected-media/{name}" if accel == "nginx" else f"{settings.MEDIA_ROOT}/{name}"
    assert answer[header] == expected
    assert browser(users.other_worker).get(reporter_url).status_code == 404


def test_a_positive_max_age_lets_the_browser_keep_a_photo(photographed, users, settings):
    settings.GRIDLINE_MEDIA_MAX_AGE = 600
    _, url, _ = photographed
    answer = browser(users.worker).get(url)
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "private, max-age=600"
