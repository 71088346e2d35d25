"""The field app's shell as served (issue #18, CORE): the page has no user data and no inline
script, the service worker is served with its scope header and a precache list of this
deploy's (hashed) names, the manifest names the icons."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client
from django.utils.functional import empty

from field import views

pytestmark = pytest.mark.django_db


def worker_config(body: bytes) -> dict:
    first = body.decode().split("\n", 1)[0]
    assert first.startswith("self.FIELD_CONFIG = ")
    return json.loads(first.removeprefix("self.FIELD_CONFIG = ").rstrip(";"))


def test_shell_is_the_same_for_everyone_and_runs_no_inline_script(users):
    anonymous = Client().get("/field/")
    signed_in = Client()
    signed_in.force_login(users.worker)
    worker = signed_in.get("/field/")
    assert anonymous.status_code == worker.status_code == 200
    html = anonymous.content.decode()
    assert users.worker.username not in worker.content.decode()
    # Only module/classic scripts with a src, and the JSON config block (which does not run).
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "script-src 'self'" in anonymous["Content-Security-Policy"]
    assert 'lang="zh-hans"' in html and 'rel="manifest"' in html
    assert anonymous["Cache-Control"] == "no-cache"
    for sheet in ("field/field.css", "field/work.css", "field/base.css"):
        assert sheet in html


def test_service_worker_scope_and_precache_list():
    response = Client().get("/field/sw.js")
    assert response.status_code == 200
    assert response["Service-Worker-Allowed"] == "/field/"
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"]
    config = worker_config(response.content)
    precache = config["precache"]
    assert {"/field/", "/field/offline/", "/jsi18n/", "/static/field/app.js"} <= set(precache)
    # MapLibre is the map pack, kept after the first sync, not part of the shell.
    assert "/static/vendor/maplibre-gl/maplibre-gl.mjs" not in precache
    assert "/static/vendor/maplibre-gl/maplibre-gl.mjs" in config["mapPack"]
    assert not [u for u in precache if "-page." in u]
    assert "/static/field/sw.js" not in precache
    assert not [u for u in precache if u.endswith((".map", ".py"))]
    assert config["version"]


def test_precache_names_the_hashed_files_of_the_manifest(settings, tmp_path):
    """In production (the manifest storage) the list holds the hashed names: the worker keeps
    exactly the files the pages ask for, and a deploy that changes one changes sw.js."""
    shell, pack = views._static_names()
    names = shell + pack
    manifest = {"version": "1.1", "paths": {n: re.sub(r"(\.\w+)$", r".abc123\1", n) for n in names}}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    staticfiles_storage._wrapped = empty  # the lazy storage built again with these settings
    try:
        built = views._precache()
        assert "/static/field/app.abc123.js" in built["precache"]
        assert "/static/vendor/maplibre-gl/maplibre-gl.abc123.mjs" in built["mapPack"]
        listed = built["precache"] + built["mapPack"]
        assert not [u for u in listed if u.startswith("/static/") and ".abc123." not in u]
    finally:
        staticfiles_storage._wrapped = empty


def test_manifest_names_the_icons_and_the_scope():
    response = Client().get("/field/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    body = response.json()
    assert body["scope"] == "/field/" and body["start_url"].startswith("/field/")
    assert body["display"] == "standalone" and body["lang"] == "zh-CN"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in body["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in body["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon["src"]


def test_offline_page_is_chinese():
    response = Client().get("/field/offline/")
    assert response.status_code == 200
    assert "没有信号" in response.content.decode()
