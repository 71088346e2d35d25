"""Our ES modules under the production static storage (config/storage.py, issue #16): their
relative imports are rewritten to the hashed names collectstatic writes, so a module a template
loads (hashed) and the same module imported by another is one module, run once; third-party
bundles are left as they are (rewriting their import()-like text failed collectstatic)."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command

PRODUCTION = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.storage.StaticStorage"},
}
IMPORT = re.compile(r"""(?:import|export)\b[^;]*?\bfrom\s*["']([./][^"']+)["']\s*;""", re.S)


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    from django.test.utils import override_settings

    root = tmp_path_factory.mktemp("static")
    with override_settings(STORAGES=PRODUCTION, STATIC_ROOT=root):
        call_command("collectstatic", "--noinput", verbosity=0)
    manifest = json.loads((root / "staticfiles.json").read_text())["paths"]
    return root, manifest


@pytest.mark.parametrize(
    "module",
    [
        "incidents/new.js",
        "incidents/queue.js",
        "incidents/detail.js",
        "reports/ledger.js",
        "boundaries/editor.js",
        "notifications/inbox.js",
        "ogc/map.js",
    ],
)
def test_relative_imports_point_at_hashed_files(collected, module):
    root, manifest = collected
    text = (root / manifest[module]).read_text()
    imports = IMPORT.findall(text)
    assert imports, module
    hashed = set(manifest.values())
    for url in imports:
        # Relative to the importing module's folder, as the browser resolves it.
        target = (
            (root / manifest[module]).parent.joinpath(url).resolve().relative_to(root.resolve())
        )
        assert str(target) in hashed, (module, url)


def test_third_party_bundles_are_left_as_they_are(collected):
    root, manifest = collected
    name = "vendor/echarts/extension/dataTool.js"
    if name not in manifest:
        pytest.skip("echarts' extension is not served")
    original = (root / name).read_bytes()
    assert (root / manifest[name]).read_bytes() == original
