#!/usr/bin/python3
"""Load every collection of Gridline's OGC API – Features in QGIS and compare with the server.

Run with Debian's python3 and python3-qgis (QGIS 3.22 or later), not the project's virtualenv,
against a running server that accepts HTTP Basic (GRIDLINE_OGC_BASIC_AUTH=any on plain HTTP,
"tls" behind HTTPS):

    /usr/bin/python3 tools/qgis_check.py --url http://127.0.0.1:8000/ogc/ --user district
    (password from GRIDLINE_OGC_PASSWORD, else GRIDLINE_DEMO_PASSWORD, else the demo's)

`./gridline qgis-check` does that for the demo. For each collection listed at /collections it
opens a QgsVectorLayer with QGIS's own OAPIF provider (as the desktop's "Add WFS / OGC API –
Features layer" does), authenticated through a QGIS authentication configuration (Basic) in a
throw-away authentication database, reads every feature, and prints the id, validity, the
features QGIS read, the server's count (every page fetched with urllib), geometry type, CRS and
field names. Exit status 1 if any layer is invalid or a count differs, 2 if the server cannot
be read at all.

Why Basic: QGIS 3.22's OAPIF provider sends no custom header (`http-header:` in the URI is
ignored) and its authentication methods are Basic, PKI, identity certificates and Esri tokens.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PAGE = 1000


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url",
        default=os.environ.get("GRIDLINE_OGC_URL", "http://127.0.0.1:8000/ogc/"),
        help="the landing page (default $GRIDLINE_OGC_URL or http://127.0.0.1:8000/ogc/)",
    )
    parser.add_argument(
        "--user", default=os.environ.get("GRIDLINE_OGC_USER", "district"), help="login"
    )
    parser.add_argument(
        "--password",
        default=os.environ.get(
            "GRIDLINE_OGC_PASSWORD", os.environ.get("GRIDLINE_DEMO_PASSWORD", "gridline-demo")
        ),
        help="password (default $GRIDLINE_OGC_PASSWORD, $GRIDLINE_DEMO_PASSWORD, the demo's)",
    )
    parser.add_argument(
        "--only", action="append", default=[], help="check only this collection (repeatable)"
    )
    args = parser.parse_args(argv)
    if not args.url.endswith("/"):
        args.url += "/"
    return args


def fetch(url: str, authorization: str) -> dict:
    request = urllib.request.Request(
        url, headers={"Authorization": authorization, "Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


def server_count(items_url: str, authorization: str) -> int:
    """Every feature of a collection, page after page by the `next` links."""
    parts = urllib.parse.urlsplit(items_url)
    query = dict(urllib.parse.parse_qsl(parts.query)) | {"limit": str(PAGE)}
    url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    count, seen_urls = 0, set()
    while url:
        if url in seen_urls:
            raise RuntimeError(f"the next link loops: {url}")
        seen_urls.add(url)
        page = fetch(url, authorization)
        count += len(page["features"])
        url = next(
            (
                link["href"]
                for link in page.get("links", [])
                if link.get("rel") == "next"
                and link.get("type", "application/geo+json") == "application/geo+json"
            ),
            None,
        )
        if not page["features"]:
            break
    return count


def qgis_session(user: str, password: str):
    """QGIS offscreen with a Basic authentication configuration in a temporary auth DB."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Never the desktop user's own qgis-auth.db: a throw-away one with a random master password.
    os.environ["QGIS_AUTH_DB_DIR_PATH"] = tempfile.mkdtemp(prefix="gridline-qgis-auth-")
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="gridline-qgis-run-"))
    from qgis.core import QgsApplication, QgsAuthMethodConfig

    app = QgsApplication([], False)
    app.initQgis()
    manager = QgsApplication.authManager()
    if not manager.setMasterPassword(secrets.token_urlsafe(16), True):
        raise RuntimeError("QGIS refused the master password of the temporary auth database")
    config = QgsAuthMethodConfig()
    config.setName("Gridline")
    config.setMethod("Basic")
    config.setConfig("username", user)
    config.setConfig("password", password)
    stored = manager.storeAuthenticationConfig(config)
    if not (stored[0] if isinstance(stored, tuple) else stored):
        raise RuntimeError("QGIS did not store the authentication configuration")
    return app, config.id()


def check_layer(base_url: str, collection_id: str, authcfg: str) -> dict:
    from qgis.core import QgsVectorLayer, QgsWkbTypes

    started = time.monotonic()
    uri = f"url='{base_url}' typename='{collection_id}' authcfg={authcfg}"
    layer = QgsVectorLayer(uri, collection_id, "OAPIF")
    found = {"id": collection_id, "valid": layer.isValid()}
    if not layer.isValid():
        found["error"] = layer.error().summary() or "invalid layer"
        return found
    found["read"] = sum(1 for _feature in layer.getFeatures())
    # QGIS shows numberMatched as the count (0 when the server omits it on large collections).
    found["reported"] = layer.featureCount()
    found["geometry"] = QgsWkbTypes.displayString(layer.wkbType())
    found["crs"] = layer.crs().authid()
    found["fields"] = [field.name() for field in layer.fields()]
    found["seconds"] = round(time.monotonic() - started, 2)
    return found


def main(argv=None) -> int:
    args = arguments(argv)
    token = base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
    authorization = f"Basic {token}"
    try:
        listed = fetch(urllib.parse.urljoin(args.url, "collections"), authorization)
    except (urllib.error.URLError, OSError, ValueError) as error:
        print(f"cannot read {args.url}collections as {args.user}: {error}", file=sys.stderr)
        return 2
    collections = [c for c in listed["collections"] if not args.only or c["id"] in args.only]

    app, authcfg = qgis_session(args.user, args.password)
    from qgis.core import Qgis

    print(f"QGIS {Qgis.QGIS_VERSION}, server {args.url}, user {args.user}")
    failures = 0
    try:
        for collection in collections:
            cid = collection["id"]
            items = next(
                (
                    link["href"]
                    for link in collection.get("links", [])
                    if link.get("rel") == "items" and link.get("type") == "application/geo+json"
                ),
                urllib.parse.urljoin(args.url, f"collections/{cid}/items"),
            )
            expected = server_count(items, authorization)
            found = check_layer(args.url, cid, authcfg)
            ok = found["valid"] and found["read"] == expected
            failures += not ok
            if not found["valid"]:
                print(f"FAIL {cid}: invalid layer: {found['error']}")
                continue
            print(
                f"{'ok  ' if ok else 'FAIL'} {cid}: valid, QGIS read {found['read']} features"
                f" (server {expected}, QGIS featureCount {found['reported']}),"
                f" {found['geometry']}, {found['crs']}, {found['seconds']} s,"
                f" fields: {', '.join(found['fields'])}"
            )
    finally:
        app.exitQgis()
    print(f"{len(collections) - failures} of {len(collections)} collections loaded as served")
    return 1 if failures or not collections else 0


if __name__ == "__main__":
    sys.exit(main())
